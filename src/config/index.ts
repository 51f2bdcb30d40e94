/**
 * cygnet's configuration: strongSwan's swanctl.conf syntax and key names, typed.
 *
 *   const { config, warnings } = loadSwanctlConfig('/etc/swanctl/swanctl.conf', {
 *     readFile: (f) => fs.readFileSync(f, 'utf8'),
 *     listDir: (d) => fs.readdirSync(d),          // only needed for `include conf.d/*.conf`
 *   });
 *
 * Throws only ConfigError (with file, line, column; `errors` lists all problems found).
 */
export { ConfigError, isConfigError, type ConfigErrorCode, type ConfigWarning, type ConfigWarningCode, type SourceLocation } from './errors.js';
export {
  loadSettings,
  parseProblems,
  parseSettings,
  settingsFromObject,
  type SettingsObject,
  type ConfigIo,
  type ListDirFn,
  type ParseOptions,
  type ReadFileFn,
  type SettingsKey,
  type SettingsSection,
} from './parser.js';
export { buildSwanctlConfig, loadSwanctlConfig, parseSwanctlConfig, type BuildOptions, type LoadOptions, type LoadResult } from './build.js';
export { diffConfigs, canonical, type ConfigDiff, type ConnectionChange, type NameDiff } from './diff.js';
export * from './schema.js';
export type { AddressSpec, TrafficSelectorSpec } from './values.js';
export {
  parseAddressSpec,
  parseBool,
  parseBytes,
  parseDurationMs,
  parseDurationSeconds,
  parsePackets,
  parseSecret,
  parseTrafficSelector,
  ValueProblem,
} from './values.js';
export { formatIp, parseIp, parseSubnet, parseRange, type IpAddress, type IpFamily } from './ip.js';
export { addressText, DEFAULT_FRAGMENT_SIZE, toConfiguredTs, toCredentials, toIkeChild, toIkeConnection, toIkeConnections } from './ike-adapter.js';
export { cygnetProposalProblem } from './build.js';
export { convertIpsecConf, type ImportNote, type ImportOptions, type ImportResult } from './ipsec-conf/index.js';

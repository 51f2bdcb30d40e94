/**
 * `cygnet check [FILE]`: loads a configuration the way `cygnet daemon` would (the swanctl.conf, its includes,
 * the certificates and keys beside it, optionally strongswan.conf settings) and prints every error and warning
 * with file:line, all at once. It opens no socket and sends nothing.
 *
 * Default file: /etc/cygnet/swanctl.conf; `--swanctl` takes strongSwan's /etc/swanctl/swanctl.conf (taking over
 * from charon); `--ipsec-conf FILE` checks a legacy ipsec.conf through its conversion (`cygnet import`).
 *
 * Exit status: 0 the configuration loads (warnings allowed), 1 it does not, 2 usage.
 */
import { existsSync } from 'node:fs';
import { isConfigError, type ConfigError, type SwanctlConfig } from '../config/index.js';
import { loadDaemonConfig } from '../daemon/connections.js';
import { loadGlobalSettings } from '../daemon/settings.js';
import { parseArgs, UsageError } from './args.js';
import { importIpsecConf, secretsFor } from './import.js';

/** cygnet's own default, and strongSwan's (swanctl --load-all reads it) for `--swanctl`. */
export const DEFAULT_CONFIG = '/etc/cygnet/swanctl.conf';
export const SWANCTL_CONFIG = '/etc/swanctl/swanctl.conf';

/** The configuration file the daemon and check use when none is named. */
export function defaultConfigPath(swanctl: boolean): string {
  return swanctl ? SWANCTL_CONFIG : DEFAULT_CONFIG;
}

export const CHECK_USAGE = `usage: cygnet check [FILE] [--swanctl] [--ipsec-conf FILE [--secrets FILE]] [--settings FILE] [--quiet]
  FILE                swanctl.conf to check (default ${DEFAULT_CONFIG})
  --swanctl           check strongSwan's ${SWANCTL_CONFIG} (to take over from charon)
  --ipsec-conf FILE   check a legacy ipsec.conf (and its ipsec.secrets) through cygnet import's conversion
  --settings FILE     also check a strongswan.conf (charon.* settings)
  --quiet             print errors only
Loads everything the daemon would (includes, x509/, x509ca/, private/ beside the file) without touching the
network, and lists every error and warning with file:line. Exit status: 0 loads, 1 errors, 2 usage.`;

const SPEC = { swanctl: { flag: true }, 'ipsec-conf': {}, secrets: {}, settings: {}, quiet: { flag: true } } as const;

type Out = { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };

/**
 * A credential file that could not be loaded ("<path>: <why>"), at the line of the secrets section that gives its
 * passphrase when there is one (`secrets { private-gw { file = gw.pem ... } }`), so the fix is found where it is.
 */
export function credentialProblemAt(config: SwanctlConfig, problem: string): string {
  const path = problem.slice(0, problem.indexOf(': ') >= 0 ? problem.indexOf(': ') : problem.length);
  const base = path.split('/').pop();
  const k = config.secrets.keys.find((x) => x.file !== undefined && (x.file === path || x.file.split('/').pop() === base));
  return k !== undefined ? `${k.loc.file}:${k.loc.line}: secrets.${k.section}: ${problem}` : problem;
}

export async function runCheck(argv: readonly string[], out: Out = process): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.stdout.write(CHECK_USAGE + '\n');
    return 0;
  }
  const positional = argv.filter((a, i) => !a.startsWith('--') && !(i > 0 && ['--ipsec-conf', '--secrets', '--settings'].includes(argv[i - 1]!)));
  let opts: Map<string, string>;
  try {
    if (positional.length > 1) throw new UsageError(`one FILE at most (got ${positional.join(', ')})`);
    opts = parseArgs(argv.filter((a) => a !== positional[0]), SPEC);
    if (positional.length === 1 && (opts.has('swanctl') || opts.has('ipsec-conf'))) throw new UsageError('FILE, --swanctl and --ipsec-conf name the file three ways: give one');
  } catch (e) {
    if (e instanceof UsageError) {
      out.stderr.write(`cygnet check: ${e.message}\n${CHECK_USAGE}\n`);
      return 2;
    }
    throw e;
  }
  const quiet = opts.has('quiet');
  const errors: string[] = [];
  const warnings: string[] = [];
  const report = (e: ConfigError): void => {
    for (const x of e.errors) errors.push(x.message);
    for (const w of e.warnings) warnings.push(w.message);
  };

  const ipsecConf = opts.get('ipsec-conf');
  let file: string;
  if (ipsecConf !== undefined) {
    file = ipsecConf;
    try {
      const r = importIpsecConf(ipsecConf, secretsFor(ipsecConf, opts.get('secrets')));
      for (const n of r.notes) warnings.push(`${n.loc.file}:${n.loc.line}: ${n.what}: not carried: ${n.why}`);
      const { parseSwanctlConfig } = await import('../config/index.js');
      const loaded = parseSwanctlConfig(r.text, `${ipsecConf} (converted)`);
      for (const w of loaded.warnings) warnings.push(w.message);
    } catch (e) {
      if (!isConfigError(e)) throw e;
      report(e);
    }
  } else {
    file = positional[0] ?? defaultConfigPath(opts.has('swanctl'));
    if (!existsSync(file)) {
      errors.push(`${file}: no such file${positional[0] === undefined ? ` (the default; name one: cygnet check FILE${opts.has('swanctl') ? '' : ', or --swanctl for ' + SWANCTL_CONFIG})` : ''}`);
    } else {
      try {
        const loaded = loadDaemonConfig(file);
        for (const w of loaded.warnings) warnings.push(w.message);
        for (const p of loaded.daemon.credentialProblems) warnings.push(`credential not loaded: ${credentialProblemAt(loaded.config, p)}`);
      } catch (e) {
        if (!isConfigError(e)) throw e;
        report(e);
      }
    }
  }
  const settings = opts.get('settings');
  if (settings !== undefined) {
    try {
      const s = loadGlobalSettings(settings);
      if (!quiet) for (const { key, loc } of s.ignored) warnings.push(`${loc.file}:${loc.line}: ${key}: not used by cygnet, ignored`);
    } catch (e) {
      if (!isConfigError(e)) throw e;
      report(e);
    }
  }

  if (!quiet) for (const w of warnings) out.stdout.write(`warning: ${w}\n`);
  for (const e of errors) out.stdout.write(`error: ${e}\n`);
  const summary = `${file}: ${errors.length} error${errors.length === 1 ? '' : 's'}, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}`;
  (errors.length > 0 ? out.stderr : out.stdout).write(`${errors.length > 0 ? summary : `${summary}: configuration OK`}\n`);
  return errors.length > 0 ? 1 : 0;
}

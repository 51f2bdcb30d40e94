/**
 * swanctl.conf (the typed config of src/config) -> what the daemon runs: the IKE endpoint's connections and
 * PSK credentials (through src/config/ike-adapter.ts), plus which children start at startup or wait for traffic.
 *
 * Where cygnet differs from strongSwan (the config layer applies these defaults):
 * - `encap` defaults to yes. cygnet's ESP runs in userspace and has no raw socket for IP protocol 50, so ESP can
 *   only ride UDP (RFC 3948); the endpoint forces encapsulation as strongSwan's `encap = yes` does (a NAT-D hash
 *   that cannot match). With an explicit `encap = no` CHILD SAs carry traffic only when a real NAT is detected:
 *   `encapWarnings` says so at startup.
 * - `replay_window` defaults to 1024 instead of the kernel's 32.
 * - `start_action = trap|start` is both: the trap policy is installed and the SA initiated at startup.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Credentials, IkeConnectionConfig } from '../ike/config.js';
import {
  buildSwanctlConfig,
  loadSettings,
  settingsFromObject,
  toCredentials,
  toIkeConnections,
  type ConfigWarning,
  type SettingsObject,
  type SettingsSection,
  type SwanctlConfig,
} from '../config/index.js';
import { toIkePools, toEapSecrets } from '../config/ike-adapter.js';
import type { AddressPoolConfig } from '../ike/pool.js';
import type { EapSecretLookup } from '../eap/index.js';
import { loadDaemonCredentials, type DaemonCredentials, type ExtraCredentials } from './credentials.js';

/**
 * Configuration loaded over vici (swanctl --load-all, src/vici/store.ts): swanctl.conf's tree (connections,
 * secrets, pools, authorities) merged over the file's, and the credentials that came with it.
 */
export interface ExtraConfig {
  readonly tree: SettingsObject;
  readonly credentials: ExtraCredentials;
}

export interface ChildRef {
  readonly conn: string;
  readonly child: string;
}

export interface DaemonConfig {
  readonly connections: IkeConnectionConfig[];
  readonly credentials: Credentials;
  /** Children whose start_action includes `start`: initiated when the daemon starts. */
  readonly startChildren: ChildRef[];
  /** Children whose start_action includes `trap`: a policy that initiates on the first matching packet. */
  readonly trapChildren: ChildRef[];
  /** Virtual IP pools (swanctl `pools`). */
  readonly pools: AddressPoolConfig[];
  /** Files under x509/, x509ca/, x509crl/, private/ that could not be loaded. */
  readonly credentialProblems: readonly string[];
  /** Child `updown` scripts by `conn/child` (updown.ts). */
  readonly updown?: ReadonlyMap<string, string>;
  /** eap-/ntlm- user secrets for EAP in IKE_AUTH (RFC 7296 2.16). */
  readonly eapSecrets?: EapSecretLookup;
  /** Connections with `encap = tcp|tcp-fallback` (RFC 9329 TCP encapsulation, tcp-encap-net.ts), by name. */
  readonly tcpEncap?: ReadonlyMap<string, 'tcp' | 'tcp-fallback'>;
}

/**
 * Throws ConfigError (file:line) for what the IKE endpoint cannot represent. `creds`: certificates and keys loaded
 * from beside the configuration file (needed when a connection uses `auth = pubkey`).
 */
export function toDaemonConfig(cfg: SwanctlConfig, creds?: DaemonCredentials): DaemonConfig {
  const startChildren: ChildRef[] = [];
  const trapChildren: ChildRef[] = [];
  const updown = new Map<string, string>();
  const tcpEncap = new Map<string, 'tcp' | 'tcp-fallback'>();
  for (const c of cfg.connections.values()) {
    if (c.encap_transport !== 'udp') tcpEncap.set(c.name, c.encap_transport);
    for (const ch of c.children.values()) {
      if (ch.updown) updown.set(`${c.name}/${ch.name}`, ch.updown);
      if (ch.start_action === 'start' || ch.start_action === 'trap|start') startChildren.push({ conn: c.name, child: ch.name });
      if (ch.start_action === 'trap' || ch.start_action === 'trap|start') trapChildren.push({ conn: c.name, child: ch.name });
    }
  }
  return {
    connections: toIkeConnections(cfg, creds?.resolver),
    credentials: toCredentials(cfg.secrets, creds?.pki),
    eapSecrets: toEapSecrets(cfg.secrets),
    startChildren,
    trapChildren,
    pools: toIkePools(cfg),
    credentialProblems: creds?.problems ?? [],
    updown,
    tcpEncap,
  };
}

/** Startup notes for connections with `encap = no` (see the file comment). */
export function encapWarnings(cfg: SwanctlConfig): string[] {
  return [...cfg.connections.values()]
    .filter((c) => !c.encap)
    .map((c) => `${c.loc.file}:${c.loc.line}: connections.${c.name}: encap = no: cygnet's userspace ESP needs UDP encapsulation (RFC 3948); its CHILD SAs carry traffic only when a NAT is detected`);
}

/**
 * Loads FILE (swanctl.conf syntax, includes relative to it) and maps it. Throws only ConfigError, naming
 * file:line and the expected form. `extra` (what vici clients loaded) is merged into the file's tree before the
 * one build, so vici connections are read by exactly the code that reads the file, may use its pools and secrets,
 * and replace a file connection of the same name. Its errors name `vici` as the file.
 */
export function loadDaemonConfig(path: string, extra?: ExtraConfig): { daemon: DaemonConfig; config: SwanctlConfig; warnings: readonly ConfigWarning[] } {
  const root = loadSettings(path, { readFile: (f) => readFileSync(f, 'utf8'), listDir: (d) => readdirSync(d) });
  if (extra) mergeSections(root, settingsFromObject(extra.tree, 'vici'));
  const { config, warnings } = buildSwanctlConfig(root);
  const usesCerts = [...config.connections.values()].some((c) => [...c.local, ...c.remote].some((r) => r.auth.class === 'pubkey'));
  const passphrases = Object.fromEntries(config.secrets.keys.map((k) => [k.file, k.secret] as const).filter(([f]) => f !== undefined)) as Record<string, string>;
  const viciCreds = extra && (extra.credentials.certs.length + extra.credentials.cas.length + extra.credentials.crls.length + extra.credentials.keys.length > 0) ? extra.credentials : undefined;
  const creds = usesCerts || viciCreds ? loadDaemonCredentials(path, passphrases, extra?.credentials) : undefined;
  return { daemon: toDaemonConfig(config, creds), config, warnings };
}

/** Top-level sections of `add` into `root`: each named entry (a connection, a pool...) replaces the file's. */
function mergeSections(root: SettingsSection, add: SettingsSection): void {
  for (const [name, sec] of add.sections) {
    const target = root.sections.get(name);
    if (!target) {
      root.sections.set(name, sec);
      continue;
    }
    for (const [sub, s] of sec.sections) target.sections.set(sub, s);
    for (const [k, v] of sec.keys) target.keys.set(k, v);
  }
}

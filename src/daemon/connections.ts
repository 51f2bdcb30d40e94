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
import { loadSwanctlConfig, toCredentials, toIkeConnections, type ConfigWarning, type SwanctlConfig } from '../config/index.js';
import { toIkePools } from '../config/ike-adapter.js';
import type { AddressPoolConfig } from '../ike/pool.js';
import { loadDaemonCredentials, type DaemonCredentials } from './credentials.js';

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
}

/**
 * Throws ConfigError (file:line) for what the IKE endpoint cannot represent. `creds`: certificates and keys loaded
 * from beside the configuration file (needed when a connection uses `auth = pubkey`).
 */
export function toDaemonConfig(cfg: SwanctlConfig, creds?: DaemonCredentials): DaemonConfig {
  const startChildren: ChildRef[] = [];
  const trapChildren: ChildRef[] = [];
  for (const c of cfg.connections.values())
    for (const ch of c.children.values()) {
      if (ch.start_action === 'start' || ch.start_action === 'trap|start') startChildren.push({ conn: c.name, child: ch.name });
      if (ch.start_action === 'trap' || ch.start_action === 'trap|start') trapChildren.push({ conn: c.name, child: ch.name });
    }
  return {
    connections: toIkeConnections(cfg, creds?.resolver),
    credentials: toCredentials(cfg.secrets, creds?.pki),
    startChildren,
    trapChildren,
    pools: toIkePools(cfg),
    credentialProblems: creds?.problems ?? [],
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
 * file:line and the expected form.
 */
export function loadDaemonConfig(path: string): { daemon: DaemonConfig; config: SwanctlConfig; warnings: readonly ConfigWarning[] } {
  const { config, warnings } = loadSwanctlConfig(path, { readFile: (f) => readFileSync(f, 'utf8'), listDir: (d) => readdirSync(d) });
  const usesCerts = [...config.connections.values()].some((c) => [...c.local, ...c.remote].some((r) => r.auth.class === 'pubkey'));
  const passphrases = Object.fromEntries(config.secrets.keys.map((k) => [k.file, k.secret] as const).filter(([f]) => f !== undefined)) as Record<string, string>;
  const creds = usesCerts ? loadDaemonCredentials(path, passphrases) : undefined;
  return { daemon: toDaemonConfig(config, creds), config, warnings };
}

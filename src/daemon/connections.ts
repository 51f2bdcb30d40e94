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
}

/** Throws ConfigError (file:line) for what the IKE endpoint cannot represent. */
export function toDaemonConfig(cfg: SwanctlConfig): DaemonConfig {
  const startChildren: ChildRef[] = [];
  const trapChildren: ChildRef[] = [];
  for (const c of cfg.connections.values())
    for (const ch of c.children.values()) {
      if (ch.start_action === 'start' || ch.start_action === 'trap|start') startChildren.push({ conn: c.name, child: ch.name });
      if (ch.start_action === 'trap' || ch.start_action === 'trap|start') trapChildren.push({ conn: c.name, child: ch.name });
    }
  return { connections: toIkeConnections(cfg), credentials: toCredentials(cfg.secrets), startChildren, trapChildren };
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
  return { daemon: toDaemonConfig(config), config, warnings };
}

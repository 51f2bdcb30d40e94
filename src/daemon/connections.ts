/**
 * swanctl.conf (the typed config of src/config) -> what the IKE endpoint runs: `IkeConnectionConfig[]` and
 * `Credentials`. The config layer already applied strongSwan's documented defaults (swanctl.conf(5)); this file
 * only changes representation, plus the places where cygnet deliberately differs from strongSwan:
 *
 * - `encap` is always true. cygnet's ESP runs in userspace and has no raw socket for IP protocol 50, so ESP can
 *   only ride UDP (RFC 3948). The endpoint forces encapsulation as strongSwan's `encap = yes` does (a NAT-D hash
 *   that cannot match), whatever the file says; strongSwan's default is `encap = no`.
 * - `replay_window` defaults to 1024 (CYGNET_REPLAY_WINDOW) instead of the kernel's 32.
 * - `start_action = trap|start` is both: the trap policy is installed and the SA initiated at startup.
 *
 * Anything the endpoint cannot represent (EAP/XAUTH rounds, multiple authentication rounds) is a ConfigError
 * with the file:line of the offending section: nothing starts half-configured.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseProposal, parseProposals } from '../crypto/proposals.js';
import type { AuthConfig, ChildConfig, Credentials, IkeConnectionConfig } from '../ike/config.js';
import { pskCredentials } from '../ike/config-builder.js';
import { ANY_IDENTITY, parseIdentity, type Identity } from '../ike/identity.js';
import { TS_IPV4_ADDR_RANGE, TS_IPV6_ADDR_RANGE, type ConfiguredTs } from '../ike/traffic-selector.js';
import { ConfigError, loadSwanctlConfig, type AddressSpec, type ConfigWarning, type AuthRound, type SwanctlConfig, type TrafficSelectorSpec } from '../config/index.js';
import type * as schema from '../config/schema.js';

/** strongSwan's charon.fragment_size default (bytes of an IKE datagram before RFC 7383 fragmentation). */
export const DEFAULT_FRAGMENT_SIZE = 1280;

export interface DaemonConfig {
  readonly connections: IkeConnectionConfig[];
  readonly credentials: Credentials;
  /** Connection/child pairs whose start_action includes `start`: initiated when the daemon starts. */
  readonly startChildren: { readonly conn: string; readonly child: string }[];
  /** Connection/child pairs whose start_action includes `trap`: on-demand (issue 7; policies only for now). */
  readonly trapChildren: { readonly conn: string; readonly child: string }[];
}

/** A `validateProposal` for loadSwanctlConfig: proposal strings are checked against cygnet's algorithms at load. */
export function validateProposal(proposal: string, protocol: 'ike' | 'esp'): string | undefined {
  try {
    parseProposal(proposal, protocol);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export function toDaemonConfig(cfg: SwanctlConfig): DaemonConfig {
  const errors: ConfigError[] = [];
  const connections: IkeConnectionConfig[] = [];
  const startChildren: { conn: string; child: string }[] = [];
  const trapChildren: { conn: string; child: string }[] = [];
  for (const c of cfg.connections.values()) {
    try {
      connections.push(toConnection(c));
      for (const ch of c.children.values()) {
        if (ch.start_action === 'start' || ch.start_action === 'trap|start') startChildren.push({ conn: c.name, child: ch.name });
        if (ch.start_action === 'trap' || ch.start_action === 'trap|start') trapChildren.push({ conn: c.name, child: ch.name });
      }
    } catch (e) {
      if (e instanceof ConfigError) errors.push(...e.errors);
      else errors.push(new ConfigError('INVALID_VALUE', c.loc, `connections.${c.name}: ${e instanceof Error ? e.message : String(e)}`));
    }
  }
  if (errors.length > 0) throw ConfigError.combine(errors);
  const credentials = pskCredentials(cfg.secrets.ike.map((s) => ({ ids: s.ids, secret: s.secret })));
  return { connections, credentials, startChildren, trapChildren };
}

export function toConnection(c: schema.ConnectionConfig): IkeConnectionConfig {
  const where = `connections.${c.name}`;
  return {
    name: c.name,
    localAddrs: c.local_addrs.map(addressText),
    remoteAddrs: c.remote_addrs.map(addressText),
    localPort: c.local_port,
    remotePort: c.remote_port,
    proposals: wrap(c.loc, where + '.proposals', () => parseProposals(c.proposals.join(','), 'ike')),
    local: authConfig(c.local, `${where}.local`, c.loc),
    remote: authConfig(c.remote, `${where}.remote`, c.loc),
    children: [...c.children.values()].map((ch) => toChild(ch, `${where}.children.${ch.name}`)),
    // Userspace ESP can only ride UDP (see the file comment): encapsulation is forced.
    encap: true,
    fragmentation: c.fragmentation !== 'no',
    fragmentSize: DEFAULT_FRAGMENT_SIZE,
    dpdDelayMs: c.dpd_delay,
    rekeyTimeMs: c.rekey_time,
    reauthTimeMs: c.reauth_time,
    overTimeMs: c.over_time,
    randTimeMs: c.rand_time,
    keyingTries: c.keyingtries,
    unique: c.unique,
    vips: c.vips.map((v) => v.text),
    pools: [...c.pools],
  };
}

export function toChild(ch: schema.ChildConfig, where: string): ChildConfig {
  const startAction = ch.start_action === 'trap|start' ? 'start' : ch.start_action;
  return {
    name: ch.name,
    localTs: ch.local_ts.map(toConfiguredTs),
    remoteTs: ch.remote_ts.map(toConfiguredTs),
    espProposals: wrap(ch.loc, where + '.esp_proposals', () => parseProposals(ch.esp_proposals.join(','), 'esp')),
    mode: 'tunnel',
    startAction,
    dpdAction: ch.dpd_action,
    closeAction: ch.close_action,
    rekeyTimeMs: ch.rekey_time,
    lifeTimeMs: ch.life_time,
    randTimeMs: ch.rand_time,
    rekeyBytes: ch.rekey_bytes,
    lifeBytes: ch.life_bytes,
    rekeyPackets: ch.rekey_packets,
    lifePackets: ch.life_packets,
    replayWindow: ch.replay_window,
  };
}

/** local_addrs/remote_addrs entries in the text form the endpoint's address matcher reads. */
export function addressText(a: AddressSpec): string {
  switch (a.kind) {
    case 'any':
      return a.family === 4 ? '%any4' : a.family === 6 ? '%any6' : '%any';
    case 'ip':
      return a.address.text;
    case 'subnet':
      return `${a.network.text}/${a.prefix}`;
    case 'range':
      return `${a.first.text}-${a.last.text}`;
    case 'fqdn':
      return a.name;
  }
}

export function toConfiguredTs(t: TrafficSelectorSpec): ConfiguredTs {
  if (t.kind === 'dynamic') return { dynamic: true, ipProtocol: t.protocol, startPort: t.fromPort, endPort: t.toPort };
  const first = t.first;
  const last = t.last;
  if (!first || !last) throw new Error(`traffic selector '${t.text}' has no address range`);
  return {
    tsType: first.family === 4 ? TS_IPV4_ADDR_RANGE : TS_IPV6_ADDR_RANGE,
    ipProtocol: t.protocol,
    startPort: t.fromPort,
    endPort: t.toPort,
    startAddr: first.bytes,
    endAddr: last.bytes,
  };
}

function authConfig(rounds: readonly AuthRound[], where: string, connLoc: ConstructorParameters<typeof ConfigError>[1]): AuthConfig {
  const r = rounds[0];
  if (!r) return { method: 'psk', id: ANY_IDENTITY };
  if (rounds.length > 1) throw new ConfigError('UNSUPPORTED', rounds[1]!.loc, `${where}: multiple authentication rounds (RFC 4739) are not supported yet`);
  if (r.auth.class !== 'psk' && r.auth.class !== 'pubkey')
    throw new ConfigError('UNSUPPORTED', r.loc, `${where}.auth: '${r.auth.text}' is not supported (expected psk or pubkey)`);
  // Local: no id means the IKE SA's own address (strongSwan's default without a certificate); the endpoint fills
  // it in when ANY_IDENTITY is configured. Remote: no id means %any.
  const id: Identity = r.id === undefined ? ANY_IDENTITY : wrap(r.loc ?? connLoc, `${where}.id`, () => parseIdentity(r.id!));
  return { method: r.auth.class, id };
}

function wrap<T>(loc: ConstructorParameters<typeof ConfigError>[1], where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new ConfigError('INVALID_VALUE', loc, `${where}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Loads FILE (swanctl.conf syntax, includes relative to it) and maps it. Throws only ConfigError, naming
 * file:line and the expected form.
 */
export function loadDaemonConfig(path: string): { daemon: DaemonConfig; config: SwanctlConfig; warnings: readonly ConfigWarning[] } {
  const { config, warnings } = loadSwanctlConfig(path, { readFile: (f) => readFileSync(f, 'utf8'), listDir: (d) => readdirSync(d) }, { validateProposal });
  return { daemon: toDaemonConfig(config), config, warnings };
}

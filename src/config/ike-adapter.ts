/**
 * From the swanctl.conf view (strongSwan key names) to what the IKE endpoint takes (src/ike/config.ts), so the
 * daemon does `toIkeConnections(config)` and `toCredentials(config.secrets)` and nothing else.
 *
 * Everything here was validated when the configuration was loaded (proposals by src/crypto/proposals.ts,
 * identities by src/ike/identity.ts, one auth round per side), so the conversions cannot fail on a loaded
 * configuration; they throw ConfigError if handed something that was not loaded.
 */
import { parseProposals } from '../crypto/proposals.js';
import type { ChildConfig as IkeChildConfig, Credentials, IkeConnectionConfig } from '../ike/config.js';
import { pskCredentials } from '../ike/config-builder.js';
import { ANY_IDENTITY, parseIdentity } from '../ike/identity.js';
import { TS_IPV4_ADDR_RANGE, TS_IPV6_ADDR_RANGE, type ConfiguredTs } from '../ike/traffic-selector.js';
import { ConfigError } from './errors.js';
import type { AuthRound, ChildConfig, ConnectionConfig, SecretsConfig, SwanctlConfig } from './schema.js';
import type { AddressSpec, TrafficSelectorSpec } from './values.js';

/** strongswan.conf charon.fragment_size default (bytes of IKE datagram before RFC 7383 fragmentation). */
export const DEFAULT_FRAGMENT_SIZE = 1280;

function guard<T>(what: string, c: { loc: ConnectionConfig['loc'] }, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError('INVALID_VALUE', c.loc, `${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** local_addrs/remote_addrs entries in the text forms src/ike/address-match.ts reads. */
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

export function toConfiguredTs(ts: TrafficSelectorSpec): ConfiguredTs {
  const ports = { ipProtocol: ts.protocol, startPort: ts.fromPort, endPort: ts.toPort };
  if (ts.kind === 'dynamic') return { dynamic: true, ...ports };
  return {
    tsType: ts.family === 6 ? TS_IPV6_ADDR_RANGE : TS_IPV4_ADDR_RANGE,
    ...ports,
    startAddr: ts.first!.bytes,
    endAddr: ts.last!.bytes,
  };
}

/** The single auth round per side (the loader refuses more); a local id left out is %any here. */
function authOf(rounds: readonly AuthRound[]): IkeConnectionConfig['local'] {
  const r = rounds[0];
  const method = r?.auth.class === 'psk' ? 'psk' : 'pubkey';
  const id = r?.id === undefined ? ANY_IDENTITY : parseIdentity(r.id);
  return { method, id };
}

export function toIkeChild(c: ChildConfig): IkeChildConfig {
  return guard(`child ${c.name}`, c, () => ({
    name: c.name,
    localTs: c.local_ts.map(toConfiguredTs),
    remoteTs: c.remote_ts.map(toConfiguredTs),
    espProposals: parseProposals(c.esp_proposals.join(','), 'esp'),
    mode: 'tunnel' as const,
    startAction: c.start_action === 'trap|start' ? 'trap' : c.start_action,
    dpdAction: c.dpd_action,
    closeAction: c.close_action,
    rekeyTimeMs: c.rekey_time,
    lifeTimeMs: c.life_time,
    randTimeMs: c.rand_time,
    rekeyBytes: c.rekey_bytes,
    lifeBytes: c.life_bytes,
    rekeyPackets: c.rekey_packets,
    lifePackets: c.life_packets,
    replayWindow: c.replay_window,
  }));
}

export function toIkeConnection(c: ConnectionConfig): IkeConnectionConfig {
  return guard(`connection ${c.name}`, c, () => ({
    name: c.name,
    localAddrs: c.local_addrs.map(addressText),
    remoteAddrs: c.remote_addrs.map(addressText),
    localPort: c.local_port,
    remotePort: c.remote_port,
    proposals: parseProposals(c.proposals.join(','), 'ike'),
    local: authOf(c.local),
    remote: authOf(c.remote),
    children: [...c.children.values()].map(toIkeChild),
    encap: c.encap,
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
  }));
}

export function toIkeConnections(config: SwanctlConfig): IkeConnectionConfig[] {
  return [...config.connections.values()].map(toIkeConnection);
}

/** The PSKs of secrets.ike<suffix>, looked up with strongSwan's best-match ranking (src/ike/config-builder.ts). */
export function toCredentials(secrets: SecretsConfig): Credentials {
  return pskCredentials(secrets.ike.map((s) => ({ ids: s.ids, secret: s.secret })));
}

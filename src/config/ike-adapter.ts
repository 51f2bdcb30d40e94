/**
 * From the swanctl.conf view (strongSwan key names) to what the IKE endpoint takes (src/ike/config.ts), so the
 * daemon does `toIkeConnections(config)` and `toCredentials(config.secrets)` and nothing else.
 *
 * Everything here was validated when the configuration was loaded (proposals by src/crypto/proposals.ts,
 * identities by src/ike/identity.ts, one auth round per side), so the conversions cannot fail on a loaded
 * configuration; they throw ConfigError if handed something that was not loaded.
 */
import { parseProposals } from '../crypto/proposals.js';
import type { ChildConfig as IkeChildConfig, Credentials, EapAuthConfig, IkeConnectionConfig } from '../ike/config.js';
import { eapSecretLookup, eapSecretProblem } from '../eap/secrets.js';
import type { EapSecretLookup } from '../eap/types.js';
import { pskCredentials, withPpks } from '../ike/config-builder.js';
import { ANY_IDENTITY, parseIdentity, type Identity } from '../ike/identity.js';
import { TS_IPV4_ADDR_RANGE, TS_IPV6_ADDR_RANGE, type ConfiguredTs } from '../ike/traffic-selector.js';
import { ConfigError } from './errors.js';
import type { AuthRound, ChildConfig, ConnectionConfig, PoolConfig, SecretsConfig, SwanctlConfig } from './schema.js';
import { parsePool, type AddressPoolConfig } from '../ike/pool.js';
import { parseAuthKeyword, type Certificate, type PrivateKey, type TrustStore } from '../pki/index.js';
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

/**
 * Certificates named in the configuration (`certs`, `cacerts`), resolved by the caller (the daemon reads them under
 * x509/ and x509ca/ beside swanctl.conf). `chain` adds the intermediates to send after our own certificate.
 */
export interface CertResolver {
  cert(name: string, folder: 'x509' | 'x509ca'): Certificate;
  chain?(leaf: Certificate): readonly Certificate[];
  /**
   * A loaded certificate (x509/, pkcs12/) that confirms `id` and whose private key is loaded: what swanctl uses
   * when `local { auth = pubkey, id = ... }` names no `certs` (e.g. a client with only a PKCS#12 bundle).
   */
  byId?(id: Identity): Certificate | undefined;
}

/**
 * A certificate named by `certs`/`cacerts`, or a ConfigError at the line of that key: a missing or unreadable
 * file is the configuration's problem, and the administrator needs the line that names it.
 */
function resolveCert(certs: CertResolver, r: AuthRound, key: 'certs' | 'cacerts', name: string, path: string): Certificate {
  try {
    return certs.cert(name, key === 'certs' ? 'x509' : 'x509ca');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const why = e instanceof Error ? e.message : String(e);
    const folder = key === 'certs' ? 'x509/' : 'x509ca/';
    throw new ConfigError('INVALID_VALUE', r.keyLocs?.[key] ?? r.loc, `${path}.${r.section}.${key}: cannot load '${name}' (looked for it in ${folder} beside the configuration): ${why}`);
  }
}

/**
 * `auth = eap[-type]` as src/eap's sessions take it: `eap` and `eap-dynamic` let the peer choose (the server
 * proposes MSCHAPv2 first, as strongSwan's eap-dynamic without a `preferred` list proposes its first loaded method).
 */
function eapOf(r: AuthRound): EapAuthConfig {
  const m = r.auth.method;
  const methods = m === undefined || m === 'dynamic' ? ['mschapv2', 'tls'] : [m];
  return { methods, ...(r.eap_id !== undefined ? { eapId: r.eap_id } : {}), ...(r.aaa_id !== undefined ? { aaaId: r.aaa_id } : {}) };
}

/** The single auth round per side (the loader refuses more); a local id left out is %any here. */
function authOf(rounds: readonly AuthRound[], side: 'local' | 'remote', certs?: CertResolver, path = 'connections'): IkeConnectionConfig['local'] {
  const r = rounds[0];
  const method = r?.auth.class === 'psk' ? 'psk' : r?.auth.class === 'eap' ? 'eap' : 'pubkey';
  const id = r?.id === undefined ? ANY_IDENTITY : parseIdentity(r.id);
  if (!r || method === 'psk') return { method, id };
  if (method === 'eap') {
    // EAP-TLS rounds keep their certificates: `certs` (client: ours) and `cacerts` (server: the users' CAs)
    const own = certs ? r.certs.map((n) => resolveCert(certs, r, 'certs', n, path)) : [];
    const cacerts = certs ? r.cacerts.map((n) => resolveCert(certs, r, 'cacerts', n, path)) : [];
    return { method, id, eap: eapOf(r), ...(own.length ? { certs: own } : {}), ...(cacerts.length ? { cacerts } : {}) };
  }
  const keyword = parseAuthKeyword(r.auth.text.replace(/^ike:/, '')) ?? {};
  if (side === 'local') {
    const own = certs ? r.certs.map((n) => resolveCert(certs, r, 'certs', n, path)) : [];
    // No `certs`: the certificate comes from the credentials by the configured id (as charon looks it up).
    if (own.length === 0 && r.id !== undefined) {
      const found = certs?.byId?.(id);
      if (found) own.push(found);
    }
    const leaf = own[0];
    const chain = leaf && certs?.chain ? certs.chain(leaf) : [];
    return { method, id, keyword, certs: [...own, ...chain.filter((c) => !own.includes(c))] };
  }
  const cacerts = certs ? r.cacerts.map((n) => resolveCert(certs, r, 'cacerts', n, path)) : [];
  // swanctl `remote { certs = ... }`: the peer's certificates we accept (used when it sends none, send_cert = never).
  const peerCerts = certs ? r.certs.map((n) => resolveCert(certs, r, 'certs', n, path)) : [];
  return { method, id, keyword, ...(cacerts.length ? { cacerts } : {}), ...(peerCerts.length ? { certs: peerCerts } : {}) };
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
    espPaddingCheck: c.esp_padding_check,
  }));
}

export function toIkeConnection(c: ConnectionConfig, certs?: CertResolver): IkeConnectionConfig {
  return guard(`connection ${c.name}`, c, () => ({
    name: c.name,
    localAddrs: c.local_addrs.map(addressText),
    remoteAddrs: c.remote_addrs.map(addressText),
    localPort: c.local_port,
    remotePort: c.remote_port,
    proposals: parseProposals(c.proposals.join(','), 'ike'),
    local: authOf(c.local, 'local', certs, `connections.${c.name}`),
    remote: authOf(c.remote, 'remote', certs, `connections.${c.name}`),
    ...(c.local.length > 1 ? { moreLocal: c.local.slice(1).map((r) => authOf([r], 'local', certs, `connections.${c.name}`)) } : {}),
    ...(c.remote.length > 1 ? { moreRemote: c.remote.slice(1).map((r) => authOf([r], 'remote', certs, `connections.${c.name}`)) } : {}),
    children: [...c.children.values()].map(toIkeChild),
    encap: c.encap,
    fragmentation: c.fragmentation !== 'no',
    mobike: c.mobike,
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
    sendCert: c.send_cert,
    sendCertreq: c.send_certreq,
    ...(c.ppk_id !== undefined ? { ppkId: c.ppk_id } : {}),
    ...(c.ppk_required ? { ppkRequired: true } : {}),
  }));
}

export function toIkeConnections(config: SwanctlConfig, certs?: CertResolver): IkeConnectionConfig[] {
  return [...config.connections.values()].map((c) => toIkeConnection(c, certs));
}

/** swanctl `pools` as the IKE endpoint's address pools (a subnet leaves out network and broadcast). */
export function toIkePools(config: SwanctlConfig): AddressPoolConfig[] {
  return [...config.pools.values()].map((p: PoolConfig) =>
    guard(`pool ${p.name}`, p, () =>
      parsePool(
        p.name,
        p.addrs.text,
        p.dns.map((d) => d.text),
        { nbns: p.nbns.map((d) => d.text), netmask: p.attributes.get('netmask'), subnet: p.attributes.get('subnet') },
      ),
    ),
  );
}

/**
 * The PSKs of secrets.ike<suffix>, looked up with strongSwan's best-match ranking (src/ike/config-builder.ts),
 * plus private keys and trust anchors for certificate authentication when the caller loaded them.
 */
/**
 * The EAP user secrets (`eap-`/`xauth-` sections hold passwords, `ntlm-` sections NT hashes) as src/eap's lookup; an
 * NT hash that is not 16 bytes is a ConfigError at its section.
 */
export function toEapSecrets(secrets: SecretsConfig): EapSecretLookup {
  const entries = [
    ...secrets.eap.map((s) => ({ ...s, kind: 'password' as const })),
    ...secrets.ntlm.map((s) => ({ ...s, kind: 'nthash' as const })),
  ];
  for (const e of entries) {
    const problem = eapSecretProblem(e);
    if (problem !== undefined) throw new ConfigError('INVALID_VALUE', e.loc, `secrets.${e.section}.secret: ${problem}`);
  }
  return eapSecretLookup(entries);
}

export function toCredentials(secrets: SecretsConfig, pki?: { privateKeyFor(cert: Certificate): PrivateKey | undefined; trust: TrustStore }): Credentials {
  const psk = pskCredentials(secrets.ike.map((s) => ({ ids: s.ids, secret: s.secret })));
  // RFC 8784: PPKs by PPK_ID (the ID's octets are the id = text, as strongSwan encodes a ppk_id identity).
  const withPpk = withPpks(psk, secrets.ppk.flatMap((s) => s.ids.map((id) => ({ id, secret: s.secret }))));
  return pki ? { ...withPpk, privateKeyFor: (c) => pki.privateKeyFor(c), trust: pki.trust } : withPpk;
}

/**
 * Builders for IKE connection configs with strongSwan's documented defaults (swanctl.conf), for library users and
 * tests: `connection({ name, remoteAddrs, ... })` fills in everything not given.
 */
import { parseProposals } from '../crypto/proposals.js';
import type { AuthConfig, ChildConfig, Credentials, IkeConnectionConfig } from './config.js';
import { ANY_IDENTITY, identityMatches, parseIdentity, type Identity } from './identity.js';
import { parseTrafficSelector } from './traffic-selector.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface ChildOptions extends Partial<Omit<ChildConfig, 'localTs' | 'remoteTs' | 'espProposals'>> {
  localTs?: readonly string[];
  remoteTs?: readonly string[];
  /** strongSwan proposal syntax, e.g. 'aes128gcm16' or 'aes256-sha256-modp2048'. */
  espProposals?: string;
}

export function child(name: string, o: ChildOptions = {}): ChildConfig {
  const rekeyTimeMs = o.rekeyTimeMs ?? 3_600_000;
  const lifeTimeMs = o.lifeTimeMs ?? Math.round(rekeyTimeMs * 1.1);
  return {
    name,
    localTs: (o.localTs ?? ['dynamic']).map(parseTrafficSelector),
    remoteTs: (o.remoteTs ?? ['dynamic']).map(parseTrafficSelector),
    espProposals: parseProposals(o.espProposals ?? 'default', 'esp'),
    mode: 'tunnel',
    startAction: o.startAction ?? 'none',
    dpdAction: o.dpdAction ?? 'clear',
    closeAction: o.closeAction ?? 'none',
    rekeyTimeMs,
    lifeTimeMs,
    randTimeMs: o.randTimeMs ?? lifeTimeMs - rekeyTimeMs,
    rekeyBytes: o.rekeyBytes ?? 0,
    lifeBytes: o.lifeBytes ?? 0,
    rekeyPackets: o.rekeyPackets ?? 0,
    lifePackets: o.lifePackets ?? 0,
    replayWindow: o.replayWindow ?? 1024,
  };
}

export interface ConnectionOptions extends Partial<Omit<IkeConnectionConfig, 'proposals' | 'local' | 'remote' | 'children'>> {
  name: string;
  /** strongSwan proposal syntax, comma-separated. */
  proposals?: string;
  local?: { auth?: AuthConfig['method']; id?: string; certs?: AuthConfig['certs']; keyword?: AuthConfig['keyword']; eap?: AuthConfig['eap'] };
  remote?: { auth?: AuthConfig['method']; id?: string; cacerts?: AuthConfig['cacerts']; keyword?: AuthConfig['keyword']; eap?: AuthConfig['eap'] };
  children?: readonly ChildConfig[];
}

export function connection(o: ConnectionOptions): IkeConnectionConfig {
  const rekeyTimeMs = o.rekeyTimeMs ?? 14_400_000;
  const overTimeMs = o.overTimeMs ?? Math.round(rekeyTimeMs * 0.1);
  const c: Mutable<IkeConnectionConfig> = {
    name: o.name,
    localAddrs: o.localAddrs ?? ['%any'],
    remoteAddrs: o.remoteAddrs ?? ['%any'],
    localPort: o.localPort ?? 500,
    remotePort: o.remotePort ?? 500,
    proposals: parseProposals(o.proposals ?? 'default', 'ike'),
    local: { method: o.local?.auth ?? 'psk', id: o.local?.id ? parseIdentity(o.local.id) : ANY_IDENTITY, ...(o.local?.certs ? { certs: o.local.certs } : {}), ...(o.local?.keyword ? { keyword: o.local.keyword } : {}), ...(o.local?.eap ? { eap: o.local.eap } : {}) },
    remote: { method: o.remote?.auth ?? 'psk', id: o.remote?.id ? parseIdentity(o.remote.id) : ANY_IDENTITY, ...(o.remote?.cacerts ? { cacerts: o.remote.cacerts } : {}), ...(o.remote?.keyword ? { keyword: o.remote.keyword } : {}), ...(o.remote?.eap ? { eap: o.remote.eap } : {}) },
    children: o.children ?? [],
    encap: o.encap ?? true,
    fragmentation: o.fragmentation ?? true,
    mobike: o.mobike ?? true,
    fragmentSize: o.fragmentSize ?? 1280,
    dpdDelayMs: o.dpdDelayMs ?? 0,
    rekeyTimeMs,
    reauthTimeMs: o.reauthTimeMs ?? 0,
    overTimeMs,
    randTimeMs: o.randTimeMs ?? overTimeMs,
    keyingTries: o.keyingTries ?? 1,
    unique: o.unique ?? 'no',
    vips: o.vips ?? [],
    pools: o.pools ?? [],
    sendCert: o.sendCert ?? 'ifasked',
    sendCertreq: o.sendCertreq ?? true,
    ...(o.ppkId !== undefined ? { ppkId: o.ppkId } : {}),
    ...(o.ppkRequired !== undefined ? { ppkRequired: o.ppkRequired } : {}),
  };
  return c;
}

/** A PSK store: each secret applies to a set of identities (swanctl's `secrets.ike { id-1, id-2, secret }`). */
export function pskCredentials(entries: readonly { ids: readonly string[]; secret: string | Uint8Array }[]): Credentials {
  const parsed = entries.map((e) => ({ ids: e.ids.map(parseIdentity), secret: typeof e.secret === 'string' ? new TextEncoder().encode(e.secret) : e.secret }));
  return {
    sharedKey(local: Identity, remote: Identity): Uint8Array | undefined {
      // strongSwan's ranking: a secret listing both identities beats one matching only one, which beats %any.
      let best: { score: number; secret: Uint8Array } | undefined;
      for (const e of parsed) {
        const m = (id: Identity): number => (e.ids.length === 0 ? 1 : e.ids.some((x) => x.type !== 0 && identityMatches(x, id)) ? 2 : 0);
        const score = m(local) + m(remote);
        const matchesEither = e.ids.length === 0 || m(local) > 0 || m(remote) > 0;
        if (matchesEither && (!best || score > best.score)) best = { score, secret: e.secret };
      }
      return best?.secret;
    },
  };
}

/** Adds RFC 8784 PPKs (swanctl `secrets.ppk<suffix> { id, secret }`) to a credential store, looked up by PPK_ID. */
export function withPpks(creds: Credentials, entries: readonly { id: string; secret: string | Uint8Array }[]): Credentials {
  const enc = (v: string | Uint8Array): Uint8Array => (typeof v === 'string' ? new TextEncoder().encode(v) : v);
  const list = entries.map((e) => ({ id: enc(e.id), secret: enc(e.secret) }));
  return {
    ...creds,
    sharedKey: (l, r) => creds.sharedKey(l, r),
    ppk: (id) => list.find((e) => e.id.length === id.length && e.id.every((b, i) => b === id[i]))?.secret,
    hasPpk: () => list.length > 0,
  };
}

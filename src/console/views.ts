/**
 * vici messages (charon 5.9's vici_query.c layouts) turned into the plain JSON the page shows. Works the same on
 * cygnet's and charon's replies, since both send charon's layout.
 */
import { X509Certificate } from 'node:crypto';
import { section, str, strList, type ViciMessage } from '../vici/message.js';

export interface ChildView {
  readonly name: string;
  readonly uniqueId: string;
  readonly state: string;
  readonly mode: string;
  readonly protocol: string;
  readonly suite: string;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly packetsIn: number;
  readonly packetsOut: number;
  readonly localTs: string[];
  readonly remoteTs: string[];
  readonly installTime: number;
}

export interface SaView {
  readonly name: string;
  readonly uniqueId: string;
  readonly state: string;
  readonly localHost: string;
  readonly remoteHost: string;
  readonly localId: string;
  readonly remoteId: string;
  /** The EAP identity a road warrior logged in with (charon's remote-eap-id), '' when none. */
  readonly remoteEapId: string;
  readonly initiator: boolean;
  readonly suite: string;
  readonly established: number;
  readonly children: ChildView[];
}

const num = (v: ViciMessage[string] | undefined): number => {
  const n = Number(str(v) ?? '0');
  return Number.isFinite(n) ? n : 0;
};
const text = (v: ViciMessage[string] | undefined): string => str(v) ?? '';

function suiteOf(m: ViciMessage): string {
  const encr = text(m['encr-alg']);
  const size = text(m['encr-keysize']);
  const parts = [encr && size ? `${encr}-${size}` : encr, text(m['integ-alg']), text(m['prf-alg']), text(m['dh-group'])];
  return parts.filter((p) => p !== '').join('/');
}

export function childView(m: ViciMessage): ChildView {
  return {
    name: text(m.name),
    uniqueId: text(m.uniqueid),
    state: text(m.state),
    mode: text(m.mode),
    protocol: text(m.protocol),
    suite: suiteOf(m),
    bytesIn: num(m['bytes-in']),
    bytesOut: num(m['bytes-out']),
    packetsIn: num(m['packets-in']),
    packetsOut: num(m['packets-out']),
    localTs: strList(m['local-ts']) ?? [],
    remoteTs: strList(m['remote-ts']) ?? [],
    installTime: num(m['install-time']),
  };
}

/** One IKE SA from its name and body (a list-sa event holds one; ike-updown too, beside `up`). */
export function saView(name: string, m: ViciMessage): SaView {
  const children: ChildView[] = [];
  const cs = section(m['child-sas']);
  if (cs) for (const c of Object.values(cs)) {
    const s = section(c);
    if (s) children.push(childView(s));
  }
  return {
    name,
    uniqueId: text(m.uniqueid),
    state: text(m.state),
    localHost: text(m['local-host']),
    remoteHost: text(m['remote-host']),
    localId: text(m['local-id']),
    remoteId: text(m['remote-id']),
    remoteEapId: text(m['remote-eap-id']),
    initiator: text(m.initiator) === 'yes',
    suite: suiteOf(m),
    established: num(m.established),
    children,
  };
}

/** The IKE SAs named in an event or list-sa message (every section except `up`). */
export function sasOf(msg: ViciMessage): SaView[] {
  const out: SaView[] = [];
  for (const [k, v] of Object.entries(msg)) {
    const s = section(v);
    if (s) out.push(saView(k, s));
  }
  return out;
}

export interface ConnView {
  readonly name: string;
  readonly localAddrs: string[];
  readonly remoteAddrs: string[];
  readonly version: string;
  readonly local: string[];
  readonly remote: string[];
  readonly pools: string[];
  readonly children: { name: string; mode: string; localTs: string[]; remoteTs: string[]; startAction: string }[];
}

function authList(conn: ViciMessage, prefix: 'local' | 'remote'): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(conn)) {
    const s = section(v);
    if (!s || !k.startsWith(prefix)) continue;
    out.push(`${text(s.class) || text(s.auth) || 'auth'}: ${text(s.id) || '%any'}`);
  }
  return out;
}

export function connViews(msg: ViciMessage): ConnView[] {
  const out: ConnView[] = [];
  for (const [name, v] of Object.entries(msg)) {
    const c = section(v);
    if (!c) continue;
    const children: ConnView['children'] = [];
    const cs = section(c.children);
    if (cs) for (const [cn, cv] of Object.entries(cs)) {
      const ch = section(cv);
      if (ch) children.push({ name: cn, mode: text(ch.mode), localTs: strList(ch['local-ts']) ?? [], remoteTs: strList(ch['remote-ts']) ?? [], startAction: text(ch['start_action']) });
    }
    out.push({
      name,
      localAddrs: strList(c.local_addrs) ?? [],
      remoteAddrs: strList(c.remote_addrs) ?? [],
      version: text(c.version),
      local: authList(c, 'local'),
      remote: authList(c, 'remote'),
      pools: strList(c.pools) ?? [],
      children,
    });
  }
  return out;
}

export interface PoolView {
  readonly name: string;
  readonly base: string;
  readonly size: number;
  readonly online: number;
  readonly offline: number;
  readonly leases: { address: string; identity: string; status: string }[];
}

/** get-pools with leases=yes: { NAME: { base, size, online, offline, leases: { N: { address, identity, status } } } }. */
export function poolViews(msg: ViciMessage): PoolView[] {
  const out: PoolView[] = [];
  for (const [name, v] of Object.entries(msg)) {
    const p = section(v);
    if (!p) continue;
    const leases: PoolView['leases'] = [];
    const ls = section(p.leases);
    if (ls) for (const l of Object.values(ls)) {
      const s = section(l);
      if (s) leases.push({ address: text(s.address), identity: text(s.identity), status: text(s.status) });
    }
    out.push({ name, base: text(p.base), size: num(p.size), online: num(p.online), offline: num(p.offline), leases });
  }
  return out;
}

export const EXPIRY_WARNING_DAYS = 30;

export interface CertView {
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly daysLeft: number;
  /** 'expired', 'expiring' (within EXPIRY_WARNING_DAYS) or 'ok'. */
  readonly status: 'expired' | 'expiring' | 'ok';
  readonly flag: string;
  readonly hasPrivateKey: boolean;
  readonly ca: boolean;
}

/** A list-cert event (type X509, flag, has_privkey, data = DER). Certificates only, never a key. */
export function certView(msg: ViciMessage, now: number): CertView | { error: string } {
  const data = msg.data;
  if (!(data instanceof Uint8Array)) return { error: 'list-cert event without DER data' };
  let x: X509Certificate;
  try {
    x = new X509Certificate(data);
  } catch (e) {
    return { error: `certificate does not parse: ${e instanceof Error ? e.message : String(e)}` };
  }
  const notAfter = new Date(x.validTo);
  const daysLeft = Math.floor((notAfter.getTime() - now) / 86_400_000);
  const status = notAfter.getTime() <= now ? 'expired' : daysLeft < EXPIRY_WARNING_DAYS ? 'expiring' : 'ok';
  return {
    subject: x.subject.split('\n').join(', '),
    issuer: x.issuer.split('\n').join(', '),
    serial: x.serialNumber,
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft,
    status,
    flag: text(msg.flag),
    hasPrivateKey: text(msg.has_privkey) === 'yes',
    ca: x.ca,
  };
}

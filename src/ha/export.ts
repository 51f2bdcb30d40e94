/**
 * IKE SA -> store record (issue 20), sans-IO. Reads the endpoint's IkeSa as it is after an operation settled;
 * CHILD SA keys are not kept on the IKE side (they go to the ESP engine in `child-install`), so the exporter
 * remembers them from those events (ChildKeyCache). The endpoint must run with `exportKeys` so the IKE SA keeps
 * its raw SK_e/SK_a (keys.ts): the PRF and cipher objects themselves are not data.
 */
import type { ChildSa, IkeSa } from '../ike/ike-sa.js';
import type { ChildSaDirectionKeys, IkeEvent } from '../ike/events.js';
import { formatIdentity } from '../identity/identity.js';
import type { TrafficSelector } from '../ike/traffic-selector.js';
import { HaError } from './errors.js';
import { type ChildRecord, type ChildSecrets, type IkeRecord, type IkeSecrets, ikeKey, RECORD_VERSION, type TsRecord } from './records.js';
import type { SecretBox } from './seal.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export interface CachedChildKeys {
  readonly inbound: ChildSaDirectionKeys;
  readonly outbound: ChildSaDirectionKeys;
  readonly lifetimes: ChildRecord['lifetimes'];
}

/** CHILD SA keys and lifetimes by inbound SPI, from child-install events; forgotten at child-remove. */
export class ChildKeyCache {
  private readonly bySpi = new Map<number, CachedChildKeys>();

  handle(e: IkeEvent): void {
    if (e.type === 'child-install') this.bySpi.set(e.child.spiIn, { inbound: e.inbound, outbound: e.outbound, lifetimes: e.lifetimes });
    else if (e.type === 'child-remove') this.bySpi.delete(e.child.spiIn);
  }

  get(spiIn: number): CachedChildKeys | undefined {
    return this.bySpi.get(spiIn);
  }

  get size(): number {
    return this.bySpi.size;
  }
}

/** Whether an SA is worth replicating: established (or rekeying/deleting with keys), not half-open. */
export function replicable(sa: IkeSa): boolean {
  return sa.keys !== undefined && (sa.state === 'ESTABLISHED' || sa.state === 'REKEYING' || sa.state === 'DELETING');
}

export function storeKeyOf(sa: IkeSa): string {
  return ikeKey(hex(sa.spiI), hex(sa.spiR));
}

export function tsRecord(t: TrafficSelector): TsRecord {
  return { tsType: t.tsType, ipProtocol: t.ipProtocol, startPort: t.startPort, endPort: t.endPort, startAddr: hex(t.startAddr), endAddr: hex(t.endAddr) };
}

/**
 * The record of `sa`. `toWall` turns the core's monotonic times into wall-clock ms (now + epochOffsetMs).
 * Throws HaError('BAD_OPTIONS') when the raw keys are missing (endpoint without exportKeys).
 */
export function exportIkeSa(sa: IkeSa, children: ChildKeyCache, box: SecretBox, toWall: (t: number) => number): IkeRecord {
  const keys = sa.keys;
  if (!keys?.raw || !sa.set || !sa.conn) throw new HaError('BAD_OPTIONS', `IKE_SA ${sa.name}[${sa.id}]: no raw keys to replicate (the endpoint must run with exportKeys)`);
  const key = storeKeyOf(sa);
  const secrets: IkeSecrets = {
    SK_d: hex(keys.SK_d),
    SK_ei: hex(keys.raw.SK_ei),
    SK_er: hex(keys.raw.SK_er),
    SK_ai: hex(keys.raw.SK_ai),
    SK_ar: hex(keys.raw.SK_ar),
    SK_pi: hex(keys.SK_pi),
    SK_pr: hex(keys.SK_pr),
  };
  const kids: ChildRecord[] = [];
  for (const c of sa.children) {
    const r = exportChild(key, c, children, box, toWall);
    if (r) kids.push(r);
  }
  const opt = <T>(name: string, v: T | undefined): Record<string, T> => (v === undefined ? {} : { [name]: v });
  return {
    v: RECORD_VERSION,
    conn: sa.conn.name,
    initiator: sa.initiator,
    spiI: hex(sa.spiI),
    spiR: hex(sa.spiR),
    local: { address: sa.local.address, port: sa.local.port },
    remote: { address: sa.remote.address, port: sa.remote.port },
    set: { ...sa.set },
    nextRequestId: sa.nextRequestId,
    expectedRequestId: sa.expectedRequestId,
    localId: formatIdentity(sa.localId),
    remoteId: formatIdentity(sa.remoteId),
    ...opt('remoteEapId', sa.remoteEapId),
    ...opt('ppkId', sa.ppkId),
    natLocal: sa.natLocal,
    natRemote: sa.natRemote,
    natLocalReal: sa.natLocalReal,
    encapsulated: sa.encapsulated,
    peerFragmentation: sa.peerFragmentation,
    peerMultipleAuth: sa.peerMultipleAuth,
    ...opt('peerHashes', sa.peerHashes ? [...sa.peerHashes] : undefined),
    establishedAt: toWall(sa.establishedAt ?? 0),
    ...opt('rekeyAt', sa.rekeyAt === undefined ? undefined : toWall(sa.rekeyAt)),
    ...opt('reauthAt', sa.reauthAt === undefined ? undefined : toWall(sa.reauthAt)),
    ...opt('expireAt', sa.expireAt === undefined ? undefined : toWall(sa.expireAt)),
    virtualIps: [...sa.virtualIps],
    peerVirtualIps: [...sa.peerVirtualIps],
    leases: sa.conn.pools.length ? sa.leases.map((l) => ({ pool: poolOf(sa, l.address), address: l.address })) : [],
    children: kids,
    ...(sa.pending ? { pending: { messageId: sa.pending.messageId, exchangeType: sa.pending.exchangeType, datagrams: sa.pending.datagrams.map((d) => Buffer.from(d).toString('base64')) } } : {}),
    ...(sa.lastResponse ? { lastResponse: { messageId: sa.lastResponse.messageId, exchangeType: sa.lastResponse.exchangeType, datagrams: sa.lastResponse.datagrams.map((d) => Buffer.from(d).toString('base64')) } } : {}),
    secrets: box.seal(Buffer.from(JSON.stringify(secrets)), key),
  };
}

/** The pool a lease came from: the first of the connection's pools (a lease does not say; pools rarely overlap). */
function poolOf(sa: IkeSa, _address: string): string {
  return sa.conn?.pools[0] ?? '';
}

function exportChild(ikeKeyText: string, c: ChildSa, cache: ChildKeyCache, box: SecretBox, toWall: (t: number) => number): ChildRecord | undefined {
  const k = cache.get(c.spiIn);
  // A CHILD SA whose keys we never saw (installed before replication started) cannot be carried over.
  if (!k) return undefined;
  const secrets: ChildSecrets = { inEncr: hex(k.inbound.encrKey), inInteg: hex(k.inbound.integKey), outEncr: hex(k.outbound.encrKey), outInteg: hex(k.outbound.integKey) };
  return {
    name: c.name,
    spiIn: c.spiIn,
    spiOut: c.spiOut,
    set: { ...c.set },
    localTs: c.localTs.map(tsRecord),
    remoteTs: c.remoteTs.map(tsRecord),
    state: c.state,
    installedAt: toWall(c.installedAt),
    ...(c.rekeyAt === undefined ? {} : { rekeyAt: toWall(c.rekeyAt) }),
    ...(c.expireAt === undefined ? {} : { expireAt: toWall(c.expireAt) }),
    lifetimes: k.lifetimes,
    secrets: box.seal(Buffer.from(JSON.stringify(secrets)), `${ikeKeyText}/${c.spiIn}`),
  };
}

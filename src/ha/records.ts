/**
 * What the HA store holds (issue 20), as plain JSON data: one record per IKE SA with its CHILD SAs inside (an IKE
 * SA and its children change together, so one record keeps them consistent), and one small record per ESP SA
 * direction for the sequence-number high-water marks, which change far more often.
 *
 * Times are wall-clock milliseconds (the cores' `now` plus the endpoint's epochOffsetMs), since the two nodes'
 * monotonic clocks have unrelated origins: the nodes' clocks must be synchronised (NTP) to within the rekey
 * margins. Keys are sealed (seal.ts) with the record's store key as AAD.
 */
import type { TransformSet } from '../crypto/transforms.js';
import { HaError } from './errors.js';

export const RECORD_VERSION = 1;

export interface HaAddress {
  readonly address: string;
  readonly port: number;
}

/** A traffic selector with its addresses as hex (RFC 7296 3.13.1). */
export interface TsRecord {
  readonly tsType: number;
  readonly ipProtocol: number;
  readonly startPort: number;
  readonly endPort: number;
  readonly startAddr: string;
  readonly endAddr: string;
}

export interface ChildRecord {
  readonly name: string;
  readonly spiIn: number;
  readonly spiOut: number;
  readonly set: TransformSet;
  readonly localTs: readonly TsRecord[];
  readonly remoteTs: readonly TsRecord[];
  readonly state: 'INSTALLED' | 'REKEYING' | 'REKEYED' | 'DELETING';
  readonly installedAt: number;
  readonly rekeyAt?: number;
  readonly expireAt?: number;
  readonly lifetimes: { readonly softBytes: number; readonly hardBytes: number; readonly softPackets: number; readonly hardPackets: number };
  /** Sealed ChildSecrets (hex fields), AAD `<ike key>/<spiIn>`. */
  readonly secrets: string;
}

export interface ChildSecrets {
  readonly inEncr: string;
  readonly inInteg: string;
  readonly outEncr: string;
  readonly outInteg: string;
}

export interface IkeRecord {
  readonly v: number;
  readonly conn: string;
  readonly initiator: boolean;
  readonly spiI: string;
  readonly spiR: string;
  readonly local: HaAddress;
  readonly remote: HaAddress;
  readonly set: TransformSet;
  /** RFC 7296 2.3: our next request's message ID and the next one we expect from the peer. */
  readonly nextRequestId: number;
  readonly expectedRequestId: number;
  readonly localId: string;
  readonly remoteId: string;
  readonly remoteEapId?: string;
  /** RFC 8784: the PPK ID mixed into the keys (the exported SK_d/SK_p are the mixed ones; the PPK is not replicated). */
  readonly ppkId?: string;
  readonly natLocal: boolean;
  readonly natRemote: boolean;
  readonly natLocalReal: boolean;
  readonly encapsulated: boolean;
  readonly peerFragmentation: boolean;
  readonly peerMultipleAuth: boolean;
  readonly peerHashes?: readonly number[];
  readonly establishedAt: number;
  readonly rekeyAt?: number;
  readonly reauthAt?: number;
  readonly expireAt?: number;
  readonly virtualIps: readonly string[];
  readonly peerVirtualIps: readonly string[];
  /** Pool leases held for the peer: the pool and the identity they are filed under, re-taken on takeover. */
  readonly leases: readonly { readonly pool: string; readonly address: string }[];
  readonly children: readonly ChildRecord[];
  /**
   * The last response we sent (already protected by the SK payload), base64: a peer whose copy was lost
   * retransmits the request to the new active, which must answer it again (RFC 7296 2.1) rather than drop it.
   */
  readonly lastResponse?: { readonly messageId: number; readonly exchangeType: number; readonly datagrams: readonly string[] };
  /** Our request in flight (SK-protected bytes, base64): the new active sends it again (replayed-request.ts). */
  readonly pending?: { readonly messageId: number; readonly exchangeType: number; readonly datagrams: readonly string[] };
  /** Sealed IkeSecrets (hex fields), AAD = the record's store key. */
  readonly secrets: string;
}

export interface IkeSecrets {
  readonly SK_d: string;
  readonly SK_ei: string;
  readonly SK_er: string;
  readonly SK_ai: string;
  readonly SK_ar: string;
  readonly SK_pi: string;
  readonly SK_pr: string;
}

/** An ESP sequence number as two unsigned 32-bit halves (RFC 4303 2.2.1: ESN high half first). */
export interface SeqMark {
  readonly hi: number;
  readonly lo: number;
}

export interface SeqRecord extends SeqMark {
  readonly spi: number;
  readonly dir: 'in' | 'out';
}

export const ikeKey = (spiI: string, spiR: string): string => `ike/${spiI}-${spiR}`;
export const seqKey = (spi: number, dir: 'in' | 'out'): string => `seq/${(spi >>> 0).toString(16).padStart(8, '0')}/${dir}`;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const u32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

function need(cond: boolean, key: string, what: string): void {
  if (!cond) throw new HaError('BAD_RECORD', `store record ${key}: ${what}`);
}

/** Parses an IKE record read from the store; shape errors name the field. Secrets stay sealed. */
export function parseIkeRecord(key: string, json: string): IkeRecord {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new HaError('BAD_RECORD', `store record ${key}: not JSON (${(e as Error).message})`);
  }
  need(isObj(v), key, 'not an object');
  const r = v as Record<string, unknown>;
  need(r.v === RECORD_VERSION, key, `version ${String(r.v)}, this cygnet reads ${RECORD_VERSION}`);
  for (const f of ['conn', 'spiI', 'spiR', 'localId', 'remoteId', 'secrets'] as const) need(typeof r[f] === 'string', key, `${f} is not a string`);
  need(/^[0-9a-f]{16}$/.test(String(r.spiI)) && /^[0-9a-f]{16}$/.test(String(r.spiR)), key, 'SPIs are not 16 hex digits');
  need(u32(r.nextRequestId) && u32(r.expectedRequestId), key, 'message IDs out of range');
  for (const f of ['local', 'remote'] as const) {
    const a = r[f];
    need(isObj(a) && typeof a.address === 'string' && u32(a.port) && (a.port as number) <= 65535, key, `${f} is not an address`);
  }
  need(isObj(r.set) && u32((r.set as Record<string, unknown>).encr), key, 'set has no encr');
  need(typeof r.establishedAt === 'number', key, 'establishedAt missing');
  need(Array.isArray(r.children), key, 'children is not a list');
  for (const c of r.children as unknown[]) {
    need(isObj(c) && typeof c.name === 'string' && u32(c.spiIn) && u32(c.spiOut) && typeof c.secrets === 'string', key, 'a child lacks name, SPIs or secrets');
    const cc = c as Record<string, unknown>;
    need(Array.isArray(cc.localTs) && Array.isArray(cc.remoteTs) && isObj(cc.set) && isObj(cc.lifetimes), key, `child ${String(cc.name)} lacks selectors, set or lifetimes`);
  }
  for (const f of ['virtualIps', 'peerVirtualIps', 'leases'] as const) need(Array.isArray(r[f]), key, `${f} is not a list`);
  return v as unknown as IkeRecord;
}

export function parseSeqRecord(key: string, json: string): SeqRecord {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new HaError('BAD_RECORD', `store record ${key}: not JSON (${(e as Error).message})`);
  }
  need(isObj(v), key, 'not an object');
  const r = v as Record<string, unknown>;
  need(u32(r.spi) && u32(r.hi) && u32(r.lo) && (r.dir === 'in' || r.dir === 'out'), key, 'spi, dir, hi or lo out of range');
  return v as unknown as SeqRecord;
}

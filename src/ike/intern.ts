/**
 * Bounded intern tables for values many IKE and CHILD SAs hold equal copies of (issue 17, sa-compact.ts): the
 * negotiated transform sets, hash algorithm lists, our own address, traffic selector lists. Interned values are
 * frozen plain data, so events and structured clones carry them as before. The tables are bounded: what a peer
 * chooses (its hash list, its selectors) must not grow them without limit; past the bound values are only packed
 * or copied, never shared.
 */
import type { TransformSet } from '../crypto/transforms.js';
import type { Address } from './config.js';
import type { TrafficSelector } from './traffic-selector.js';

/** Entries per intern table: far more than distinct values in any configuration, small next to 100k SAs. */
export const INTERN_LIMIT = 1024;

const sets = new Map<string, TransformSet>();
const hashLists = new Map<string, readonly number[]>();
const addresses = new Map<string, Address>();
const tsLists = new Map<string, readonly TrafficSelector[]>();

/** An equal, shared and frozen list of hash algorithm numbers (RFC 7427 4). */
export function internHashes(list: readonly number[]): readonly number[] {
  if (Object.isFrozen(list)) return list;
  return intern(hashLists, list.join(','), () => Object.freeze(list.slice()));
}

/** An equal, shared and frozen address (our own is the same for most SAs). */
export function internAddress(a: Address): Address {
  if (Object.isFrozen(a)) return a;
  return intern(addresses, `${a.address}|${a.port}`, () => Object.freeze({ address: a.address, port: a.port }));
}

function intern<T>(table: Map<string, T>, key: string, make: () => T): T {
  const hit = table.get(key);
  if (hit !== undefined) return hit;
  const v = make();
  if (table.size < INTERN_LIMIT) table.set(key, v);
  return v;
}

/** An equal, shared and frozen TransformSet (the same object if it already is one). */
export function internSet(s: TransformSet): TransformSet {
  if (Object.isFrozen(s)) return s;
  const key = `${s.encr}/${s.keyBits}/${s.integ}/${s.prf}/${s.ke}/${s.esn}/${s.addke?.map((x) => `${x.type}.${x.id}`).join(',') ?? '-'}`;
  return intern(sets, key, () => Object.freeze({ ...s, ...(s.addke ? { addke: Object.freeze(s.addke.map((x) => Object.freeze({ ...x }))) } : {}) }));
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

function tsKey(t: TrafficSelector): string {
  return `${t.tsType}|${t.ipProtocol}|${t.startPort}|${t.endPort}|${hex(t.startAddr)}|${hex(t.endAddr)}`;
}

/**
 * Both addresses in one buffer: two views over one ArrayBuffer instead of two buffers; a single address (a road
 * warrior's own address or virtual IP, start = end) is one view used twice (~0.1 KB per SA less). Plain data, frozen.
 */
function packTs(t: TrafficSelector): TrafficSelector {
  const n = t.startAddr.length;
  if (n === t.endAddr.length && t.startAddr.every((x, i) => x === t.endAddr[i])) {
    const a = t.startAddr.slice();
    return Object.freeze({ tsType: t.tsType, ipProtocol: t.ipProtocol, startPort: t.startPort, endPort: t.endPort, startAddr: a, endAddr: a });
  }
  const b = new Uint8Array(n + t.endAddr.length);
  b.set(t.startAddr);
  b.set(t.endAddr, n);
  return Object.freeze({ tsType: t.tsType, ipProtocol: t.ipProtocol, startPort: t.startPort, endPort: t.endPort, startAddr: b.subarray(0, n), endAddr: b.subarray(n) });
}

const NO_TS: readonly TrafficSelector[] = Object.freeze([]);

/** An equal, frozen list of packed selectors, shared with other SAs while the table has room. */
export function internTsList(list: readonly TrafficSelector[]): readonly TrafficSelector[] {
  if (Object.isFrozen(list)) return list;
  if (list.length === 0) return NO_TS;
  return intern(tsLists, list.map(tsKey).join(','), () => Object.freeze(list.map(packTs)));
}

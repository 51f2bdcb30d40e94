/**
 * What an IKE SA no longer needs once an operation on it is over, dropped so that a process can hold 100k
 * established SAs (issue 17). The endpoint calls compactSa for every SA an operation touched, when it settles.
 *
 *  - SK payload contexts (RFC 7296 3.14) are released while no exchange is under way on the SA: an idle SA sends
 *    a request every few minutes at most (DPD, rekey) and keys them again then (keys.ts LazySkKeys).
 *  - The IKE_SA_INIT messages and nonces are needed for AUTH (RealMessage1/2 with Nr/Ni, RFC 7296 2.15) and the
 *    first CHILD SA's KEYMAT (2.17) only, all of which happens before the SA is ESTABLISHED; rekeys carry their
 *    own nonces (2.18) and reauthentication starts a new SA, so an established SA keeps none of them.
 *  - Empty lists and sets of the SA are dropped (IkeSa.dropEmpty; made again on use); an idle established SA keeps
 *    its SPIs in one buffer and its CHILD SA list at its exact length (packIdle).
 *  - Values most SAs share are kept once (interned, frozen): the negotiated transform sets of the IKE SA and its
 *    CHILD SAs, the peer's SIGNATURE_HASH_ALGORITHMS list (RFC 7427 4), our own address, and traffic selector lists
 *    (RFC 7296 3.13: a gateway's local selectors are the same for every road warrior). A list not interned is still
 *    packed: both addresses of a selector in one buffer. A heap snapshot at 6k SAs put these at ~1.5 KB per SA.
 *
 * The intern tables are bounded (what a peer chooses, such as its hash list or its selectors, must not grow them
 * without limit); past the bound values are only packed, never shared.
 */
import type { TransformSet } from '../crypto/transforms.js';
import type { ChildSa, IkeSa } from './ike-sa.js';
import { internAddress, internHashes, internSet, internTsList } from './intern.js';
import { releaseSkContexts } from './keys.js';
import type { TrafficSelector } from './traffic-selector.js';

const NONE = new Uint8Array(0);

export function compactSa(sa: IkeSa): void {
  const gone = sa.state === 'DESTROYING';
  if (sa.keys !== undefined && (gone || idle(sa))) releaseSkContexts(sa.keys);
  if (gone || sa.state === 'ESTABLISHED') {
    sa.initRequest = NONE;
    sa.initResponse = NONE;
    sa.Ni = NONE;
    sa.Nr = NONE;
  }
  if (!gone) {
    if (sa.set !== undefined) sa.set = internSet(sa.set);
    if (sa.peerHashes !== undefined) sa.peerHashes = internHashes(sa.peerHashes) as number[];
    sa.local = internAddress(sa.local);
    for (const c of sa.children) compactChild(c);
    if (idle(sa) && sa.state === 'ESTABLISHED') packIdle(sa);
  }
  sa.dropEmpty();
}

function idle(sa: IkeSa): boolean {
  return sa.pending === undefined && sa.waiting === undefined && sa.queue.length === 0;
}

/** IkeSa's SPIs and CHILD SA list are readonly to the exchanges; this swaps them for equal, smaller copies. */
type MutableSa = { spiI: Uint8Array; spiR: Uint8Array; children: ChildSa[] };

/**
 * An established SA with no exchange under way: both SPIs in one buffer (one ArrayBuffer less), and the CHILD SA
 * list copied to its exact length (an array grown by push keeps room for 17 entries, ~130 bytes for one CHILD SA).
 * No task holds either while the SA is idle.
 */
function packIdle(sa: IkeSa): void {
  const m = sa as unknown as MutableSa;
  if (sa.spiI.buffer !== sa.spiR.buffer && sa.spiI.length === 8 && sa.spiR.length === 8) {
    const b = new Uint8Array(16);
    b.set(sa.spiI);
    b.set(sa.spiR, 8);
    m.spiI = b.subarray(0, 8);
    m.spiR = b.subarray(8);
  }
  if (sa.children.length > 0) m.children = sa.children.slice();
}

/** ChildSa's fields are readonly to the exchanges; this is the one place that swaps them for equal shared values. */
type MutableChild = { set: TransformSet; localTs: readonly TrafficSelector[]; remoteTs: readonly TrafficSelector[] };

function compactChild(c: ChildSa): void {
  const m = c as unknown as MutableChild;
  m.set = internSet(c.set);
  if (!Object.isFrozen(c.localTs)) m.localTs = internTsList(c.localTs);
  if (!Object.isFrozen(c.remoteTs)) m.remoteTs = internTsList(c.remoteTs);
}

/**
 * What an IKE SA no longer needs once an operation on it is over, dropped so that a process can hold 100k
 * established SAs (issue 17). The endpoint calls compactSa for every SA an operation touched, when it settles.
 *
 *  - SK payload contexts (RFC 7296 3.14) are released while no exchange is under way on the SA: an idle SA sends
 *    a request every few minutes at most (DPD, rekey) and keys them again then (keys.ts LazySkKeys).
 *  - The IKE_SA_INIT messages and nonces are needed for AUTH (RealMessage1/2 with Nr/Ni, RFC 7296 2.15) and the
 *    first CHILD SA's KEYMAT (2.17) only, all of which happens before the SA is ESTABLISHED; rekeys carry their
 *    own nonces (2.18) and reauthentication starts a new SA, so an established SA keeps none of them.
 */
import type { IkeSa } from './ike-sa.js';
import { releaseSkContexts } from './keys.js';

const NONE = new Uint8Array(0);

export function compactSa(sa: IkeSa): void {
  const gone = sa.state === 'DESTROYING';
  if (sa.keys !== undefined && (gone || (sa.pending === undefined && sa.waiting === undefined && sa.queue.length === 0))) releaseSkContexts(sa.keys);
  if (gone || sa.state === 'ESTABLISHED') {
    sa.initRequest = NONE;
    sa.initResponse = NONE;
    sa.Ni = NONE;
    sa.Nr = NONE;
  }
}

/**
 * The IntAuth trailer that IKE_AUTH's AUTH computation appends after IKE_INTERMEDIATE exchanges (RFC 9242 3.3.2).
 * Its own module so auth-methods.ts needs only the SA record, not the IKE_INTERMEDIATE task (no import cycle).
 */
import type { IkeSa } from './ike-sa.js';
import { intAuthTrailer } from './intermediate-keys.js';

/** The RFC 9242 3.3.2 IntAuth trailer for AUTH, or an empty array when no IKE_INTERMEDIATE took place. */
export function intAuthForAuth(sa: IkeSa): Uint8Array {
  const st = sa.intermediate;
  if (!st || st.count === 0 || !st.intAuthI || !st.intAuthR) return new Uint8Array(0);
  // IKE_SA_INIT is message 0 and the IKE_INTERMEDIATE requests 1..N, so the IKE_AUTH request is N+1 (9242 3.3.2).
  return intAuthTrailer(st.intAuthI, st.intAuthR, st.count + 1);
}

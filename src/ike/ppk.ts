/**
 * Post-quantum Preshared Keys for IKEv2, RFC 8784: the pure parts (key mixing, PPK_IDENTITY notify data, and the
 * responder's/initiator's decision which keys authenticate). No state, no I/O: the IKE_AUTH tasks call these.
 *
 *  - Section 3: after IKE_SA_INIT both sides that exchanged USE_PPK recompute
 *      SK_d = prf+(PPK, SK_d'), SK_pi = prf+(PPK, SK_pi'), SK_pr = prf+(PPK, SK_pr')
 *    where the primed values are the RFC 7296 2.14 ones; the output length equals the original key's length.
 *    SK_a* and SK_e* are not changed.
 *  - Section 5.1 (IANA): PPK_IDENTITY notify data is one octet of PPK ID type followed by the ID.
 */
import { prfPlus, type Prf } from '../crypto/prf.js';

/** RFC 8784 section 5.2, "IKEv2 PPK ID Types". */
export const PPK_ID_OPAQUE = 1;
export const PPK_ID_FIXED = 2;

/** A clear error for bad PPK input (never a crash, preamble rule). */
export class PpkError extends Error {
  override readonly name = 'PpkError';
  constructor(
    readonly code: 'EMPTY_PPK' | 'BAD_PPK_IDENTITY',
    message: string,
  ) {
    super(message);
  }
}

export interface PpkMixableKeys {
  readonly SK_d: Uint8Array;
  readonly SK_pi: Uint8Array;
  readonly SK_pr: Uint8Array;
}

/** RFC 8784 section 3: the PPK-mixed SK_d, SK_pi and SK_pr, each as long as the value it replaces. */
export function mixPpk(prf: Prf, ppk: Uint8Array, keys: PpkMixableKeys): PpkMixableKeys {
  // An empty PPK would make the "post-quantum" keys depend on nothing secret beyond the classic ones; refuse it.
  if (ppk.length === 0) throw new PpkError('EMPTY_PPK', 'RFC 8784: the PPK is empty');
  return {
    SK_d: prfPlus(prf, ppk, keys.SK_d, keys.SK_d.length),
    SK_pi: prfPlus(prf, ppk, keys.SK_pi, keys.SK_pi.length),
    SK_pr: prfPlus(prf, ppk, keys.SK_pr, keys.SK_pr.length),
  };
}

export interface PpkIdentity {
  readonly type: number;
  readonly id: Uint8Array;
}

/** PPK_IDENTITY notify data (RFC 8784 section 3): PPK ID type, then the ID. */
export function encodePpkIdentity(p: PpkIdentity): Uint8Array {
  if (p.type < 1 || p.type > 255 || !Number.isInteger(p.type)) {
    throw new PpkError('BAD_PPK_IDENTITY', `RFC 8784: PPK ID type ${p.type} is not one octet`);
  }
  const out = new Uint8Array(1 + p.id.length);
  out[0] = p.type;
  out.set(p.id, 1);
  return out;
}

export function decodePpkIdentity(data: Uint8Array): PpkIdentity {
  const type = data[0];
  if (type === undefined) throw new PpkError('BAD_PPK_IDENTITY', 'RFC 8784: PPK_IDENTITY notify has no data (the type octet is missing)');
  if (type !== PPK_ID_OPAQUE && type !== PPK_ID_FIXED) {
    throw new PpkError('BAD_PPK_IDENTITY', `RFC 8784 5.2: PPK ID type ${type} is neither PPK_ID_OPAQUE (1) nor PPK_ID_FIXED (2)`);
  }
  if (data.length === 1) throw new PpkError('BAD_PPK_IDENTITY', 'RFC 8784: PPK_IDENTITY notify carries an empty PPK ID');
  return { type, id: data.slice(1) };
}

/** What the responder does in IKE_AUTH (RFC 8784 section 3). */
export type PpkResponderDecision =
  | { readonly kind: 'ppk'; readonly ppk: Uint8Array } // verify AUTH with the mixed keys, answer with PPK_IDENTITY
  | { readonly kind: 'no-ppk-auth' } // verify NO_PPK_AUTH's AUTH with the unmixed keys, answer without PPK_IDENTITY
  | { readonly kind: 'classic' } // PPK not negotiated: verify AUTH as RFC 7296
  | { readonly kind: 'fail'; readonly reason: string }; // send AUTHENTICATION_FAILED, log the reason

export interface PpkResponderInput {
  /** Both sides sent USE_PPK in IKE_SA_INIT. */
  readonly negotiated: boolean;
  /** This side's connection has ppk_required. */
  readonly required: boolean;
  /** The PPK_IDENTITY the initiator sent, if any. */
  readonly peerPpkId: Uint8Array | undefined;
  /** The initiator sent NO_PPK_AUTH. */
  readonly noPpkAuthPresent: boolean;
  /** Looks up our PPK by ID (secrets `ppk<suffix> { id, secret }`). */
  readonly lookup: (id: Uint8Array) => Uint8Array | undefined;
}

function idText(id: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(id);
}

export function decideResponderPpk(i: PpkResponderInput): PpkResponderDecision {
  if (!i.negotiated) {
    // Section 3: a responder that requires a PPK fails the exchange when the initiator did not offer one.
    return i.required ? { kind: 'fail', reason: 'PPK required but the initiator did not send USE_PPK' } : { kind: 'classic' };
  }
  if (i.peerPpkId === undefined) {
    return i.required
      ? { kind: 'fail', reason: 'PPK required but the initiator sent no PPK_IDENTITY' }
      : { kind: 'classic' };
  }
  const ppk = i.lookup(i.peerPpkId);
  if (ppk !== undefined) return { kind: 'ppk', ppk };
  // Section 3: the PPK ID is unknown; fall back to NO_PPK_AUTH only when our policy lets us.
  if (i.required) return { kind: 'fail', reason: `PPK required but PPK ID '${idText(i.peerPpkId)}' is unknown` };
  if (i.noPpkAuthPresent) return { kind: 'no-ppk-auth' };
  return { kind: 'fail', reason: `PPK ID '${idText(i.peerPpkId)}' is unknown and the initiator sent no NO_PPK_AUTH` };
}

/** What the initiator does with the IKE_AUTH response (RFC 8784 section 3). */
export type PpkInitiatorDecision =
  | { readonly kind: 'ppk' } // the responder used the PPK: verify its AUTH with the mixed keys, keep them
  | { readonly kind: 'classic' } // the responder did not: verify with the unmixed keys, keep those
  | { readonly kind: 'fail'; readonly reason: string };

export function decideInitiatorPpk(i: {
  readonly negotiated: boolean;
  readonly required: boolean;
  readonly responderSentPpkIdentity: boolean;
}): PpkInitiatorDecision {
  if (!i.negotiated) {
    return i.required ? { kind: 'fail', reason: 'PPK required but the responder did not send USE_PPK' } : { kind: 'classic' };
  }
  if (i.responderSentPpkIdentity) return { kind: 'ppk' };
  return i.required
    ? { kind: 'fail', reason: 'PPK required but the responder did not use it (no PPK_IDENTITY in IKE_AUTH response)' }
    : { kind: 'classic' };
}

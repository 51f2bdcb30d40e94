/**
 * From a negotiated transform set and a finished key exchange to working keys:
 *   IKE SA:   SKEYSEED and SK_d, SK_ai/ar, SK_ei/er, SK_pi/pr (RFC 7296 2.14), wrapped as SK payload keys.
 *   CHILD SA: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) (RFC 7296 2.17), split into per-direction keys.
 */
import type { CryptoBackend } from '../crypto/types.js';
import { createPrf, type Prf } from '../crypto/prf.js';
import { computeSKEYSEED, computeRekeySKEYSEED, deriveChildSaKeymat, deriveIkeSaKeys } from '../crypto/kdf.js';
import { createEncryption, createIntegrity, encrKeymatBytes, integKeyBytes, prfKeyBytes } from '../crypto/suite.js';
import { INTEG, type TransformSet } from '../crypto/transforms.js';
import type { SkKeys } from './codec/types.js';

export interface IkeSaKeys {
  readonly prf: Prf;
  readonly SK_d: Uint8Array;
  readonly SK_pi: Uint8Array;
  readonly SK_pr: Uint8Array;
  /** Keys for messages we send (SK_ei/SK_ai when we are the original initiator). */
  readonly out: SkKeys;
  /** Keys for messages we receive. */
  readonly in: SkKeys;
  /** The raw SK_e/SK_a keys, kept only when asked for (key export for capture decryption). */
  readonly raw?: { readonly SK_ei: Uint8Array; readonly SK_er: Uint8Array; readonly SK_ai: Uint8Array; readonly SK_ar: Uint8Array };
}

function integId(set: TransformSet): number {
  return set.integ ?? INTEG.NONE;
}

function skKeys(crypto: CryptoBackend, set: TransformSet, encr: Uint8Array, integ: Uint8Array): SkKeys {
  const encryption = createEncryption(set.encr, set.keyBits, encr, crypto);
  const id = integId(set);
  return id === INTEG.NONE ? { encryption } : { encryption, integrity: createIntegrity(id, integ, crypto) };
}

/**
 * Derives the IKE SA keys. `SKEYSEED` is computed from g^ir for a new SA, or with `rekey` from the old SA's SK_d
 * and PRF (RFC 7296 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)).
 */
export function deriveIkeKeys(
  crypto: CryptoBackend,
  set: TransformSet,
  args: {
    Ni: Uint8Array;
    Nr: Uint8Array;
    gir: Uint8Array;
    spiI: Uint8Array;
    spiR: Uint8Array;
    initiator: boolean;
    rekey?: { prf: Prf; SK_d: Uint8Array };
    exportKeys?: boolean;
  },
): IkeSaKeys {
  if (set.prf === undefined) throw new Error('IKE transform set without PRF');
  const prf = createPrf(set.prf, crypto);
  const SKEYSEED = args.rekey
    ? computeRekeySKEYSEED(args.rekey.prf, args.rekey.SK_d, args.gir, args.Ni, args.Nr)
    : computeSKEYSEED(prf, args.Ni, args.Nr, args.gir);
  const k = deriveIkeSaKeys(prf, SKEYSEED, args.Ni, args.Nr, args.spiI, args.spiR, {
    encrKey: encrKeymatBytes(set.encr, set.keyBits),
    integKey: set.integ === undefined || set.integ === INTEG.NONE ? 0 : integKeyBytes(set.integ),
    prfKey: prfKeyBytes(set.prf),
  });
  SKEYSEED.fill(0);
  const i2r = skKeys(crypto, set, k.SK_ei, k.SK_ai);
  const r2i = skKeys(crypto, set, k.SK_er, k.SK_ar);
  return {
    prf,
    SK_d: k.SK_d,
    SK_pi: k.SK_pi,
    SK_pr: k.SK_pr,
    out: args.initiator ? i2r : r2i,
    in: args.initiator ? r2i : i2r,
    ...(args.exportKeys ? { raw: { SK_ei: k.SK_ei, SK_er: k.SK_er, SK_ai: k.SK_ai, SK_ar: k.SK_ar } } : {}),
  };
}

export interface ChildKeys {
  readonly inbound: { encrKey: Uint8Array; integKey: Uint8Array };
  readonly outbound: { encrKey: Uint8Array; integKey: Uint8Array };
}

/**
 * RFC 7296 2.17: the keys for the initiator-to-responder SA come first (encryption then integrity), then the
 * responder-to-initiator SA. `initiator` is the role in the exchange that created this CHILD SA.
 */
export function deriveChildKeys(
  prf: Prf,
  SK_d: Uint8Array,
  set: TransformSet,
  args: { Ni: Uint8Array; Nr: Uint8Array; gir?: Uint8Array; initiator: boolean },
): ChildKeys {
  const e = encrKeymatBytes(set.encr, set.keyBits);
  const a = set.integ === undefined || set.integ === INTEG.NONE ? 0 : integKeyBytes(set.integ);
  const keymat = deriveChildSaKeymat(prf, SK_d, args.Ni, args.Nr, 2 * (e + a), args.gir);
  const i2r = { encrKey: keymat.slice(0, e), integKey: keymat.slice(e, e + a) };
  const r2i = { encrKey: keymat.slice(e + a, 2 * e + a), integKey: keymat.slice(2 * e + a, 2 * (e + a)) };
  keymat.fill(0);
  return args.initiator ? { outbound: i2r, inbound: r2i } : { outbound: r2i, inbound: i2r };
}

/**
 * IKEv2 key derivation, named as in RFC 7296: SKEYSEED and the IKE SA keys (section 2.14), CHILD SA KEYMAT with and
 * without PFS (section 2.17), and the SKEYSEED of a rekeyed IKE SA (section 2.18).
 */
import { CryptoError } from './errors.js';
import { concatBytes } from './bytes.js';
import { PRF_AES128_CMAC, PRF_AES128_XCBC, prfPlus, type Prf } from './prf.js';

const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

/**
 * RFC 7296 section 2.14: SKEYSEED = prf(Ni | Nr, g^ir).
 * "If the negotiated PRF is AES-XCBC-PRF-128 or AES-CMAC-PRF-128, only the first 64 bits of Ni and the first 64
 * bits of Nr are used in calculating SKEYSEED, but all the bits are used for input to the prf+ function."
 * (Nonces are at least 16 bytes, RFC 7296 section 2.10, so the 64-bit prefixes always exist.)
 */
export function computeSKEYSEED(prf: Prf, Ni: Uint8Array, Nr: Uint8Array, gir: Uint8Array): Uint8Array {
  if (prf.id === PRF_AES128_XCBC || prf.id === PRF_AES128_CMAC) {
    if (Ni.length < 8 || Nr.length < 8) {
      throw new CryptoError('INVALID_DATA_LENGTH', `SKEYSEED: nonces of ${Ni.length} and ${Nr.length} bytes are shorter than 64 bits`);
    }
    return prf.compute(concat(Ni.subarray(0, 8), Nr.subarray(0, 8)), gir);
  }
  return prf.compute(concat(Ni, Nr), gir);
}

export interface IkeSaKeySizes {
  /** Length of SK_ei / SK_er: the encryption key, including any salt or nonce (e.g. AES-GCM key | 4-byte salt). */
  readonly encrKey: number;
  /** Length of SK_ai / SK_ar; 0 for AEAD transforms, which have no separate integrity key (RFC 5282 section 7). */
  readonly integKey: number;
  /** Length of SK_d, SK_pi, SK_pr: the PRF's preferred key length (RFC 7296 section 2.13). */
  readonly prfKey: number;
}

export interface IkeSaKeys {
  readonly SK_d: Uint8Array;
  readonly SK_ai: Uint8Array;
  readonly SK_ar: Uint8Array;
  readonly SK_ei: Uint8Array;
  readonly SK_er: Uint8Array;
  readonly SK_pi: Uint8Array;
  readonly SK_pr: Uint8Array;
}

function checkSize(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new CryptoError('INVALID_KEY_LENGTH', `IKE SA keys: ${what} size ${n} is not a non-negative integer`);
}

/**
 * RFC 7296 section 2.14:
 *   {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr)
 * The IKE SPIs are 8 bytes each (RFC 7296 section 3.1).
 */
export function deriveIkeSaKeys(
  prf: Prf,
  SKEYSEED: Uint8Array,
  Ni: Uint8Array,
  Nr: Uint8Array,
  SPIi: Uint8Array,
  SPIr: Uint8Array,
  sizes: IkeSaKeySizes,
): IkeSaKeys {
  if (SPIi.length !== 8 || SPIr.length !== 8) {
    throw new CryptoError('INVALID_DATA_LENGTH', `IKE SA keys: SPIi is ${SPIi.length} and SPIr ${SPIr.length} bytes, both must be 8`);
  }
  checkSize('encr', sizes.encrKey);
  checkSize('integ', sizes.integKey);
  checkSize('prf', sizes.prfKey);
  const { encrKey: e, integKey: a, prfKey: p } = sizes;
  const total = p + 2 * a + 2 * e + 2 * p;
  const km = prfPlus(prf, SKEYSEED, concat(Ni, Nr, SPIi, SPIr), total);
  let off = 0;
  const take = (n: number): Uint8Array => {
    const r = km.slice(off, off + n);
    off += n;
    return r;
  };
  const keys: IkeSaKeys = {
    SK_d: take(p),
    SK_ai: take(a),
    SK_ar: take(a),
    SK_ei: take(e),
    SK_er: take(e),
    SK_pi: take(p),
    SK_pr: take(p),
  };
  km.fill(0);
  return keys;
}

/**
 * RFC 7296 section 2.17:
 *   KEYMAT = prf+(SK_d, Ni | Nr)                  (no PFS)
 *   KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr)     (with the optional Diffie-Hellman exchange)
 * Ni and Nr are the nonces of the CREATE_CHILD_SA exchange (or of IKE_SA_INIT for the first Child SA). The caller
 * splits KEYMAT: encryption key then integrity key for the initiator-to-responder SA, then the same for the other.
 */
export function deriveChildSaKeymat(
  prf: Prf,
  SK_d: Uint8Array,
  Ni: Uint8Array,
  Nr: Uint8Array,
  length: number,
  gir?: Uint8Array,
): Uint8Array {
  const seed = gir === undefined ? concat(Ni, Nr) : concat(gir, Ni, Nr);
  return prfPlus(prf, SK_d, seed, length);
}

/**
 * RFC 7296 section 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), with the nonces of the CREATE_CHILD_SA
 * exchange that rekeys the IKE SA; the new keys then follow section 2.14 with the new SPIs.
 */
export function computeRekeySKEYSEED(
  prf: Prf,
  SK_d_old: Uint8Array,
  gir: Uint8Array,
  Ni: Uint8Array,
  Nr: Uint8Array,
): Uint8Array {
  return prf.compute(SK_d_old, [gir, Ni, Nr]);
}

/**
 * RFC 9370 section 2.2.1 / 3: Transform Types 6-12, "Additional Key Exchange 1" ... "Additional Key Exchange 7"
 * (ADDKE1-7). They carry Key Exchange Method IDs (the Transform Type 4 registry, e.g. 36 = ML-KEM-768), and an
 * ADDKE transform with ID 0 (NONE) makes that additional exchange optional (RFC 9370 2.2.1).
 * Kept apart from TransformType (types 1-5) so code that switches over the classic types stays exhaustive.
 */
import { TransformType, transformName } from './transforms.js';

export const AdditionalKeTransformType = {
  ADDKE1: 6,
  ADDKE2: 7,
  ADDKE3: 8,
  ADDKE4: 9,
  ADDKE5: 10,
  ADDKE6: 11,
  ADDKE7: 12,
} as const;
export type AdditionalKeTransformTypeId = (typeof AdditionalKeTransformType)[keyof typeof AdditionalKeTransformType];

/** RFC 9370 2.2.1: Transform ID 0 in an ADDKE type means "no additional key exchange" (NONE). */
export const ADDKE_NONE = 0;

export function isAdditionalKeType(type: number): type is AdditionalKeTransformTypeId {
  return Number.isInteger(type) && type >= 6 && type <= 12;
}

/** 1..7 for Transform Types 6..12 (the n of ADDKEn, and of strongSwan's `ke<n>_` keyword prefix); null otherwise. */
export function additionalKeIndex(type: number): number | null {
  return isAdditionalKeType(type) ? type - 5 : null;
}

/** The Transform Type of ADDKEn, n in 1..7; a RangeError naming n otherwise. */
export function additionalKeType(n: number): AdditionalKeTransformTypeId {
  if (!Number.isInteger(n) || n < 1 || n > 7) throw new RangeError(`RFC 9370 defines ADDKE1 to ADDKE7, not ADDKE${n}`);
  return (n + 5) as AdditionalKeTransformTypeId;
}

/** IANA name of the type, "ADDKE1" ... "ADDKE7", as used in list-sas names (e.g. KE1_ML_KEM_768 is ADDKE1 = 36). */
export function additionalKeTypeName(type: number): string {
  const n = additionalKeIndex(type);
  return n === null ? `transform type ${type}` : `ADDKE${n}`;
}

/**
 * strongSwan 6's name for a negotiated additional exchange in list-sas and logs: `KE1_ML_KEM_768`, `KE2_ML_KEM_1024`
 * (the method's Transform Type 4 name after `KE<n>_`); ID 0 (NONE, RFC 9370 2.2.1) prints as `KE1_NONE`.
 */
export function additionalKeName(type: number, id: number): string {
  const n = additionalKeIndex(type);
  if (n === null) return `UNKNOWN_${type}_${id}`;
  if (id === ADDKE_NONE) return `KE${n}_NONE`;
  return `KE${n}_${transformName(TransformType.KE, id)}`;
}

/**
 * Typed errors of the crypto layer. Every failure at the crypto boundary is a CryptoError with a stable code,
 * so callers (IKE, ESP, tests) can branch on `code` and never on message text.
 */
import { CodedError } from '../util/coded-error.js';
export type CryptoErrorCode =
  | 'INVALID_KEY_LENGTH'
  | 'INVALID_NONCE_LENGTH'
  | 'INVALID_IV_LENGTH'
  | 'INVALID_DATA_LENGTH'
  | 'INVALID_OUTPUT_LENGTH'
  | 'TAG_MISMATCH'
  | 'INVALID_KE_VALUE'
  | 'UNSUPPORTED_ALGORITHM'
  | 'INVALID_PROPOSAL'
  | 'BACKEND_UNAVAILABLE'
  | 'DISPOSED';

export class CryptoError extends CodedError<CryptoErrorCode> {}

export function isCryptoError(e: unknown, code?: CryptoErrorCode): e is CryptoError {
  return e instanceof CryptoError && (code === undefined || e.code === code);
}

/**
 * Typed errors of the PKI layer. Loading and parsing failures throw a PkiError with a stable `code` and a
 * message naming the input (file name or what was being parsed) and the cause. Validation refusals are not
 * thrown: they are returned as `{ ok: false, code, message }` (see validate.ts).
 */
import { CodedError } from '../util/coded-error.js';
export type PkiErrorCode =
  | 'BAD_ENCODING' // not PEM/DER of the expected structure
  | 'BAD_KEY' // a private/public key that cannot be loaded
  | 'NEED_PASSPHRASE' // encrypted key or PKCS#12 without (or with a wrong) passphrase
  | 'BAD_CERT' // certificate structure invalid
  | 'BAD_CRL'
  | 'BAD_PKCS12'
  | 'UNSUPPORTED' // algorithm or option this implementation does not handle
  | 'BAD_ARGUMENT'
  | 'IO'; // a file could not be read (credential loading)

export class PkiError extends CodedError<PkiErrorCode> {}

export function isPkiError(e: unknown, code?: PkiErrorCode): e is PkiError {
  return e instanceof PkiError && (code === undefined || e.code === code);
}

/** The message of any thrown value, for wrapping third-party errors (pkijs, node:crypto) into PkiError. */
export function causeOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Typed errors of the EAP layer: a stable code for callers, a message naming the cause and the offset. */
import { CodedError } from '../util/coded-error.js';

export type EapErrorCode =
  | 'truncated' // fewer bytes than a header or a declared length needs
  | 'bad-length' // the Length field disagrees with the bytes received
  | 'bad-code' // Code is not 1-4 (RFC 3748 4)
  | 'bad-type' // a Type not allowed where it appears (Nak in a Request, Expanded types, ...)
  | 'bad-method-data' // a method's own fields are malformed (MSCHAPv2 value sizes, MD5 value size, TLS flags)
  | 'bad-identifier'; // a Response whose Identifier does not answer the outstanding Request (RFC 3748 4.1)

export class EapError extends CodedError<EapErrorCode> {}

/**
 * The one error type of src/identity: bad identity or distinguished-name input, in text or DER. `code` says
 * which form was bad, `offset` (when known) where: a character index into the text, or a byte offset into the DER.
 */
import { CodedError } from '../util/coded-error.js';
export type IdentityErrorCode = 'BAD_ID' | 'BAD_DN_TEXT' | 'BAD_DN_DER';

export class IdentityError extends CodedError<IdentityErrorCode> {
  readonly offset: number | undefined;
  constructor(message: string, code: IdentityErrorCode = 'BAD_ID', offset?: number) {
    super(code, message);
    this.offset = offset;
  }
}

/**
 * The one base of cygnet's typed errors (issue 12): a stable machine-readable `code` beside the human message, so
 * callers branch on the code and log the message. Each area keeps its own subclass and codes (CryptoError,
 * EspError, PkiError, ConfigError, ...): `instanceof CryptoError` and `e.code` read as before, and
 * `instanceof CodedError` catches any of them.
 */
export class CodedError<C extends string = string> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    // The subclass's own name ('CryptoError', ...), as its constructor is named.
    this.name = new.target.name;
  }
}

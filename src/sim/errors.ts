/** Typed errors of the simulation helpers: a stable `code` for tests to branch on. */
export type SimErrorCode = 'BAD_TIME' | 'BAD_ADDRESS' | 'BAD_IMPAIRMENT' | 'NAT_EXHAUSTED';

export class SimError extends Error {
  readonly code: SimErrorCode;
  constructor(code: SimErrorCode, message: string) {
    super(message);
    this.name = 'SimError';
    this.code = code;
  }
}

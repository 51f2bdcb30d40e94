import { CodedError } from '../util/coded-error.js';
/** Typed errors of the simulation helpers: a stable `code` for tests to branch on. */
export type SimErrorCode = 'BAD_TIME' | 'BAD_ADDRESS' | 'BAD_IMPAIRMENT' | 'NAT_EXHAUSTED';

export class SimError extends CodedError<SimErrorCode> {}

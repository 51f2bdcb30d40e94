/** Typed errors of the HA replication core (issue 20): each names its cause, none is a crash. */
import { CodedError } from '../util/coded-error.js';

export type HaErrorCode =
  /** The secrets key from the configuration is not 32 bytes of hex or base64. */
  | 'BAD_KEY'
  /** A sealed secret did not authenticate: another key, or the record was altered or swapped. */
  | 'UNSEAL_FAILED'
  /** A record read from the store is not one this version writes (shape, version, field types). */
  | 'BAD_RECORD'
  /** A write carried a fencing token older than the store's lease: another node is active. */
  | 'FENCED'
  /** Takeover refused: the lease is held, or the replicated state may be stale (see takeover.ts). */
  | 'TAKEOVER_REFUSED'
  /** Options out of range (seq gap not larger than the sync interval, and the like). */
  | 'BAD_OPTIONS'
  /** A record could not be put back into the endpoint (unknown connection, SPI in use). */
  | 'RESTORE_FAILED';

export class HaError extends CodedError<HaErrorCode> {}

/**
 * Errors of the ESP control surface (installSa, installPolicy, rollover). The data path never throws: every bad
 * packet is a DropReason, counted. These are for bad *configuration* handed in by IKE or a test.
 */
import { CodedError } from '../util/coded-error.js';
export type EspErrorCode =
  | 'UNSUPPORTED_SUITE'
  | 'BAD_KEY'
  | 'BAD_PARAMS'
  | 'DUPLICATE_SPI'
  | 'UNKNOWN_SPI'
  | 'UNKNOWN_POLICY';

export class EspError extends CodedError<EspErrorCode> {}

export function isEspError(e: unknown, code?: EspErrorCode): e is EspError {
  return e instanceof EspError && (code === undefined || e.code === code);
}

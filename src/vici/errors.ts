/**
 * Typed errors of the vici codec, framing and client. Every decoder in src/vici returns a value or throws a
 * ViciError (never anything else), with a stable `code` and, for byte-level problems, the `offset` where it was found.
 */
import { CodedError } from '../util/coded-error.js';
export type ViciErrorCode =
  /** The message or packet ends inside an element. */
  | 'TRUNCATED'
  /** An element type byte that is not 1..6 (README "Message format"). */
  | 'UNKNOWN_ELEMENT'
  /** SECTION_END without an open section, or a section still open at the end of the message. */
  | 'UNBALANCED_SECTION'
  /** LIST_END without an open list, a list still open at the end, or a list started inside a list. */
  | 'UNBALANCED_LIST'
  /** KEY_VALUE / SECTION_START inside a list, or LIST_ITEM outside one. */
  | 'MISPLACED_ELEMENT'
  /** A key, section or list name given twice in one section ("Key names must be unique"). */
  | 'DUPLICATE_KEY'
  /** A name that is empty, not UTF-8, or longer than 255 bytes. */
  | 'BAD_NAME'
  /** A value longer than 65535 bytes, or a value of a type that cannot be encoded. */
  | 'BAD_VALUE'
  /** A packet type byte that is not 0..7 (README "Packet layer"). */
  | 'UNKNOWN_PACKET_TYPE'
  /** A packet whose type carries no message but has trailing bytes. */
  | 'TRAILING_DATA'
  /** A length header above the 512 KiB limit of strongSwan's vici_socket.h, or an empty packet. */
  | 'BAD_LENGTH'
  /** Transport problems on a client connection: closed, refused, timed out, unexpected packet. */
  | 'CONNECTION'
  /** A command the server answered with CMD_UNKNOWN, or an event it answered with EVENT_UNKNOWN. */
  | 'UNKNOWN_COMMAND'
  | 'UNKNOWN_EVENT';

export class ViciError extends CodedError<ViciErrorCode> {
  /** Byte offset into the message or packet where the problem was found, when that applies. */
  readonly offset: number | undefined;
  constructor(code: ViciErrorCode, message: string, offset?: number) {
    super(code, offset === undefined ? message : `${message} (at byte ${offset})`);
    this.offset = offset;
  }
}

export function isViciError(e: unknown, code?: ViciErrorCode): e is ViciError {
  return e instanceof ViciError && (code === undefined || e.code === code);
}

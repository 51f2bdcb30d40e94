/**
 * Which error Notify answers a codec error (RFC 7296 2.5, 2.21, 3.10.1), so the endpoint does not re-derive it.
 *
 * - UNSUPPORTED_CRITICAL_PAYLOAD: Notification Data is the one-octet type of the payload (3.10.1).
 * - A higher major version: INVALID_MAJOR_VERSION carrying our version, sent unauthenticated (2.5); a lower one
 *   (IKEv1) is dropped silently.
 * - Structural errors (INVALID_SYNTAX, BAD_LENGTH, TRUNCATED, TOO_MANY_PAYLOADS): INVALID_SYNTAX. 3.10.1 allows it
 *   only in an encrypted response to a message whose Message ID and ICV were valid; the caller decides that.
 * - INTEGRITY_CHECK_FAILED and fragment errors: no answer, the message is dropped (2.21.2, RFC 7383 2.6).
 */
import { IKE_MAJOR_VERSION, IKE_MINOR_VERSION } from './message.js';
import { NotifyType, PayloadType, type IkeCodecError, type NotifyPayload } from './types.js';

function notify(notifyType: number, data: Uint8Array): NotifyPayload {
  return { type: PayloadType.NOTIFY, critical: false, protocol: 0, spi: new Uint8Array(0), notifyType, data };
}

/** The Notify to answer `error` with, or undefined to drop silently. `message` is the datagram that failed. */
export function notifyForError(error: IkeCodecError, message?: Uint8Array): NotifyPayload | undefined {
  switch (error.code) {
    case 'UNSUPPORTED_CRITICAL_PAYLOAD':
      return notify(NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, Uint8Array.of(error.payloadType ?? 0));
    case 'BAD_VERSION': {
      // RFC 7296 3.1: the version octet is byte 17 (major in the high nibble); absent when the datagram is shorter.
      const version = message?.[17];
      if (version === undefined || version >>> 4 <= IKE_MAJOR_VERSION) return undefined;
      return notify(NotifyType.INVALID_MAJOR_VERSION, Uint8Array.of((IKE_MAJOR_VERSION << 4) | IKE_MINOR_VERSION));
    }
    case 'INVALID_SYNTAX':
    case 'BAD_LENGTH':
    case 'TRUNCATED':
    case 'TOO_MANY_PAYLOADS':
      return notify(NotifyType.INVALID_SYNTAX, new Uint8Array(0));
    case 'INTEGRITY_CHECK_FAILED':
    case 'FRAGMENT_INVALID':
    case 'FRAGMENT_LIMIT':
      return undefined;
  }
}

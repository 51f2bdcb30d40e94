/**
 * EAP packets (RFC 3748 section 4): Request/Response carry a Type and its data, Success/Failure are four bytes.
 * Expanded types (254, RFC 3748 5.7) are refused: no method cygnet implements needs them.
 */
import { EapError } from './errors.js';

/** RFC 3748 4: Code. */
export const EapCode = { Request: 1, Response: 2, Success: 3, Failure: 4 } as const;
export type EapCodeValue = (typeof EapCode)[keyof typeof EapCode];

/** RFC 3748 5 and the IANA registry: the Types cygnet knows. */
export const EapType = {
  Identity: 1,
  Notification: 2,
  Nak: 3,
  Md5Challenge: 4,
  Tls: 13,
  MsChapV2: 26,
  Expanded: 254,
} as const;

const TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'Identity',
  2: 'Notification',
  3: 'Nak',
  4: 'MD5',
  13: 'TLS',
  21: 'TTLS',
  25: 'PEAP',
  26: 'MSCHAPv2',
  254: 'Expanded',
};
/** The Type's name for logs (EAP-MSCHAPv2, EAP-TLS, ...), or its number. */
export function eapTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}

export type EapPacket =
  | { readonly code: 1 | 2; readonly identifier: number; readonly type: number; readonly data: Uint8Array }
  | { readonly code: 3 | 4; readonly identifier: number };

const CODE_NAMES = ['', 'Request', 'Response', 'Success', 'Failure'];
export function eapCodeName(code: number): string {
  return CODE_NAMES[code] ?? `code ${code}`;
}

/**
 * Decodes one EAP packet. RFC 3748 4: octets past Length are padding and ignored; a Length beyond the bytes
 * received, or below the header, is an error. Success/Failure must be exactly 4 octets long (RFC 3748 4.2).
 */
export function decodeEap(bytes: Uint8Array): EapPacket {
  if (bytes.length < 4) throw new EapError('truncated', `EAP packet of ${bytes.length} bytes is shorter than its 4-byte header`);
  const code = bytes[0] ?? 0;
  const identifier = bytes[1] ?? 0;
  const length = ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0);
  if (length > bytes.length) {
    throw new EapError('bad-length', `EAP Length ${length} (offset 2) exceeds the ${bytes.length} bytes received`);
  }
  if (length < 4) throw new EapError('bad-length', `EAP Length ${length} (offset 2) is below the 4-byte header`);
  if (code === EapCode.Success || code === EapCode.Failure) {
    if (length !== 4) {
      throw new EapError('bad-length', `EAP ${eapCodeName(code)} has Length ${length} (offset 2), must be 4 (RFC 3748 4.2)`);
    }
    return { code, identifier };
  }
  if (code !== EapCode.Request && code !== EapCode.Response) {
    throw new EapError('bad-code', `EAP Code ${code} (offset 0) is none of Request, Response, Success, Failure (RFC 3748 4)`);
  }
  if (length < 5) {
    throw new EapError('truncated', `EAP ${eapCodeName(code)} of Length ${length} has no Type octet (offset 4)`);
  }
  const type = bytes[4] ?? 0;
  if (type === EapType.Expanded) {
    throw new EapError('bad-type', 'EAP Expanded Type (254, offset 4) is not supported');
  }
  if (type === 0) throw new EapError('bad-type', 'EAP Type 0 (offset 4) is reserved');
  if (type === EapType.Nak && code === EapCode.Request) {
    throw new EapError('bad-type', 'EAP Nak (offset 4) is only valid in a Response (RFC 3748 5.3.1)');
  }
  return { code, identifier, type, data: bytes.slice(5, length) };
}

/** Encodes a Request or Response with its Type and data. */
export function encodeEap(code: 1 | 2, identifier: number, type: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const length = 5 + data.length;
  if (length > 0xffff) throw new RangeError(`EAP packet of ${length} bytes exceeds the 16-bit Length`);
  const out = new Uint8Array(length);
  out[0] = code;
  out[1] = identifier & 0xff;
  out[2] = length >> 8;
  out[3] = length & 0xff;
  out[4] = type;
  out.set(data, 5);
  return out;
}

/** EAP-Success or EAP-Failure: the identifier is the one of the Response it answers (RFC 3748 4.2). */
export function encodeEapResult(code: 3 | 4, identifier: number): Uint8Array {
  return Uint8Array.of(code, identifier & 0xff, 0, 4);
}

/**
 * A Nak (RFC 3748 5.3.1) listing the types the peer would accept, in preference order; an empty list is sent
 * as the single type 0 ("no alternative").
 */
export function encodeNak(identifier: number, types: readonly number[]): Uint8Array {
  return encodeEap(EapCode.Response, identifier, EapType.Nak, Uint8Array.from(types.length === 0 ? [0] : types));
}

/** The types a Nak asks for (type 0 = none acceptable is dropped). */
export function decodeNak(data: Uint8Array): number[] {
  if (data.length === 0) throw new EapError('truncated', 'EAP Nak carries no desired Type (offset 5)');
  return [...data].filter((t) => t !== 0);
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
/** Identity data (RFC 3748 5.1): not NUL-terminated; a trailing NUL some clients add is dropped. */
export function decodeIdentity(data: Uint8Array): string {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  return utf8.decode(data.subarray(0, end));
}

/**
 * vici transport and packet layers (strongSwan vici README, "Transport protocol" and "Packet layer"):
 * a stream of segments, each a 32-bit big-endian length (of the data only) then the data; the data's first byte is
 * the packet type, named types follow with an 8-bit name length and the name, the rest is the message.
 *
 * `FrameDecoder` is sans-IO (feed chunks, get packets) so partial reads and several packets per chunk are tested
 * without sockets; `ViciStream` binds it to a node `net.Socket`.
 */
import type { Socket } from 'node:net';
import { ViciError } from './errors.js';
import { decodeMessage, encodeMessage, type ViciInput, type ViciMessage } from './message.js';

/** strongSwan vici_socket.h VICI_MESSAGE_SIZE_MAX: a segment above this closes the connection. */
export const VICI_MESSAGE_SIZE_MAX = 512 * 1024;

export const PacketType = {
  CMD_REQUEST: 0,
  CMD_RESPONSE: 1,
  CMD_UNKNOWN: 2,
  EVENT_REGISTER: 3,
  EVENT_UNREGISTER: 4,
  EVENT_CONFIRM: 5,
  EVENT_UNKNOWN: 6,
  EVENT: 7,
} as const;

export type ViciPacket =
  | { readonly type: 'CMD_REQUEST'; readonly name: string; readonly message: ViciMessage }
  | { readonly type: 'CMD_RESPONSE'; readonly message: ViciMessage }
  | { readonly type: 'CMD_UNKNOWN' }
  | { readonly type: 'EVENT_REGISTER'; readonly name: string }
  | { readonly type: 'EVENT_UNREGISTER'; readonly name: string }
  | { readonly type: 'EVENT_CONFIRM' }
  | { readonly type: 'EVENT_UNKNOWN' }
  | { readonly type: 'EVENT'; readonly name: string; readonly message: ViciMessage };

/** Same shapes for sending, with an encodable (wider) message type. */
export type ViciOutPacket =
  | { readonly type: 'CMD_REQUEST'; readonly name: string; readonly message?: ViciInput }
  | { readonly type: 'CMD_RESPONSE'; readonly message?: ViciInput }
  | { readonly type: 'CMD_UNKNOWN' }
  | { readonly type: 'EVENT_REGISTER'; readonly name: string }
  | { readonly type: 'EVENT_UNREGISTER'; readonly name: string }
  | { readonly type: 'EVENT_CONFIRM' }
  | { readonly type: 'EVENT_UNKNOWN' }
  | { readonly type: 'EVENT'; readonly name: string; readonly message?: ViciInput };

const TYPE_NAMES = ['CMD_REQUEST', 'CMD_RESPONSE', 'CMD_UNKNOWN', 'EVENT_REGISTER', 'EVENT_UNREGISTER', 'EVENT_CONFIRM', 'EVENT_UNKNOWN', 'EVENT'] as const;
const NAMED = new Set<number>([PacketType.CMD_REQUEST, PacketType.EVENT_REGISTER, PacketType.EVENT_UNREGISTER, PacketType.EVENT]);
const WITH_MESSAGE = new Set<number>([PacketType.CMD_REQUEST, PacketType.CMD_RESPONSE, PacketType.EVENT]);

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Encode a packet including its 4-byte length header. Throws ViciError (BAD_NAME, BAD_VALUE, BAD_LENGTH). */
export function encodePacket(p: ViciOutPacket): Uint8Array {
  const code = PacketType[p.type];
  let name: Uint8Array | undefined;
  if ('name' in p) {
    name = utf8.encode(p.name);
    if (name.length === 0 || name.length > 255) throw new ViciError('BAD_NAME', `packet name must be 1..255 bytes, got ${name.length}`);
  }
  const msg = 'message' in p && p.message !== undefined ? encodeMessage(p.message) : new Uint8Array(0);
  const len = 1 + (name ? 1 + name.length : 0) + msg.length;
  if (len > VICI_MESSAGE_SIZE_MAX) throw new ViciError('BAD_LENGTH', `packet of ${len} bytes exceeds the ${VICI_MESSAGE_SIZE_MAX}-byte limit`);
  const out = new Uint8Array(4 + len);
  new DataView(out.buffer).setUint32(0, len);
  let pos = 4;
  out[pos++] = code;
  if (name) {
    out[pos++] = name.length;
    out.set(name, pos);
    pos += name.length;
  }
  out.set(msg, pos);
  return out;
}

/** Decode one segment's data (without the length header). Throws only ViciError. */
export function decodePacket(data: Uint8Array): ViciPacket {
  if (data.length === 0) throw new ViciError('BAD_LENGTH', 'empty packet', 0);
  const code = data[0]!;
  const type = TYPE_NAMES[code];
  if (type === undefined) throw new ViciError('UNKNOWN_PACKET_TYPE', `unknown packet type ${code}`, 0);
  let pos = 1;
  let name = '';
  if (NAMED.has(code)) {
    if (data.length < 2) throw new ViciError('TRUNCATED', `${type} ends before its name length`, 1);
    const nlen = data[1]!;
    if (nlen === 0) throw new ViciError('BAD_NAME', `${type} with an empty name`, 1);
    if (data.length < 2 + nlen) throw new ViciError('TRUNCATED', `${type} ends inside its name`, 2);
    try {
      name = utf8Strict.decode(data.subarray(2, 2 + nlen));
    } catch {
      throw new ViciError('BAD_NAME', `${type} name is not valid UTF-8`, 2);
    }
    pos = 2 + nlen;
  }
  if (!WITH_MESSAGE.has(code)) {
    if (pos !== data.length) throw new ViciError('TRAILING_DATA', `${type} carries ${data.length - pos} unexpected byte(s)`, pos);
  }
  let message: ViciMessage;
  switch (type) {
    case 'CMD_REQUEST':
    case 'EVENT':
    case 'CMD_RESPONSE':
      try {
        message = decodeMessage(data.subarray(pos));
      } catch (e) {
        // Re-base the offset on the packet so the error names the byte in what was received.
        if (e instanceof ViciError) throw new ViciError(e.code, `${type}${name ? ` '${name}'` : ''}: ${stripAt(e.message)}`, e.offset === undefined ? undefined : e.offset + pos);
        throw e;
      }
      return type === 'CMD_RESPONSE' ? { type, message } : { type, name, message };
    case 'EVENT_REGISTER':
    case 'EVENT_UNREGISTER':
      return { type, name };
    default:
      return { type };
  }
}

function stripAt(m: string): string {
  return m.replace(/ \(at byte \d+\)$/, '');
}

/**
 * Reassembles segments from arbitrary chunks. A length above the limit (or zero) throws ViciError BAD_LENGTH, after
 * which the stream is unusable: the caller closes that connection, as charon does.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private failed = false;
  constructor(private readonly maxSize = VICI_MESSAGE_SIZE_MAX) {}

  /** Bytes held waiting for the rest of a segment. */
  get pending(): number {
    return this.buffered;
  }

  /** Feed a chunk; returns the complete segments' data (each without its length header). */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw new ViciError('BAD_LENGTH', 'stream already failed');
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const len = ((head[0]! << 24) >>> 0) + (head[1]! << 16) + (head[2]! << 8) + head[3]!;
      if (len === 0 || len > this.maxSize) {
        this.failed = true;
        throw new ViciError('BAD_LENGTH', `segment length ${len} outside 1..${this.maxSize}`);
      }
      if (this.buffered < 4 + len) break;
      this.take(4);
      out.push(this.take(len));
    }
    return out;
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let off = 0;
    for (const c of this.chunks) {
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (off === n) break;
    }
    return out;
  }

  private take(n: number): Uint8Array {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.slice(0, n);
    }
    if (first.length === n) {
      this.chunks.shift();
      return first.slice();
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}

export interface ViciStreamHandlers {
  packet(p: ViciPacket): void;
  /** A framing or decoding error: the stream has already been destroyed. */
  error(e: ViciError | Error): void;
  close(): void;
}

/**
 * A vici packet stream over a connected socket. Bad input (oversized length, undecodable packet) destroys this
 * socket only and reports the typed error; it never throws into the event loop.
 */
export class ViciStream {
  private readonly decoder: FrameDecoder;
  private closed = false;

  constructor(
    readonly socket: Socket,
    private readonly handlers: ViciStreamHandlers,
    maxSize = VICI_MESSAGE_SIZE_MAX,
  ) {
    this.decoder = new FrameDecoder(maxSize);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      this.handlers.close();
    });
  }

  get isClosed(): boolean {
    return this.closed || this.socket.destroyed;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let packets: ViciPacket[];
    try {
      packets = this.decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)).map(decodePacket);
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    for (const p of packets) {
      if (this.closed) return;
      this.handlers.packet(p);
    }
  }

  private fail(e: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.handlers.error(e);
    this.handlers.close();
  }

  /** Send a packet; returns false when the stream is closed (nothing sent). Encoding errors throw ViciError. */
  send(p: ViciOutPacket): boolean {
    const bytes = encodePacket(p);
    if (this.isClosed) return false;
    this.socket.write(bytes);
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    this.handlers.close();
  }
}

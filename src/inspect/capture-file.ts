/**
 * Reading pcap and pcapng capture files into frames (link type, timestamp, bytes).
 *
 * Our own reader rather than a parser package: both formats are a handful of fixed headers (pcap: a 24-byte file
 * header and 16-byte record headers; pcapng, IETF draft-ietf-opsawg-pcapng: SHB, IDB, EPB/SPB/PB blocks with a
 * length at both ends), we need only the frames, and a package would be a dependency for ~150 lines.
 * Malformed input is a CaptureFormatError naming the cause and the byte offset, never a crash.
 */
import { CodedError } from '../util/coded-error.js';

export type CaptureFormatErrorCode = 'NOT_A_CAPTURE' | 'TRUNCATED' | 'BAD_BLOCK';

export class CaptureFormatError extends CodedError<CaptureFormatErrorCode> {
  /** Byte offset in the file where the problem was found. */
  readonly offset: number;
  constructor(code: CaptureFormatErrorCode, offset: number, message: string) {
    super(code, `${message} (at byte ${offset})`);
    this.offset = offset;
  }
}

/** LINKTYPE_* values (tcpdump.org link-layer header types) the inspector reads. */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export interface CaptureFrame {
  /** 1-based frame number, as Wireshark counts. */
  readonly number: number;
  readonly linkType: number;
  /** Seconds since the epoch (fractional). */
  readonly time: number;
  /** Captured bytes (may be shorter than the original packet when a snap length cut it). */
  readonly data: Uint8Array;
  readonly originalLength: number;
}

export interface CaptureFile {
  readonly format: 'pcap' | 'pcapng';
  readonly frames: readonly CaptureFrame[];
}

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER = 0x1a2b3c4d;

/** Reads a pcap or pcapng file, telling them apart by the magic number. */
export function readCapture(bytes: Uint8Array): CaptureFile {
  if (bytes.length < 4) throw new CaptureFormatError('NOT_A_CAPTURE', 0, `file of ${bytes.length} bytes is too short for a capture`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const be = dv.getUint32(0, false);
  const le = dv.getUint32(0, true);
  if (be === PCAPNG_SHB) return { format: 'pcapng', frames: readPcapng(bytes, dv) };
  if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) return { format: 'pcap', frames: readPcap(bytes, dv, false, be === PCAP_MAGIC_NS) };
  if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) return { format: 'pcap', frames: readPcap(bytes, dv, true, le === PCAP_MAGIC_NS) };
  throw new CaptureFormatError('NOT_A_CAPTURE', 0, `magic 0x${be.toString(16).padStart(8, '0')} is neither pcap nor pcapng`);
}

function readPcap(bytes: Uint8Array, dv: DataView, le: boolean, nano: boolean): CaptureFrame[] {
  if (bytes.length < 24) throw new CaptureFormatError('TRUNCATED', 0, `pcap file header needs 24 bytes, the file has ${bytes.length}`);
  // The low 16 bits are the link type; the upper bits may carry FCS information (pcap spec section 4).
  const linkType = dv.getUint32(20, le) & 0xffff;
  const frames: CaptureFrame[] = [];
  let o = 24;
  while (o < bytes.length) {
    // A capture cut short mid-record (dumpcap killed) is common: keep what is whole, stop at the torn record.
    if (o + 16 > bytes.length) break;
    const sec = dv.getUint32(o, le);
    const frac = dv.getUint32(o + 4, le);
    const incl = dv.getUint32(o + 8, le);
    const orig = dv.getUint32(o + 12, le);
    if (incl > 0x4000000) throw new CaptureFormatError('BAD_BLOCK', o + 8, `pcap record claims ${incl} captured bytes`);
    if (o + 16 + incl > bytes.length) break;
    frames.push({ number: frames.length + 1, linkType, time: sec + frac / (nano ? 1e9 : 1e6), data: bytes.subarray(o + 16, o + 16 + incl), originalLength: orig });
    o += 16 + incl;
  }
  return frames;
}

interface Interface {
  readonly linkType: number;
  /** Timestamp units per second. */
  readonly unitsPerSecond: number;
}

function readPcapng(bytes: Uint8Array, dv: DataView): CaptureFrame[] {
  const frames: CaptureFrame[] = [];
  let le = true;
  let interfaces: Interface[] = [];
  let o = 0;
  while (o < bytes.length) {
    if (o + 12 > bytes.length) break; // torn last block
    const typeBe = dv.getUint32(o, false);
    if (typeBe === PCAPNG_SHB) {
      // Section Header Block: the byte-order magic sets the endianness of this section (pcapng section 4.1).
      const bom = dv.getUint32(o + 8, false);
      if (bom === PCAPNG_BYTE_ORDER) le = false;
      else if (dv.getUint32(o + 8, true) === PCAPNG_BYTE_ORDER) le = true;
      else throw new CaptureFormatError('BAD_BLOCK', o + 8, `section header byte-order magic 0x${bom.toString(16)} is not 0x1a2b3c4d`);
      interfaces = [];
    }
    const type = dv.getUint32(o, le);
    const len = dv.getUint32(o + 4, le);
    if (len < 12 || len % 4 !== 0) throw new CaptureFormatError('BAD_BLOCK', o + 4, `block type 0x${type.toString(16)} has length ${len} (at least 12, a multiple of 4)`);
    if (o + len > bytes.length) break;
    if (dv.getUint32(o + len - 4, le) !== len) {
      throw new CaptureFormatError('BAD_BLOCK', o + len - 4, `block type 0x${type.toString(16)}: trailing length differs from ${len}`);
    }
    const body = o + 8;
    const end = o + len - 4;
    switch (type) {
      case 1: {
        // Interface Description Block (4.2): link type, snap length, options (if_tsresol = 9).
        if (end - body < 8) throw new CaptureFormatError('BAD_BLOCK', body, 'interface description block shorter than 8 bytes');
        interfaces.push({ linkType: dv.getUint16(body, le), unitsPerSecond: tsResolution(bytes, dv, body + 8, end, le) });
        break;
      }
      case 6:
      case 2: {
        // Enhanced Packet Block (4.3) and the obsolete Packet Block (appendix): interface, timestamp, lengths, data.
        if (end - body < 20) throw new CaptureFormatError('BAD_BLOCK', body, 'packet block shorter than 20 bytes');
        const ifId = type === 6 ? dv.getUint32(body, le) : dv.getUint16(body, le);
        const iface = interfaces[ifId];
        if (!iface) throw new CaptureFormatError('BAD_BLOCK', body, `packet block names interface ${ifId}, only ${interfaces.length} described`);
        const ts = dv.getUint32(body + 4, le) * 2 ** 32 + dv.getUint32(body + 8, le);
        const cap = dv.getUint32(body + 12, le);
        const orig = dv.getUint32(body + 16, le);
        if (body + 20 + cap > end) throw new CaptureFormatError('BAD_BLOCK', body + 12, `captured length ${cap} exceeds the block`);
        frames.push({ number: frames.length + 1, linkType: iface.linkType, time: ts / iface.unitsPerSecond, data: bytes.subarray(body + 20, body + 20 + cap), originalLength: orig });
        break;
      }
      case 3: {
        // Simple Packet Block (4.4): interface 0, no timestamp; captured length is what fits the block.
        const iface = interfaces[0];
        if (!iface) throw new CaptureFormatError('BAD_BLOCK', body, 'simple packet block before any interface description');
        const orig = dv.getUint32(body, le);
        const cap = Math.min(orig, end - body - 4);
        frames.push({ number: frames.length + 1, linkType: iface.linkType, time: 0, data: bytes.subarray(body + 4, body + 4 + cap), originalLength: orig });
        break;
      }
      default:
        break; // SHB handled above; name resolution, statistics, custom blocks: nothing to read
    }
    o += len;
  }
  return frames;
}

/** if_tsresol (option 9): 10^-n, or 2^-n with the high bit set; default microseconds (pcapng 4.2). */
function tsResolution(bytes: Uint8Array, dv: DataView, o: number, end: number, le: boolean): number {
  while (o + 4 <= end) {
    const code = dv.getUint16(o, le);
    const len = dv.getUint16(o + 2, le);
    if (code === 0) break;
    if (code === 9 && len >= 1) {
      const v = bytes[o + 4]!;
      return v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
    }
    o += 4 + ((len + 3) & ~3);
  }
  return 1e6;
}

/**
 * Hand-built capture files and frames for the inspect tests: pcap and pcapng writers (either byte order) and
 * IPv4/UDP/Ethernet wrappers. Test support only (not exported from src/inspect/index.ts).
 */
export interface TestFrame {
  readonly data: Uint8Array;
  /** Seconds. */
  readonly time?: number;
}

function writer(le: boolean) {
  const parts: number[] = [];
  return {
    u8: (v: number) => parts.push(v & 0xff),
    u16: (v: number) => (le ? parts.push(v & 0xff, (v >>> 8) & 0xff) : parts.push((v >>> 8) & 0xff, v & 0xff)),
    u32(v: number) {
      const b = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
      parts.push(...(le ? b.reverse() : b));
    },
    bytes: (b: Uint8Array) => parts.push(...b),
    pad4: () => {
      while (parts.length % 4) parts.push(0);
    },
    get length() {
      return parts.length;
    },
    done: () => Uint8Array.from(parts),
  };
}

/** A classic pcap file (microsecond or nanosecond timestamps). */
export function pcapFile(linkType: number, frames: readonly TestFrame[], opts: { le?: boolean; nano?: boolean } = {}): Uint8Array {
  const w = writer(opts.le ?? true);
  w.u32(opts.nano ? 0xa1b23c4d : 0xa1b2c3d4);
  w.u16(2);
  w.u16(4);
  w.u32(0);
  w.u32(0);
  w.u32(65535);
  w.u32(linkType);
  for (const f of frames) {
    const t = f.time ?? 0;
    const sec = Math.floor(t);
    w.u32(sec);
    w.u32(Math.round((t - sec) * (opts.nano ? 1e9 : 1e6)));
    w.u32(f.data.length);
    w.u32(f.data.length);
    w.bytes(f.data);
  }
  return w.done();
}

/**
 * A pcapng file: SHB, one IDB per link type (with if_tsresol when `tsresol` is given), then an EPB per frame on
 * interface `iface` (default 0), or a SPB when `simple`.
 */
export function pcapngFile(
  linkTypes: readonly number[],
  frames: readonly (TestFrame & { iface?: number; simple?: boolean })[],
  opts: { le?: boolean; tsresol?: number } = {},
): Uint8Array {
  const le = opts.le ?? true;
  const blocks: Uint8Array[] = [];
  const block = (type: number, body: (w: ReturnType<typeof writer>) => void): void => {
    const b = writer(le);
    body(b);
    b.pad4();
    const inner = b.done();
    const w = writer(le);
    w.u32(type);
    w.u32(inner.length + 12);
    w.bytes(inner);
    w.u32(inner.length + 12);
    blocks.push(w.done());
  };
  block(0x0a0d0d0a, (w) => {
    w.u32(0x1a2b3c4d);
    w.u16(1);
    w.u16(0);
    w.u32(0xffffffff);
    w.u32(0xffffffff);
  });
  for (const lt of linkTypes) {
    block(1, (w) => {
      w.u16(lt);
      w.u16(0);
      w.u32(0);
      if (opts.tsresol !== undefined) {
        w.u16(9);
        w.u16(1);
        w.u8(opts.tsresol);
        w.pad4();
        w.u16(0);
        w.u16(0);
      }
    });
  }
  const perSecond = opts.tsresol === undefined ? 1e6 : opts.tsresol & 0x80 ? 2 ** (opts.tsresol & 0x7f) : 10 ** opts.tsresol;
  for (const f of frames) {
    if (f.simple) {
      block(3, (w) => {
        w.u32(f.data.length);
        w.bytes(f.data);
      });
      continue;
    }
    block(6, (w) => {
      const ts = Math.round((f.time ?? 0) * perSecond);
      w.u32(f.iface ?? 0);
      w.u32(Math.floor(ts / 2 ** 32));
      w.u32(ts % 2 ** 32);
      w.u32(f.data.length);
      w.u32(f.data.length);
      w.bytes(f.data);
    });
  }
  const total = blocks.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const b of blocks) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

const ip4 = (s: string): number[] => s.split('.').map(Number);

/** An IPv4 packet carrying `payload` as `proto` (no checksum: readers here do not verify it). */
export function ipv4(src: string, dst: string, proto: number, payload: Uint8Array, opts: { id?: number; fragOffset?: number; more?: boolean } = {}): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  p[0] = 0x45;
  p[2] = p.length >>> 8;
  p[3] = p.length & 0xff;
  p[4] = (opts.id ?? 0) >>> 8;
  p[5] = (opts.id ?? 0) & 0xff;
  const fo = ((opts.fragOffset ?? 0) / 8) | (opts.more ? 0x2000 : 0);
  p[6] = fo >>> 8;
  p[7] = fo & 0xff;
  p[8] = 64;
  p[9] = proto;
  p.set(ip4(src), 12);
  p.set(ip4(dst), 16);
  p.set(payload, 20);
  return p;
}

export function udp(sport: number, dport: number, payload: Uint8Array): Uint8Array {
  const u = new Uint8Array(8 + payload.length);
  u[0] = sport >>> 8;
  u[1] = sport & 0xff;
  u[2] = dport >>> 8;
  u[3] = dport & 0xff;
  u[4] = u.length >>> 8;
  u[5] = u.length & 0xff;
  u.set(payload, 8);
  return u;
}

/** A TCP segment (RFC 9293 3.1, 20-byte header, no options; checksum left 0: the inspector does not check it). */
export function tcp(sport: number, dport: number, seq: number, flags: { syn?: boolean; fin?: boolean; rst?: boolean; ack?: number }, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const t = new Uint8Array(20 + payload.length);
  const dv = new DataView(t.buffer);
  dv.setUint16(0, sport);
  dv.setUint16(2, dport);
  dv.setUint32(4, seq >>> 0);
  dv.setUint32(8, (flags.ack ?? 0) >>> 0);
  t[12] = 5 << 4;
  t[13] = (flags.fin ? 0x01 : 0) | (flags.syn ? 0x02 : 0) | (flags.rst ? 0x04 : 0) | (flags.ack !== undefined ? 0x10 : 0);
  dv.setUint16(14, 65535);
  t.set(payload, 20);
  return t;
}

/** An RFC 9329 frame: 16-bit Length counting itself, then the message. */
export function tcpFrame(message: Uint8Array): Uint8Array {
  const f = new Uint8Array(2 + message.length);
  f[0] = f.length >>> 8;
  f[1] = f.length & 0xff;
  f.set(message, 2);
  return f;
}

/** An Ethernet II frame around an IP packet (ethertype from the version nibble), optionally VLAN-tagged. */
export function ethernet(ip: Uint8Array, vlan?: number): Uint8Array {
  const type = ip[0]! >> 4 === 6 ? 0x86dd : 0x0800;
  const head = vlan === undefined ? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] : [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x81, 0x00, vlan >>> 8, vlan & 0xff];
  return Uint8Array.from([...head, type >>> 8, type & 0xff, ...ip]);
}

export const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Address } from '../ike/config.js';
import type { GatewayNet } from '../gateway/gateway.js';
import { IKETCP_PREFIX, TcpDeframer, TcpFrameBatch } from '../net/tcp-encap.js';
import { Logger } from './logger.js';
import { TcpEncapNet, tcpPeers } from './tcp-encap-net.js';

interface Got {
  data: Uint8Array;
  local: Address;
  remote: Address;
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function freeTcpPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function setup(opts: { tcpPort: number; hasSa?: (a: string) => boolean; idleStreamMs?: number; lookup?: (name: string) => string | undefined; sas?: () => { local: Address; remote: Address }[] }) {
  const udpSent: string[] = [];
  const udp: GatewayNet = {
    sendIke: (_l, r) => void udpSent.push(`ike ${r.address}:${r.port}`),
    sendEsp: (_b, _o, _n, _l, r) => void udpSent.push(`esp ${r.address}:${r.port}`),
    flushEsp: () => {},
  };
  const lines: string[] = [];
  const got: Got[] = [];
  const t = new TcpEncapNet({
    udp,
    log: new Logger({ write: (l) => lines.push(l), levels: new Map([['any', 2]]) }),
    ikePort: 500,
    nattPort: 4500,
    tcpPort: opts.tcpPort,
    clock: () => performance.now(),
    hasSa: opts.hasSa ?? (() => true),
    onMessage: (data, local, remote) => got.push({ data: data.slice(), local: { ...local }, remote: { ...remote } }),
    onIdle: () => {},
    ...(opts.idleStreamMs !== undefined ? { idleStreamMs: opts.idleStreamMs } : {}),
    ...(opts.lookup ? { lookup: opts.lookup } : {}),
    ...(opts.sas ? { sas: opts.sas } : {}),
  });
  cleanup.push(() => t.close());
  return { t, udpSent, lines, got };
}

/** A raw TCP client to the listener: what it reads, deframed (the responder sends no prefix). */
async function client(port: number, localAddress?: string) {
  const sock = net.connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) });
  await new Promise<void>((r, j) => (sock.once('connect', () => r()), sock.once('error', j)));
  const d = new TcpDeframer({ expectPrefix: false });
  const read: Uint8Array[] = [];
  let ended = false;
  sock.on('data', (c: Buffer) => read.push(...d.push(new Uint8Array(c))));
  sock.on('close', () => (ended = true));
  sock.on('error', () => {});
  cleanup.push(() => void sock.destroy());
  return { sock, read, ended: () => ended };
}

const IKE = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, ...new Array(28).fill(9)]); // SPIi first: no marker
const withMarker = (d: Uint8Array): Uint8Array => Uint8Array.from([0, 0, 0, 0, ...d]);
const framed = (msgs: Uint8Array[], prefix: boolean): Uint8Array => {
  const b = new TcpFrameBatch({ prefix });
  for (const m of msgs) b.add(m);
  return b.take() ?? new Uint8Array(0);
};

describe('TcpEncapNet as the responder (RFC 9329)', () => {
  it('frames enter as NAT-T datagrams from the stream address; answers go back on that stream, never UDP', async () => {
    const port = await freeTcpPort();
    const { t, got, udpSent } = setup({ tcpPort: port });
    await t.listen('127.0.0.1');
    const c = await client(port);
    const esp = Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 0, 1, 5, 5);
    c.sock.write(framed([withMarker(IKE), esp], true));
    await until(() => got.length === 2, 'two messages');
    const from = { address: '127.0.0.1', port: c.sock.localPort };
    expect(got[0]).toEqual({ data: withMarker(IKE), local: { address: '127.0.0.1', port: 4500 }, remote: from });
    expect(got[1]?.data).toEqual(esp);
    expect(t.transportOf(from as Address)).toBe('tcp');

    t.sendIke({ address: '127.0.0.1', port: 4500 }, from as Address, withMarker(IKE));
    t.sendEsp(Uint8Array.from([9, ...esp, 9]), 1, esp.length, { address: '127.0.0.1', port: 4500 }, from as Address);
    t.flushEsp();
    await until(() => c.read.length === 2, 'the answers on the stream');
    expect(c.read[0]).toEqual(withMarker(IKE));
    expect(c.read[1]).toEqual(esp);
    // RFC 9329 6.6: no keepalives on TCP.
    t.sendIke({ address: '127.0.0.1', port: 4500 }, from as Address, Uint8Array.of(0xff));
    c.sock.destroy();
    await until(() => t.stats().tcpStreamsClosed === 1, 'the close');
    // The stream is gone: the responder does not connect (6.1) nor fall back to UDP.
    t.sendIke({ address: '127.0.0.1', port: 4500 }, from as Address, withMarker(IKE));
    expect(udpSent).toEqual([]);
    expect(t.stats().tcpDropped).toBe(1);
    expect(c.read.length).toBe(2);
  });

  it('a stream that does not start with IKETCP is closed, naming the cause and the byte', async () => {
    const port = await freeTcpPort();
    const { t, lines, got } = setup({ tcpPort: port });
    await t.listen('127.0.0.1');
    const c = await client(port);
    c.sock.write('GET / HTTP/1.1\r\n\r\n');
    await until(() => c.ended(), 'the close');
    expect(lines.join('\n')).toMatch(/TCP connection 127\.0\.0\.1\[\d+\]-127\.0\.0\.1\[\d+\] bad-prefix: stream does not start with "IKETCP" \(RFC 9329 section 4\): byte 0 is 0x47/);
    expect(got).toEqual([]);
  });

  it('a frame with a Length below 3 is malformed: closed with the stream offset', async () => {
    const port = await freeTcpPort();
    const { t, lines } = setup({ tcpPort: port });
    await t.listen('127.0.0.1');
    const c = await client(port);
    c.sock.write(Uint8Array.from([...IKETCP_PREFIX, 0, 1]));
    await until(() => c.ended(), 'the close');
    expect(lines.join('\n')).toMatch(/bad-length: frame at stream offset 6 has Length 1/);
  });

  it('a stream whose peer has no IKE SA is closed after the idle time', async () => {
    const port = await freeTcpPort();
    const { t, lines } = setup({ tcpPort: port, hasSa: () => false, idleStreamMs: 100 });
    await t.listen('127.0.0.1');
    const c = await client(port);
    c.sock.write(IKETCP_PREFIX);
    await until(() => c.ended(), 'the idle close');
    expect(lines.join('\n')).toMatch(/closed: no IKE SA with 127\.0\.0\.1 after 100 ms/);
  });
});

describe('TcpEncapNet as the initiator (RFC 9329)', () => {
  it('encap = tcp: IKETCP then framed IKE with the marker added; retransmissions and keepalives stay off the stream; answers enter as the core sent', async () => {
    const port = await freeTcpPort();
    const received: Uint8Array[] = [];
    let peer: net.Socket | undefined;
    const server = net.createServer((s) => {
      peer = s;
      const d = new TcpDeframer({ expectPrefix: true });
      s.on('data', (c: Buffer) => received.push(...d.push(new Uint8Array(c))));
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    cleanup.push(() => void peer?.destroy());
    const { t, got, udpSent, lines } = setup({ tcpPort: port });
    t.setPeers(tcpPeers([{ name: 'gw', remoteAddrs: ['127.0.0.1', '%any'] }], new Map([['gw', 'tcp']])));
    const local = { address: '127.0.0.1', port: 500 };
    const remote = { address: '127.0.0.1', port: 500 };
    t.sendIke(local, remote, IKE); // IKE_SA_INIT on port 500: no marker from the core
    t.sendIke(local, remote, IKE); // its retransmission (before the connection is even up)
    t.sendIke(local, remote, Uint8Array.of(0xff));
    await until(() => received.length === 1 && peer !== undefined, 'the IKE message at the peer');
    expect(received[0]).toEqual(withMarker(IKE));
    peer?.write(framed([withMarker(IKE)], false));
    await until(() => got.length === 1, 'the answer');
    // The core sent from 500 to 500: the answer comes back as a port-500 datagram, marker stripped.
    expect(got[0]).toEqual({ data: IKE, local, remote });
    expect(udpSent).toEqual([]);
    expect(t.stats().tcpStreamsOpened).toBe(1);
    expect(lines.join('\n')).toMatch(/sending packet: from 127\.0\.0\.1\[500\] to 127\.0\.0\.1\[500\] over TCP \(connecting\)-127\.0\.0\.1\[\d+\] \(36 bytes\)/);
    expect(lines.filter((l) => l.includes('sending packet'))).toHaveLength(1);
  });

  it('answers enter as the conversation the core sent that kind of message on: IKE_SA_INIT on 500, the rest on 4500', async () => {
    const port = await freeTcpPort();
    let peer: net.Socket | undefined;
    const server = net.createServer((s) => {
      peer = s;
      s.on('data', () => {});
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    cleanup.push(() => void peer?.destroy());
    const { t, got } = setup({ tcpPort: port });
    t.setPeers(tcpPeers([{ name: 'gw', remoteAddrs: ['127.0.0.1'] }], new Map([['gw', 'tcp']])));
    const ike = (exchange: number, marker: boolean): Uint8Array => {
      const m = Uint8Array.from(IKE);
      m[18] = exchange;
      return marker ? withMarker(m) : m;
    };
    const at = (port: number): Address => ({ address: '127.0.0.1', port });
    t.sendIke(at(500), at(500), ike(34, false)); // IKE_SA_INIT request, from port 500 as the core sends it
    await until(() => peer !== undefined, 'the connection');
    // The peer answers IKE_SA_INIT, then (before the core sent anything on 4500) an INFORMATIONAL request.
    peer?.write(framed([ike(34, true), ike(37, true)], false));
    await until(() => got.length === 2, 'two messages');
    expect(got[0]).toEqual({ data: ike(34, false), local: at(500), remote: at(500) });
    expect(got[1]).toEqual({ data: ike(37, true), local: at(4500), remote: at(4500) });
    // Another IKE_SA_INIT (a second SA, or a reauthentication) does not move the established conversation.
    t.sendIke(at(4500), at(4500), ike(35, true));
    t.sendIke(at(500), at(500), ike(34, false).map((b, i) => (i === 0 ? 0x77 : b)));
    peer?.write(framed([ike(36, true), ike(34, true)], false));
    await until(() => got.length === 4, 'two more');
    expect(got[2]).toMatchObject({ local: at(4500), remote: at(4500) });
    expect(got[3]).toMatchObject({ local: at(500), remote: at(500) });
    // ESP rides the NAT-T conversation.
    peer?.write(framed([Uint8Array.of(0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 0)], false));
    await until(() => got.length === 5, 'ESP');
    expect(got[4]).toMatchObject({ local: at(4500), remote: at(4500) });
  });

  it('tcp-fallback: UDP until a retransmission got no UDP answer; an answer over UDP keeps it there', async () => {
    const port = await freeTcpPort();
    const { t, udpSent, lines } = setup({ tcpPort: port });
    t.setPeers(tcpPeers([{ name: 'a', remoteAddrs: ['192.0.2.9'] }, { name: 'b', remoteAddrs: ['192.0.2.10'] }], new Map([['a', 'tcp-fallback'], ['b', 'tcp-fallback']])));
    const local = { address: '127.0.0.1', port: 500 };
    const a = { address: '192.0.2.9', port: 500 };
    const b = { address: '192.0.2.10', port: 500 };
    t.sendIke(local, a, IKE);
    t.sendIke(local, b, IKE);
    expect(t.watchingUdp).toBe(true);
    t.noteUdp('192.0.2.10');
    t.sendIke(local, a, IKE);
    t.sendIke(local, b, IKE);
    expect(udpSent).toEqual(['ike 192.0.2.9:500', 'ike 192.0.2.10:500', 'ike 192.0.2.10:500']);
    expect(lines.join('\n')).toMatch(/no answer from 192\.0\.2\.9 over UDP, retransmitting over TCP port \d+ \(encap = tcp-fallback, RFC 9329 5\.1\)/);
    expect(t.transportOf(a)).toBe('tcp');
    expect(t.transportOf(b)).toBe('udp');
    // Asking for the transport opens nothing (the one stream is the retransmission's).
    expect(t.stats().tcpStreamsOpened).toBe(1);
    expect(t.watchingUdp).toBe(false);
  });
});

describe('TcpEncapNet with a DNS name in remote_addrs', () => {
  it('a datagram to the address the name resolves to now goes on TCP', async () => {
    const port = await freeTcpPort();
    const names = new Map([['gw.example', '192.0.2.20']]);
    const { t: t2, udpSent } = setup({ tcpPort: port, lookup: (n) => names.get(n) });
    t2.setPeers(tcpPeers([{ name: 'gw', remoteAddrs: ['gw.example', '%any'] }], new Map([['gw', 'tcp-fallback']]), (a) => /[a-z]/.test(a) && !a.startsWith('%')));
    expect(t2.transportOf({ address: '192.0.2.20', port: 500 })).toBe('udp');
    t2.sendIke({ address: '127.0.0.1', port: 500 }, { address: '192.0.2.20', port: 500 }, IKE);
    t2.sendIke({ address: '127.0.0.1', port: 500 }, { address: '192.0.2.20', port: 500 }, IKE);
    expect(udpSent).toEqual(['ike 192.0.2.20:500']);
    expect(t2.transportOf({ address: '192.0.2.20', port: 500 })).toBe('tcp');
    // The name moves: the new address is the peer now, the old one is not.
    names.set('gw.example', '192.0.2.21');
    expect(t2.transportOf({ address: '192.0.2.21', port: 500 })).toBe('tcp');
    expect(t2.transportOf({ address: '192.0.2.20', port: 500 })).toBe('udp');
  });
});

describe('tcpPeers', () => {
  it('concrete remote addresses of TCP connections; tcp wins over tcp-fallback for a shared address', () => {
    const peers = tcpPeers(
      [
        { name: 'a', remoteAddrs: ['192.0.2.1', '%any', 'vpn.example.com', '10.0.0.0/8'] },
        { name: 'b', remoteAddrs: ['192.0.2.1', '2001:db8::1'] },
        { name: 'c', remoteAddrs: ['192.0.2.7'] },
      ],
      new Map([['a', 'tcp-fallback'], ['b', 'tcp']]),
    );
    expect(peers).toEqual([
      { address: '192.0.2.1', mode: 'tcp', conns: ['a', 'b'] },
      { address: '2001:db8::1', mode: 'tcp', conns: ['b'] },
    ]);
    expect(tcpPeers([{ name: 'a', remoteAddrs: ['vpn.example.com', '%any'] }], new Map([['a', 'tcp']]), (x) => !x.startsWith('%'))).toEqual([
      { address: 'vpn.example.com', name: true, mode: 'tcp', conns: ['a'] },
    ]);
  });
});

describe('TcpEncapNet with MOBIKE (RFC 9329 7.1, RFC 4555)', () => {
  const at = (address: string, port = 4500): Address => ({ address, port });
  const info = (marker: boolean): Uint8Array => {
    const m = Uint8Array.from(IKE);
    m[18] = 37; // INFORMATIONAL: UPDATE_SA_ADDRESSES rides one
    return marker ? withMarker(m) : m;
  };

  it('initiator: a stream per (local, remote) path; the update from the new address opens a new stream from it; the old one is closed, not reconnected', async () => {
    const port = await freeTcpPort();
    const conns: { from: string; frames: Uint8Array[]; sock: net.Socket; ended: boolean }[] = [];
    const server = net.createServer((sock) => {
      const c = { from: sock.remoteAddress ?? '', frames: [] as Uint8Array[], sock, ended: false };
      conns.push(c);
      const d = new TcpDeframer({ expectPrefix: true });
      sock.on('data', (b: Buffer) => c.frames.push(...d.push(new Uint8Array(b))));
      sock.on('close', () => (c.ended = true));
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    cleanup.push(() => conns.forEach((c) => void c.sock.destroy()));
    let sas = [{ local: at('127.0.0.1'), remote: at('127.0.0.1') }];
    const { t, got, lines, udpSent } = setup({ tcpPort: port, sas: () => sas });
    t.setPeers(tcpPeers([{ name: 'gw', remoteAddrs: ['127.0.0.1'] }], new Map([['gw', 'tcp']])));
    const peer = at('127.0.0.1');
    t.sendIke(at('127.0.0.1'), peer, info(true));
    await until(() => conns[0]?.frames.length === 1, 'the first stream');
    expect(conns[0]?.from).toBe('127.0.0.1');
    // The core moved the SA to 127.0.0.2 (its address update goes from there): a second stream, bound to it.
    const update = info(true).map((b, i) => (i === 30 ? 0x55 : b));
    t.sendIke(at('127.0.0.2'), peer, update);
    await until(() => conns[1]?.frames.length === 1, 'the second stream');
    expect(conns[1]?.from).toBe('127.0.0.2');
    expect(conns[1]?.frames[0]).toEqual(update);
    expect(conns[0]?.frames).toHaveLength(1);
    expect(lines.join('\n')).toMatch(/connecting to 127\.0\.0\.1\[\d+\] from 127\.0\.0\.2 over TCP for gw/);
    // The answer on the new stream enters as the conversation the core sent the update on.
    conns[1]?.sock.write(framed([info(true)], false));
    await until(() => got.length === 1, 'the answer');
    expect(got[0]).toEqual({ data: info(true), local: at('127.0.0.2'), remote: peer });
    // The core moved the SA (ike-address-change): the old path's stream is closed and stays closed.
    sas = [{ local: at('127.0.0.2'), remote: peer }];
    t.saMoved({ local: at('127.0.0.1'), remote: peer }, { local: at('127.0.0.2'), remote: peer });
    await until(() => conns[0]?.ended === true, 'the old stream closed');
    expect(lines.join('\n')).toMatch(/TCP connection 127\.0\.0\.1\[\d+\]-127\.0\.0\.1\[\d+\] closed: IKE SA moved to 127\.0\.0\.2\[4500\]-127\.0\.0\.1\[4500\] \(MOBIKE, RFC 9329 7\.1\) \(0 frames in, 1 out\)$/m);
    expect(lines.some((l) => l.includes('reconnecting'))).toBe(false);
    expect(conns[1]?.ended).toBe(false);
    // ESP of the moved SA goes on the new stream; status shows it.
    const esp = Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 0, 7, 1);
    t.sendEsp(esp, 0, esp.length, at('127.0.0.2'), peer);
    t.flushEsp();
    await until(() => conns[1]?.frames.length === 2, 'ESP on the new stream');
    expect(conns[1]?.frames[1]).toEqual(esp);
    expect(t.streamOf(peer)?.name).toMatch(/^127\.0\.0\.2\[\d+\]-127\.0\.0\.1\[\d+\]$/);
    expect(t.stats()).toMatchObject({ tcpStreams: 1, tcpStreamsOpened: 2, tcpReconnects: 0 });
    expect(udpSent).toEqual([]);
  });

  it('initiator: a stream of a path an IKE SA still uses is reconnected from the same address when it breaks', async () => {
    const port = await freeTcpPort();
    const froms: string[] = [];
    const socks: net.Socket[] = [];
    const server = net.createServer((sock) => {
      froms.push(sock.remoteAddress ?? '');
      socks.push(sock);
      sock.on('data', () => {});
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    cleanup.push(() => socks.forEach((s) => void s.destroy()));
    const { t } = setup({ tcpPort: port, sas: () => [{ local: at('127.0.0.3'), remote: at('127.0.0.1') }] });
    t.setPeers(tcpPeers([{ name: 'gw', remoteAddrs: ['127.0.0.1'] }], new Map([['gw', 'tcp']])));
    t.sendIke(at('127.0.0.3'), at('127.0.0.1'), info(true));
    await until(() => froms.length === 1, 'the stream');
    socks[0]?.destroy();
    await until(() => froms.length === 2, 'the reconnection');
    expect(froms).toEqual(['127.0.0.3', '127.0.0.3']);
    expect(t.stats().tcpReconnects).toBe(1);
  });

  it('responder: IKE and ESP follow the stream the update came on; the old stream is closed unless another SA uses it', async () => {
    const port = await freeTcpPort();
    let sas: { local: Address; remote: Address }[] = [];
    const { t, got, lines, udpSent } = setup({ tcpPort: port, sas: () => sas });
    await t.listen('127.0.0.1');
    const a = await client(port);
    const b = await client(port, '127.0.0.2');
    const fromA = at('127.0.0.1', a.sock.localPort);
    const fromB = at('127.0.0.2', b.sock.localPort);
    a.sock.write(framed([info(true)], true));
    await until(() => got.length === 1, 'IKE on the first stream');
    expect(got[0]?.remote).toEqual(fromA);
    // The initiator's UPDATE_SA_ADDRESSES on its new stream enters from that stream's TCP address and port: the
    // core (respondUpdateSaAddresses) makes them the SA's remote.
    b.sock.write(framed([info(true)], true));
    await until(() => got.length === 2, 'the update on the second stream');
    expect(got[1]).toMatchObject({ local: at('127.0.0.1'), remote: fromB });
    // A second SA still on the first stream keeps it open.
    sas = [
      { local: at('127.0.0.1'), remote: fromB },
      { local: at('127.0.0.1'), remote: fromA },
    ];
    t.saMoved({ local: at('127.0.0.1'), remote: fromA }, { local: at('127.0.0.1'), remote: fromB });
    expect(a.ended()).toBe(false);
    sas = [{ local: at('127.0.0.1'), remote: fromB }];
    t.saMoved({ local: at('127.0.0.1'), remote: fromA }, { local: at('127.0.0.1'), remote: fromB });
    await until(() => a.ended(), 'the old stream closed');
    expect(lines.join('\n')).toMatch(/TCP connection 127\.0\.0\.1\[\d+\]-127\.0\.0\.1\[\d+\] closed: IKE SA moved to 127\.0\.0\.1\[4500\]-127\.0\.0\.2\[\d+\] \(MOBIKE, RFC 9329 7\.1\)/);
    const esp = Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 0, 9, 2);
    t.sendIke(at('127.0.0.1'), fromB, info(true));
    t.sendEsp(esp, 0, esp.length, at('127.0.0.1'), fromB);
    t.flushEsp();
    await until(() => b.read.length === 2, 'IKE and ESP on the new stream');
    expect(b.read).toEqual([info(true), esp]);
    expect(a.read).toEqual([]);
    expect(udpSent).toEqual([]);
  });
});

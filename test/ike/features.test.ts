/**
 * IKE fragmentation (RFC 7383), the configuration payload with pools (RFC 7296 3.15), NAT traversal with a NAT
 * in the middle (RFC 7296 2.23, RFC 3948 keepalives), and stateless cookies (RFC 7296 2.6).
 */
import { describe, expect, it } from 'vitest';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import { makePair, captureSummary, type Side } from './pair.js';
import { cookiesOn } from './cookies-on.js';
import type { IkeEvent } from '../../src/ike/events.js';
import { parsePool } from '../../src/ike/pool.js';
import { decodeMessage, encodeMessage } from '../../src/ike/codec/index.js';
import { PayloadType } from '../../src/ike/codec/types.js';
import { formatTrafficSelector } from '../../src/ike/traffic-selector.js';
import { IkeEndpoint } from '../../src/ike/endpoint.js';
import { seededRandom } from '../../src/crypto/random.js';
import { crypto } from './pair.js';

const psk = pskCredentials([{ ids: ['moon.example', 'carol@example.org', 'sun.example'], secret: 'features' }]);
const of = <T extends IkeEvent['type']>(s: Side, t: T) => s.events.filter((e): e is Extract<IkeEvent, { type: T }> => e.type === t);
const ike = (b: Uint8Array) => (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 0 ? b.subarray(4) : b);

describe('IKE fragmentation (RFC 7383)', () => {
  it('fragments IKE_AUTH above fragment_size, each fragment encrypted, and reassembles it, also with loss', () => {
    for (const seed of [1, 2, 3]) {
      const mk = (l: string, r: string, addr?: string) =>
        connection({
          name: 'gw', proposals: 'aes256-sha256-modp2048', fragmentSize: 200, remoteAddrs: addr ? [addr] : ['%any'], local: { id: l }, remote: { id: r },
          children: [child('net', { localTs: ['10.1.0.0/16', '10.11.0.0/16', 'fd00:1::/64'], remoteTs: ['10.2.0.0/16', '10.12.0.0/16', 'fd00:2::/64'], espProposals: 'aes128gcm16,aes256-sha256,aes128-sha1' })],
        });
      const mkr = (l: string, r: string) =>
        connection({
          name: 'gw', proposals: 'aes256-sha256-modp2048', fragmentSize: 200, local: { id: l }, remote: { id: r },
          children: [child('net', { localTs: ['10.2.0.0/16', '10.12.0.0/16', 'fd00:2::/64'], remoteTs: ['10.1.0.0/16', '10.11.0.0/16', 'fd00:1::/64'], espProposals: 'aes128gcm16' })],
        });
      const { sim, net, a, b } = makePair({ connections: [mk('moon.example', 'sun.example', '192.0.2.2')], credentials: psk }, { connections: [mkr('sun.example', 'moon.example')], credentials: psk }, { seed, impairment: seed > 1 ? { loss: 0.2, reorder: 0.3, delay: 5 } : {} });
      a.ep.initiate('gw', 0);
      expect(sim.runUntil(() => of(a, 'child-install').length > 0 && of(b, 'child-install').length > 0, { maxTime: 300_000 }).ok).toBe(true);
      const sent = net.captured({ event: 'send' }).map((c) => decodeMessage(ike(c.bytes))).filter((m) => m.ok).map((m) => (m.ok ? m.value : undefined)!);
      const skf = sent.filter((m) => m.encrypted?.type === PayloadType.SKF);
      expect(skf.length).toBeGreaterThan(2);
      // Every datagram respects fragment_size (200 bytes of IP datagram: 20 IP + 8 UDP + 4 marker + message).
      for (const c of net.captured({ event: 'send' })) expect(c.bytes.length + 28).toBeLessThanOrEqual(200 + (ike(c.bytes) === c.bytes ? 600 : 0));
      expect(b.logs.some((l) => /reassembled from \d+ fragments/.test(l))).toBe(true);
      expect(of(a, 'child-install')[0]!.child.localTs.length).toBe(3);
    }
  });
});

describe('configuration payload: virtual IPs and DNS from pools', () => {
  it('hands out an address and DNS servers; TSi is narrowed to the virtual IP', () => {
    const client = connection({ name: 'home', remoteAddrs: ['192.0.2.2'], vips: ['0.0.0.0', '::'], local: { id: 'carol@example.org' }, remote: { id: 'moon.example' }, children: [child('home', { remoteTs: ['10.1.0.0/16', 'fd00:1::/64'] })] });
    const server = connection({ name: 'rw', pools: ['v4', 'v6'], local: { id: 'moon.example' }, children: [child('rw', { localTs: ['10.1.0.0/16', 'fd00:1::/64'] })] });
    const { sim, a, b } = makePair(
      { connections: [client], credentials: psk },
      { connections: [server], credentials: psk, pools: [parsePool('v4', '10.3.0.0/24', ['10.1.0.53']), parsePool('v6', 'fd00:3::/120', ['fd00:1::53'])] },
    );
    a.ep.initiate('home', 0);
    expect(sim.runUntil(() => of(a, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    const vip = of(a, 'vip-assigned')[0]!;
    expect(vip.addresses).toEqual(['10.3.0.1', 'fd00:3::1']);
    expect(vip.dns).toEqual(['10.1.0.53', 'fd00:1::53']);
    expect(of(a, 'child-install')[0]!.child.localTs.map(formatTrafficSelector)).toEqual(['10.3.0.1/32', 'fd00:3::1/128']);
    expect(of(b, 'child-install')[0]!.child.remoteTs.map(formatTrafficSelector)).toEqual(['10.3.0.1/32', 'fd00:3::1/128']);
  });

  it('keeps the address across reauthentication and gives it back to the same identity later', () => {
    const client = connection({ name: 'home', remoteAddrs: ['192.0.2.2'], vips: ['0.0.0.0'], local: { id: 'carol@example.org' }, remote: { id: 'moon.example' }, children: [child('home', { remoteTs: ['10.1.0.0/16'] })] });
    const server = connection({ name: 'rw', pools: ['v4'], local: { id: 'moon.example' }, children: [child('rw', { localTs: ['10.1.0.0/16'] })] });
    const { sim, a, b } = makePair({ connections: [client], credentials: psk }, { connections: [server], credentials: psk, pools: [parsePool('v4', '10.3.0.10-10.3.0.11')] });
    a.ep.initiate('home', 0);
    sim.runUntil(() => of(a, 'child-install').length > 0, { maxTime: 60_000 });
    a.ep.rekeyIke(a.ep.listSas()[0]!.sa.id, sim.now, { reauth: true });
    sim.runFor(30_000);
    expect(of(a, 'vip-assigned').map((v) => v.addresses[0])).toEqual(['10.3.0.10', '10.3.0.10']);
    a.ep.terminateIke(a.ep.listSas()[0]!.sa.id, sim.now);
    sim.runFor(30_000);
    a.ep.initiate('home', sim.now);
    sim.runFor(30_000);
    expect(of(a, 'vip-assigned').map((v) => v.addresses[0])).toEqual(['10.3.0.10', '10.3.0.10', '10.3.0.10']);
    expect(b.ep.pools().get('v4')!.stats()).toEqual({ size: 2, online: 1, offline: 0 });
  });

  it('an exhausted pool: INTERNAL_ADDRESS_FAILURE, the IKE SA stands without CHILD SA', () => {
    const client = connection({ name: 'home', remoteAddrs: ['192.0.2.2'], vips: ['0.0.0.0'], local: { id: 'carol@example.org' }, remote: { id: 'moon.example' }, children: [child('home', { remoteTs: ['10.1.0.0/16'] })] });
    const server = connection({ name: 'rw', pools: ['none'], local: { id: 'moon.example' }, children: [child('rw', { localTs: ['10.1.0.0/16'] })] });
    const { sim, a, b } = makePair({ connections: [client], credentials: psk }, { connections: [server], credentials: psk });
    a.ep.initiate('home', 0);
    sim.runUntil(() => of(a, 'child-failed').length > 0, { maxTime: 60_000 });
    expect(of(a, 'child-failed')[0]!.notify).toBe('INTERNAL_ADDRESS_FAILURE');
    expect(b.logs.some((l) => /no virtual IP for 'carol@example.org'/.test(l))).toBe(true);
  });
});

describe('NAT traversal (RFC 7296 2.23, RFC 3948)', () => {
  function natPair() {
    const mk = (l: string, r: string, addr?: string) =>
      // mobike = no: RFC 7296 2.23's implicit updates (with MOBIKE only UPDATE_SA_ADDRESSES moves an SA, RFC 4555
      // 3.5: src/ike/tasks/ike-mobike.test.ts has NAT rebinding with it).
      connection({ name: 'gw', encap: false, mobike: false, remoteAddrs: addr ? [addr] : ['%any'], local: { id: l }, remote: { id: r }, dpdDelayMs: 60_000, children: [child('net', { localTs: [l === 'moon.example' ? '10.1.0.0/16' : '10.2.0.0/16'], remoteTs: [l === 'moon.example' ? '10.2.0.0/16' : '10.1.0.0/16'] })] });
    const p = makePair({ connections: [mk('moon.example', 'sun.example', '192.0.2.2')], credentials: psk, address: '10.0.0.5' }, { connections: [mk('sun.example', 'moon.example')], credentials: psk, address: '192.0.2.2' });
    const nat = p.net.addNat('home', { publicAddress: '198.51.100.7', inside: ['10.0.0.5'], mappingTimeout: 120_000 });
    return { ...p, nat };
  }
  it('detects the NAT, floats to 4500, sends keepalives every 20 s from behind the NAT', () => {
    const { sim, net, a, b } = natPair();
    a.ep.initiate('gw', 0);
    expect(sim.runUntil(() => of(a, 'child-install').length > 0 && of(b, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    expect(a.logs.some((l) => l.includes('local host is behind NAT'))).toBe(true);
    expect(b.logs.some((l) => l.includes('remote host is behind NAT'))).toBe(true);
    expect(b.ep.listSas()[0]!.sa.remote.address).toBe('198.51.100.7');
    expect(b.ep.listSas()[0]!.sa.remote.port).not.toBe(4500); // the NAT's mapping of A's port 4500
    const before = net.captured({ event: 'send' }).length;
    sim.runFor(61_000);
    const keepalives = net.captured({ event: 'send' }).slice(before).filter((c) => c.bytes.length === 1 && c.bytes[0] === 0xff);
    // Only the host behind the NAT sends them (the capture shows addresses after translation).
    expect(keepalives.map((k) => [k.time, k.from.address, k.to.port])).toEqual([
      [20_000, '198.51.100.7', 4500],
      [40_000, '198.51.100.7', 4500],
      [60_000, '198.51.100.7', 4500],
    ]);
    expect(b.logs.some((l) => l.includes('local host is behind NAT'))).toBe(false);
  });

  it('follows a NAT mapping change on the next authenticated message', () => {
    const { sim, a, b, nat } = natPair();
    a.ep.initiate('gw', 0);
    sim.runUntil(() => of(b, 'child-install').length > 0 && of(a, 'child-install').length > 0, { maxTime: 60_000 });
    const oldPort = b.ep.listSas()[0]!.sa.remote.port;
    nat.rebind();
    a.ep.checkLiveness(a.ep.listSas()[0]!.sa.id, sim.now);
    sim.runFor(10_000);
    const moved = of(b, 'ike-address-change');
    expect(moved).toHaveLength(1);
    expect(moved[0]!.sa.remote.port).not.toBe(oldPort);
    expect(moved[0]!.children[0]!.remote.port).toBe(moved[0]!.sa.remote.port);
    expect(b.ep.listSas()[0]!.sa.state).toBe('ESTABLISHED');
  });
});

describe('stateless cookies (RFC 7296 2.6)', () => {
  it('above the half-open threshold the responder answers N(COOKIE) and the initiator retries with it first', () => {
    const mk = (l: string, r: string, addr?: string) => connection({ name: 'gw', remoteAddrs: addr ? [addr] : ['%any'], local: { id: l }, remote: { id: r }, children: [child('net')] });
    const { sim, net, a, b } = makePair({ connections: [mk('moon.example', 'sun.example', '192.0.2.2')], credentials: psk }, { connections: [mk('sun.example', 'moon.example')], credentials: psk }, { settings: { cookieThreshold: 1 } });
    cookiesOn(b.ep, { address: b.address, port: 500 });
    a.ep.initiate('gw', 0);
    expect(sim.runUntil(() => of(a, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    expect(captureSummary(net).slice(0, 4)).toEqual(['34q0', '34r0', '34q0', '34r0']);
    const retry = decodeMessage(ike(net.captured({ event: 'send' })[2]!.bytes));
    expect(retry.ok && retry.value.payloads[0]!.type === PayloadType.NOTIFY && retry.value.payloads[0]!.notifyType === 16390).toBe(true);
    // The responder kept no state for the first request.
    expect(b.ep.listSas()).toHaveLength(1);
  });

  it('a flood of IKE_SA_INIT requests from spoofed addresses leaves no state behind the threshold', () => {
    const ep = new IkeEndpoint({ connections: [connection({ name: 'gw', children: [child('net')] })], credentials: psk, crypto, random: seededRandom(9), settings: { cookieThreshold: 5 } });
    const { a } = makePair({ connections: [connection({ name: 'gw', remoteAddrs: ['192.0.2.2'], children: [child('net')] })], credentials: psk }, { connections: [], credentials: psk });
    a.ep.initiate('gw', 0);
    const req = a.ep.pollTransmit()!.data;
    for (let i = 0; i < 200; i++) {
      const spoofed = req.slice();
      spoofed[0] = i; // a different SPIi per "host"
      ep.receive(spoofed, { address: '192.0.2.2', port: 500 }, { address: `203.0.113.${i % 250}`, port: 500 }, 0);
    }
    expect(ep.listSas().length).toBe(5);
    let cookies = 0;
    for (let t = ep.pollTransmit(); t; t = ep.pollTransmit()) if (t.data.length < 80) cookies++;
    expect(cookies).toBe(195);
  });

  it('ignores a peer address holding block_threshold half-open SAs', () => {
    const ep = new IkeEndpoint({ connections: [connection({ name: 'gw', children: [child('net')] })], credentials: psk, crypto, random: seededRandom(9), settings: { blockThreshold: 3, cookieThresholdIp: 0 } });
    const { a } = makePair({ connections: [connection({ name: 'gw', remoteAddrs: ['192.0.2.2'], children: [child('net')] })], credentials: psk }, { connections: [], credentials: psk });
    a.ep.initiate('gw', 0);
    const req = a.ep.pollTransmit()!.data;
    let answered = 0;
    for (let i = 0; i < 10; i++) {
      const r = req.slice();
      r[0] = i;
      ep.receive(r, { address: '192.0.2.2', port: 500 }, { address: '203.0.113.9', port: 500 }, 0);
      for (let t = ep.pollTransmit(); t; t = ep.pollTransmit()) answered++;
    }
    expect(ep.listSas()).toHaveLength(3);
    expect(answered).toBe(3);
    let logs = '';
    for (let e = ep.pollEvent(); e; e = ep.pollEvent()) if (e.type === 'log') logs += e.message + '\n';
    expect(logs).toMatch(/per-IP half-open IKE_SA limit of 3 reached/);
  });

  it('rotates the cookie secret and still accepts cookies of the previous one', () => {
    const ep = new IkeEndpoint({ connections: [connection({ name: 'gw', children: [child('net')] })], credentials: psk, crypto, random: seededRandom(9), settings: { cookieThreshold: 1, cookieSecretLifetimeMs: 10_000 } });
    // One half-open SA from elsewhere keeps the cookie threshold reached throughout (no handleTimeout here).
    cookiesOn(ep, { address: '192.0.2.2', port: 500 }, 0, { keep: true });
    const primers = ep.listSas().length;
    const { a } = makePair({ connections: [connection({ name: 'gw', remoteAddrs: ['192.0.2.2'], children: [child('net')] })], credentials: psk }, { connections: [], credentials: psk });
    a.ep.initiate('gw', 0);
    const req = a.ep.pollTransmit()!.data;
    const from = { address: '198.51.100.1', port: 500 };
    const to = { address: '192.0.2.2', port: 500 };
    const cookieFor = (r: Uint8Array, t: number, src = from): Uint8Array => {
      ep.receive(r, to, src, t);
      const m = decodeMessage(ep.pollTransmit()!.data);
      if (!m.ok || m.value.payloads[0]?.type !== PayloadType.NOTIFY || m.value.payloads[0].notifyType !== 16390) throw new Error('no cookie');
      return m.value.payloads[0].data;
    };
    // A second request with another SPIi, for the rejection check.
    const req2 = req.slice();
    req2[0] = req2[0]! ^ 0xff;
    // The initiator echoes the cookie as the first payload, with everything else unchanged (RFC 7296 2.6).
    const withCookie = (r: Uint8Array, c: Uint8Array): Uint8Array => {
      a.ep.receive(encodeCookieResponse(r, c), { address: '192.0.2.1', port: 500 }, to, 0);
      const out = a.ep.pollTransmit()!.data;
      const copy = out.slice();
      copy.set(r.subarray(0, 8), 0); // keep the request's SPIi
      return copy;
    };
    const c1 = cookieFor(req, 0);
    const c1b = cookieFor(req2, 0);
    expect(c1[0]).toBe(1);
    expect(cookieFor(req, 15_000)[0]).toBe(2); // rotated
    ep.receive(withCookie(req, c1), to, from, 16_000); // a cookie of the previous secret is still good
    expect(ep.listSas()).toHaveLength(primers + 1);
    const resp = decodeMessage(ep.pollTransmit()!.data);
    expect(resp.ok && resp.value.payloads.some((p) => p.type === PayloadType.SA)).toBe(true);
    expect(cookieFor(req2, 30_000)[0]).toBe(3); // rotated again: version 1 is gone
    const stale = withCookie(req, c1b);
    stale.set(req2.subarray(0, 8), 0); // the cookie was made for req2's SPIi
    ep.receive(stale, to, from, 31_000);
    const answer = decodeMessage(ep.pollTransmit()!.data);
    expect(answer.ok && answer.value.payloads[0]?.type === PayloadType.NOTIFY && answer.value.payloads[0].notifyType === 16390).toBe(true);
    expect(ep.listSas()).toHaveLength(primers + 1);
  });
});

/** An IKE_SA_INIT response carrying only N(COOKIE), addressed to the request's SPIi. */
function encodeCookieResponse(req: Uint8Array, cookie: Uint8Array): Uint8Array {
  const m = decodeMessage(req);
  if (!m.ok) throw new Error('bad request');
  return encodeMessage({ spiI: m.value.header.spiI, spiR: new Uint8Array(8), exchangeType: 34, flags: { initiator: false, response: true, version: false }, messageId: 0 }, [{ type: PayloadType.NOTIFY, critical: false, protocol: 0, spi: new Uint8Array(0), notifyType: 16390, data: cookie }]);
}

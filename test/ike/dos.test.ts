/**
 * DoS limits on the responder (issue 11), with strongSwan's semantics (src/ike/limits.ts): cookie_threshold,
 * cookie_threshold_ip, block_threshold, init_limit_half_open and ikesa_limit, each 0 meaning off; the COOKIE check
 * before the per-address block; constant-time cookie comparison; requests failing after their key exchange still
 * counted; RFC 7383 reassembly bounded in age and bytes; per-datagram work independent of the number of SAs.
 */
import { describe, expect, it, vi } from 'vitest';
import { IkeEndpoint } from '../../src/ike/endpoint.js';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import type { EndpointSettings } from '../../src/ike/config.js';
import { decodeMessage, encodeMessage } from '../../src/ike/codec/index.js';
import { NotifyType, PayloadType, type NotifyPayload, type Payload } from '../../src/ike/codec/types.js';
import { seededRandom } from '../../src/crypto/random.js';
import { constantTimeEqual } from '../../src/crypto/ct.js';
import type { IkeSa } from '../../src/ike/ike-sa.js';
import { crypto, makePair } from './pair.js';
import { initRequestTo } from './cookies-on.js';

vi.mock('../../src/crypto/ct.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/crypto/ct.js')>();
  return { ...m, constantTimeEqual: vi.fn(m.constantTimeEqual) };
});

const psk = pskCredentials([{ ids: [], secret: 'dos-test-secret-0123456789' }]);
const LOCAL = { address: '192.0.2.2', port: 500 };
const TEMPLATE = initRequestTo(LOCAL.address);

function responder(settings: Partial<EndpointSettings> = {}): IkeEndpoint {
  return new IkeEndpoint({ connections: [connection({ name: 'gw', children: [child('net')] })], credentials: psk, crypto, random: seededRandom(5), settings });
}

/** The template request with SPIi number `n`. */
function request(n: number, template = TEMPLATE): Uint8Array {
  const r = template.slice();
  r[4] = n >>> 24;
  r[5] = (n >>> 16) & 0xff;
  r[6] = (n >>> 8) & 0xff;
  r[7] = n & 0xff;
  return r;
}

type Answer = 'sa' | 'cookie' | 'other' | 'none';

/** Feeds request `n` from `address` and says what came back. */
function ask(ep: IkeEndpoint, n: number, address: string, now = 0, data = request(n)): Answer {
  ep.receive(data, LOCAL, { address, port: 500 }, now);
  const t = ep.pollTransmit();
  if (!t) return 'none';
  const m = decodeMessage(t.data);
  if (!m.ok) return 'other';
  if (m.value.payloads.some((p) => p.type === PayloadType.SA)) return 'sa';
  return m.value.payloads.some((p) => p.type === PayloadType.NOTIFY && (p as NotifyPayload).notifyType === NotifyType.COOKIE) ? 'cookie' : 'other';
}

function logs(ep: IkeEndpoint): string {
  let s = '';
  for (let e = ep.pollEvent(); e; e = ep.pollEvent()) if (e.type === 'log') s += `${e.level} ${e.message}\n`;
  return s;
}

const OFF = { cookieThreshold: 0, cookieThresholdIp: 0, blockThreshold: 0, initLimitHalfOpen: 0, ikesaLimit: 0 };

describe('DoS thresholds: 0 means off (strongSwan)', () => {
  it('with every threshold 0, 40 requests from one address and 40 from others all get an SA', () => {
    const ep = responder(OFF);
    for (let i = 0; i < 40; i++) expect(ask(ep, i, '198.51.100.7')).toBe('sa');
    for (let i = 40; i < 80; i++) expect(ask(ep, i, `198.51.100.${i}`)).toBe('sa');
    expect(ep.halfOpenCount()).toBe(80);
  });
  it.each([
    ['cookieThreshold', { cookieThreshold: 0 }],
    ['cookieThresholdIp', { cookieThresholdIp: 0, blockThreshold: 0 }],
    ['blockThreshold', { blockThreshold: 0, cookieThresholdIp: 0 }],
    ['initLimitHalfOpen', { initLimitHalfOpen: 0, cookieThreshold: 0 }],
    ['ikesaLimit', { ikesaLimit: 0, cookieThreshold: 0 }],
  ])('%s = 0 does not refuse (and does not demand cookies from) the first request', (_name, s) => {
    const ep = responder(s);
    expect(ask(ep, 1, '198.51.100.1')).toBe('sa');
  });
});

describe('each limit refuses at the limit and accepts below it', () => {
  it('cookie_threshold: COOKIE from the Nth half-open SA on, any address', () => {
    const ep = responder({ ...OFF, cookieThreshold: 3 });
    expect([1, 2, 3, 4, 5].map((i) => ask(ep, i, `198.51.100.${i}`))).toEqual(['sa', 'sa', 'sa', 'cookie', 'cookie']);
    expect(ep.listSas()).toHaveLength(3);
  });
  it('cookie_threshold_ip: COOKIE for the address holding N half-open SAs, not for others', () => {
    const ep = responder({ ...OFF, cookieThresholdIp: 2 });
    expect([1, 2, 3].map((i) => ask(ep, i, '198.51.100.9'))).toEqual(['sa', 'sa', 'cookie']);
    // Another address may hash to the same calm-down bucket (strongSwan's 32 buckets); pick one that does not.
    expect(ask(ep, 4, '198.51.100.10')).toBe('sa');
  });
  it('block_threshold: the address holding N half-open SAs is ignored, logged with strongSwan\'s wording', () => {
    const ep = responder({ ...OFF, blockThreshold: 3 });
    expect([1, 2, 3, 4].map((i) => ask(ep, i, '198.51.100.9'))).toEqual(['sa', 'sa', 'sa', 'none']);
    expect(ask(ep, 5, '198.51.100.10')).toBe('sa');
    expect(logs(ep)).toMatch(/^1 ignoring IKE_SA setup from 198\.51\.100\.9, per-IP half-open IKE_SA limit of 3 reached$/m);
  });
  it('block_threshold is raised above cookie_threshold_ip, as strongSwan does', () => {
    const ep = responder({ ...OFF, blockThreshold: 3, cookieThresholdIp: 3 });
    expect([1, 2, 3].map((i) => ask(ep, i, '198.51.100.9'))).toEqual(['sa', 'sa', 'sa']);
    expect(ask(ep, 4, '198.51.100.9')).toBe('cookie');
    expect(logs(ep)).not.toMatch(/limit of/);
  });
  it('init_limit_half_open: beyond N half-open SAs in all, IKE_SA_INIT is ignored', () => {
    const ep = responder({ ...OFF, initLimitHalfOpen: 4 });
    expect([1, 2, 3, 4, 5].map((i) => ask(ep, i, `198.51.100.${i}`))).toEqual(['sa', 'sa', 'sa', 'sa', 'none']);
    expect(logs(ep)).toMatch(/^1 ignoring IKE_SA setup from 198\.51\.100\.5, half-open IKE_SA limit of 4 reached$/m);
  });
  it('ikesa_limit: beyond N IKE SAs in all, IKE_SA_INIT is ignored', () => {
    const ep = responder({ ...OFF, ikesaLimit: 2 });
    expect([1, 2, 3].map((i) => ask(ep, i, `198.51.100.${i}`))).toEqual(['sa', 'sa', 'none']);
    expect(logs(ep)).toMatch(/^1 ignoring IKE_SA_INIT, hitting IKE_SA limit \(2\)$/m);
    expect(ep.listSas()).toHaveLength(2);
  });
  it('a half-open SA that times out frees its place (half_open_timeout)', () => {
    const ep = responder({ ...OFF, initLimitHalfOpen: 1, halfOpenTimeoutMs: 30_000 });
    expect(ask(ep, 1, '198.51.100.1')).toBe('sa');
    expect(ask(ep, 2, '198.51.100.2')).toBe('none');
    expect(ep.nextTimeout()).toBe(30_000);
    ep.handleTimeout(30_000);
    expect(ask(ep, 3, '198.51.100.3', 30_000)).toBe('sa');
  });
});

describe('order and cost of the checks', () => {
  it('cookie before block: a spoofed flood from a real peer\'s address does not get that peer blocked', () => {
    // Default thresholds: cookie_threshold_ip 3 comes before block_threshold 5, as in strongSwan 5.9.8.
    const mk = (remote: string) => connection({ name: 'gw', remoteAddrs: [remote], children: [child('net')] });
    const { sim, a, b } = makePair({ connections: [mk('192.0.2.2')], credentials: psk }, { connections: [connection({ name: 'gw', children: [child('net')] })], credentials: psk });
    const spoofed = initRequestTo(b.address, 123);
    let answered = 0;
    for (let i = 0; i < 50; i++) {
      b.ep.receive(request(i, spoofed), { address: b.address, port: 500 }, { address: a.address, port: 500 }, 0);
      answered += b.ep.pollTransmit() ? 1 : 0;
    }
    expect(answered).toBe(50); // 3 SAs, then only cookies: nothing ignored
    expect(b.ep.halfOpenFrom(a.address)).toBe(3);
    a.ep.initiate('gw', 0);
    expect(sim.runUntil(() => a.events.some((e) => e.type === 'ike-up'), { maxTime: 10_000 }).ok).toBe(true);
    expect(b.logs.join('\n')).not.toMatch(/per-IP half-open IKE_SA limit/);
  });

  it('the cookie is compared in constant time', () => {
    const ep = responder({ ...OFF, cookieThreshold: 1 });
    expect(ask(ep, 1, '198.51.100.1')).toBe('sa');
    ep.receive(request(2), LOCAL, { address: '198.51.100.2', port: 500 }, 0);
    const m = decodeMessage(ep.pollTransmit()!.data);
    if (!m.ok) throw new Error('no answer');
    const cookie = (m.value.payloads[0] as NotifyPayload).data;
    const retry = decodeMessage(request(2));
    if (!retry.ok) throw new Error('bad template');
    const withCookie = encodeMessage(retry.value.header, [{ type: PayloadType.NOTIFY, critical: false, protocol: 0, spi: new Uint8Array(0), notifyType: NotifyType.COOKIE, data: cookie }, ...retry.value.payloads]);
    const ct = vi.mocked(constantTimeEqual);
    ct.mockClear();
    expect(ask(ep, 2, '198.51.100.2', 0, withCookie)).toBe('sa');
    expect(ct.mock.calls.some(([x, y]) => x.length === 21 && y.length === 21)).toBe(true);
    // A forged cookie (one bit off) is refused.
    const forged = withCookie.slice();
    forged[40] = forged[40]! ^ 1;
    forged.set(request(3).subarray(0, 8), 0);
    expect(ask(ep, 3, '198.51.100.2', 0, forged)).toBe('cookie');
  });

  /** A responder whose key exchanges are counted. */
  function countingResponder(settings: Partial<EndpointSettings>): { ep: IkeEndpoint; kes: () => number } {
    let kes = 0;
    const counting = Object.create(crypto) as typeof crypto & { createKeyExchange: typeof crypto.createKeyExchange };
    counting.createKeyExchange = (g, r) => (kes++, crypto.createKeyExchange(g, r));
    const ep = new IkeEndpoint({ connections: [connection({ name: 'gw', children: [child('net')] })], credentials: psk, crypto: counting, random: seededRandom(5), settings });
    return { ep, kes: () => kes };
  }

  function tampered(f: (p: Payload) => Payload): Uint8Array {
    const m = decodeMessage(TEMPLATE);
    if (!m.ok) throw new Error('bad template');
    return encodeMessage(m.value.header, m.value.payloads.map(f));
  }

  it('requests failing after their key exchange (an invalid KE value) are charged as half-open: the cookie threshold engages', () => {
    // 64 zero bytes are no point on P-256: the responder has made its key pair when computeSharedSecret refuses it.
    const bad = tampered((p) => (p.type === PayloadType.KE ? { ...p, data: new Uint8Array(64) } : p));
    const { ep, kes } = countingResponder({ ...OFF, cookieThreshold: 10 });
    const answers = Array.from({ length: 200 }, (_, i) => ask(ep, i, `203.0.113.${i % 250}`, 0, request(i, bad)));
    expect(ep.listSas()).toHaveLength(0);
    // Each failure is charged until the threshold is reached; then only cookies, no key exchange.
    expect(kes()).toBe(10);
    expect(ep.halfOpenCount()).toBe(10);
    expect(answers.filter((a) => a === 'cookie')).toHaveLength(190);
    // A charged request repeated (same SPIi and address) is dropped, not worked on again.
    expect(ask(ep, 3, '203.0.113.3', 1, request(3, bad))).toBe('none');
    expect(kes()).toBe(10);
    // The charges end with half_open_timeout, like the SAs they stand for.
    expect(ep.nextTimeout()).toBe(30_000);
    ep.handleTimeout(30_000);
    expect(ep.halfOpenCount()).toBe(0);
  });

  it('odd-length SIGNATURE_HASH_ALGORITHMS requests cost at most cookie_threshold key exchanges', () => {
    const bad = tampered((p) => (p.type === PayloadType.NOTIFY && (p as NotifyPayload).notifyType === NotifyType.SIGNATURE_HASH_ALGORITHMS ? { ...(p as NotifyPayload), data: Uint8Array.of(0, 2, 0) } : p));
    const { ep, kes } = countingResponder({ ...OFF, cookieThreshold: 10 });
    for (let i = 0; i < 200; i++) ask(ep, i, `203.0.113.${i % 250}`, 0, request(i, bad));
    expect(ep.listSas()).toHaveLength(0);
    expect(kes()).toBeLessThanOrEqual(10);
    expect(ep.halfOpenCount()).toBe(kes());
  });
});

describe('RFC 7383 reassembly bounds', () => {
  /** Initiator with a fragmented IKE_AUTH (many selectors, small fragment_size) and a responder, pumped by hand. */
  function fragmentedAuth(settings: Partial<EndpointSettings>) {
    const ts = Array.from({ length: 60 }, (_, i) => `10.${i}.0.0/16`);
    const ini = new IkeEndpoint({ connections: [connection({ name: 'gw', remoteAddrs: [LOCAL.address], fragmentSize: 576, children: [child('net', { localTs: ts })] })], credentials: psk, crypto, random: seededRandom(8) });
    const resp = new IkeEndpoint({ connections: [connection({ name: 'gw', children: [child('net', { remoteTs: ts })] })], credentials: psk, crypto, random: seededRandom(9), settings: { ...OFF, ...settings } });
    const from = { address: '198.51.100.50', port: 500 };
    ini.initiate('gw', 0, { local: from });
    resp.receive(ini.pollTransmit()!.data, LOCAL, from, 0);
    ini.receive(resp.pollTransmit()!.data, from, LOCAL, 0);
    const frags: Uint8Array[] = [];
    for (let t = ini.pollTransmit(); t; t = ini.pollTransmit()) frags.push(t.data);
    const local = { address: LOCAL.address, port: 4500 };
    const remote = { address: from.address, port: 4500 };
    return { ini, resp, frags, deliver: (d: Uint8Array, now: number) => resp.receive(d, local, remote, now) };
  }

  it('an incomplete reassembly is dropped after reassembly.timeoutMs, by the timer', () => {
    const { resp, frags, deliver } = fragmentedAuth({ reassembly: { maxFragments: 64, maxBytes: 65536, timeoutMs: 4000, maxTotalBytes: 1 << 20 } });
    expect(frags.length).toBeGreaterThan(2);
    for (const f of frags.slice(0, -1)) deliver(f, 100);
    logs(resp);
    expect(resp.nextTimeout()).toBe(100 + 4000 + 1);
    resp.handleTimeout(4101);
    expect(logs(resp)).toMatch(/dropping incomplete fragmented IKE message 1 after 4000 ms/);
    deliver(frags.at(-1)!, 4200); // the last fragment alone does not complete anything now
    expect(resp.listSas()[0]!.sa.state).toBe('CONNECTING');
    for (const f of frags) deliver(f, 4300); // the initiator's retransmission does
    expect(resp.listSas()[0]!.sa.state).toBe('ESTABLISHED');
  });

  it('fragments beyond the per-SA byte cap or the cap across SAs are dropped with a log line', () => {
    const perSa = fragmentedAuth({ reassembly: { maxFragments: 64, maxBytes: 600, timeoutMs: 4000, maxTotalBytes: 1 << 20 } });
    for (const f of perSa.frags) perSa.deliver(f, 100);
    expect(logs(perSa.resp)).toMatch(/IKE fragment of message 1 dropped: reassembly would hold more than 600 bytes/);
    expect(perSa.resp.listSas()[0]!.sa.state).toBe('CONNECTING');
    const total = fragmentedAuth({ reassembly: { maxFragments: 64, maxBytes: 65536, timeoutMs: 4000, maxTotalBytes: 700 } });
    for (const f of total.frags) total.deliver(f, 100);
    expect(logs(total.resp)).toMatch(/fragments held for all IKE SAs would exceed 700 bytes, reassembly abandoned/);
    expect(total.resp.listSas()[0]!.sa.state).toBe('CONNECTING');
  });
});

describe('per-datagram work does not grow with the number of SAs', () => {
  /** Reads of IkeSa properties (every SA goes through newSa, wrapped in a counting Proxy) for a fixed workload. */
  function workWith(n: number): number {
    const ep = responder(OFF);
    let reads = 0;
    const newSa = ep.newSa.bind(ep);
    ep.newSa = (...args: Parameters<IkeEndpoint['newSa']>): IkeSa =>
      new Proxy(newSa(...args), {
        get: (t, k, r) => {
          reads++;
          return Reflect.get(t, k, r);
        },
        set: (t, k, v, r) => Reflect.set(t, k, v, r),
      });
    for (let i = 0; i < n; i++) ask(ep, i, `10.${(i >> 8) & 0xff}.${i & 0xff}.1`, 0);
    expect(ep.listSas()).toHaveLength(n);
    reads = 0;
    // The workload: a new IKE_SA_INIT, a datagram for an unknown SPI, a retransmitted IKE_SA_INIT, timers, ESP.
    expect(ask(ep, 1_000_000, '192.0.2.99', 10)).toBe('sa');
    const unknown = request(5);
    unknown[8] = 1; // non-zero SPIr, IKE_AUTH-like: no such SA
    unknown[18] = 35;
    ep.receive(unknown, LOCAL, { address: '192.0.2.98', port: 500 }, 11);
    ask(ep, 1_000_000, '192.0.2.99', 12);
    ep.nextTimeout();
    ep.handleTimeout(13);
    ep.nextTimeout();
    ep.espActivity(0x12345678, 14);
    ep.espExpired(0x12345678, 'soft', 15);
    return reads;
  }

  it('reads of SA state are the same with 10 and with 300 half-open SAs', () => {
    const small = workWith(10);
    const large = workWith(300);
    expect(small).toBeGreaterThan(0); // the new SA itself is read: the counter works
    expect(large).toBe(small);
  });
});

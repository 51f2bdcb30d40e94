/**
 * Regression tests for what the exchange fuzzer (test/fuzz) found: each is the minimal input, delivered with the
 * IKE SA's real keys so it passes the ICV. Errors never escape an exchange (RFC 7296 2.21): the peer gets the
 * notify the RFC asks for or nothing, the initiator's attempt ends with an event and a log line, and no SA is
 * left CONNECTING, REKEYING, REKEYED or DELETING once the timeouts have passed.
 */
import { describe, expect, it } from 'vitest';
import { createPair, rewriteMessage, type Harness } from '../../../test/fuzz/exchange-fuzzer.js';
import type { Segment } from '../../../test/fuzz/mutate.js';
import { decodeHeader, decodeMessage } from '../codec/index.js';
import { ExchangeType, NotifyType, PayloadType } from '../codec/types.js';
import { seededRandom } from '../../crypto/random.js';
import { IkeEndpoint } from '../endpoint.js';
import type { IkeEvent } from '../events.js';
import { child, connection, pskCredentials } from '../config-builder.js';
import { createProvider } from '../../crypto/provider.js';

const rng = seededRandom(7);

/** Rewrites the first message of `exchange` from `from` (a request from A, a response from B) with `edit`. */
function rewriteOnce(h: Harness, from: 'A' | 'B', exchange: number, edit: (segs: Segment[]) => Segment[]): { hit: boolean } {
  const state = { hit: false };
  h.intercept = (sender, datagrams) => {
    const hd = decodeHeader(datagrams[0]!);
    if (state.hit || sender !== from || !hd.ok || hd.value.exchangeType !== exchange || hd.value.flags.response !== (from === 'B')) return datagrams;
    state.hit = true;
    return rewriteMessage(h, from, datagrams, edit, rng);
  };
  return state;
}

function notifyBody(type: number, data: Uint8Array): Uint8Array {
  return Uint8Array.of(0, 0, type >> 8, type & 0xff, ...data);
}

/** The SIGNATURE_HASH_ALGORITHMS notify with 3 octets of data: SHA2-256 and half an identifier. */
const oddHashes = (segs: Segment[]): Segment[] =>
  segs.map((s) => (s.type === PayloadType.NOTIFY && ((s.body[2]! << 8) | s.body[3]!) === NotifyType.SIGNATURE_HASH_ALGORITHMS ? { ...s, body: notifyBody(NotifyType.SIGNATURE_HASH_ALGORITHMS, Uint8Array.of(0, 2, 0)) } : s));

/** An inner chain that does not decode (a Notify body of 2 octets): an authentic but malformed message. */
const undecodable = (): Segment[] => [{ type: PayloadType.NOTIFY, flags: 0, body: Uint8Array.of(0, 0) }];

const of = <T extends IkeEvent['type']>(es: IkeEvent[], t: T) => es.filter((e): e is Extract<IkeEvent, { type: T }> => e.type === t);
const logs = (es: IkeEvent[]): string[] => of(es, 'log').map((e) => e.message);

function established(h: Harness): NonNullable<ReturnType<Harness['established']>> {
  h.a.initiate('gw', h.now);
  expect(h.settle()).toBeUndefined();
  const est = h.established();
  expect(est?.childA).toBeDefined();
  return est!;
}

describe('odd-length SIGNATURE_HASH_ALGORITHMS (RFC 7427 4)', () => {
  it('responder: answers INVALID_SYNTAX before any key exchange and keeps no state; nothing escapes', () => {
    // Key exchanges started by either endpoint: A's one for its request, and none by B.
    const real = createProvider();
    const counting = Object.create(real) as typeof real;
    let kes = 0;
    counting.createKeyExchange = (g, r) => (kes++, real.createKeyExchange(g, r));
    const h = createPair('psk', { crypto: counting });
    const r = rewriteOnce(h, 'A', ExchangeType.IKE_SA_INIT, oddHashes);
    // Capture what B sends back before A reacts to it.
    const sent: Uint8Array[] = [];
    const inner = h.intercept!;
    h.intercept = (from, d) => {
      if (from === 'B') sent.push(...d);
      return inner(from, d);
    };
    h.a.initiate('gw', 0);
    h.pump();
    expect(r.hit).toBe(true);
    expect(h.findings).toEqual([]);
    expect(h.b.internalErrors).toBe(0);
    expect(h.b.listSas()).toHaveLength(0);
    expect(logs(h.events.B).some((l) => /invalid IKE_SA_INIT request .*SIGNATURE_HASH_ALGORITHMS data has odd length 3.*answering INVALID_SYNTAX/.test(l))).toBe(true);
    expect(kes).toBe(1);
    expect(sent).toHaveLength(1);
    const m = decodeMessage(sent[0]!);
    expect(m.ok && m.value.payloads.map((p) => (p.type === PayloadType.NOTIFY ? p.notifyType : p.type))).toEqual([NotifyType.INVALID_SYNTAX]);
    // The initiator's attempt ends on that answer.
    expect(of(h.events.A, 'ike-down')[0]?.message).toMatch(/INVALID_SYNTAX/);
    expect(h.settle()).toBeUndefined();
  });

  it('initiator: the attempt ends with an ike-down event and a log naming the cause; no SA is wedged', () => {
    const h = createPair();
    const r = rewriteOnce(h, 'B', ExchangeType.IKE_SA_INIT, oddHashes);
    h.a.initiate('gw', 0);
    h.pump();
    expect(r.hit).toBe(true);
    expect(h.findings).toEqual([]);
    expect(h.a.internalErrors + h.b.internalErrors).toBe(0);
    expect(h.a.listSas()).toHaveLength(0);
    const down = of(h.events.A, 'ike-down');
    expect(down).toHaveLength(1);
    expect(down[0]!.reason).toBe('invalid-syntax');
    expect(down[0]!.message).toMatch(/invalid IKE_SA_INIT response from 192\.0\.2\.2\[500\]: SIGNATURE_HASH_ALGORITHMS data has odd length 3/);
    expect(logs(h.events.A).some((l) => l.includes('SIGNATURE_HASH_ALGORITHMS data has odd length 3'))).toBe(true);
    // B holds a half-open SA that its half-open timeout removes.
    expect(h.b.listSas()[0]?.sa.state).toBe('CONNECTING');
    expect(h.settle()).toBeUndefined();
    expect(h.b.listSas()).toHaveLength(0);
  });
});

describe('an authentic but malformed response on an established IKE SA ends the exchange (RFC 7296 2.21.2)', () => {
  it('CHILD SA rekey: the old CHILD SA is INSTALLED again, child-failed is reported, nothing stays REKEYING', () => {
    const h = createPair();
    const est = established(h);
    const r = rewriteOnce(h, 'B', ExchangeType.CREATE_CHILD_SA, undecodable);
    h.a.rekeyChild(est.childA!, h.now);
    h.pump();
    expect(r.hit).toBe(true);
    expect(h.findings).toEqual([]);
    expect(h.a.ikeSa(est.a)!.children.map((c) => c.state)).toEqual(['INSTALLED']);
    expect(of(h.events.A, 'child-failed').at(-1)?.notify).toBe('INVALID_SYNTAX');
    expect(logs(h.events.A).some((l) => l.includes('invalid CREATE_CHILD_SA response'))).toBe(true);
    // B replaced the old CHILD SA and waits for a Delete that does not come: it deletes the old SA itself.
    expect(h.settle()).toBeUndefined();
    expect(logs(h.events.B).some((l) => l.includes('peer did not delete the rekeyed CHILD_SA'))).toBe(true);
  });

  it('CHILD SA rekey, then an IKE SA rekey moves the REKEYED CHILD SA: its overdue Delete still happens there', () => {
    const h = createPair();
    const est = established(h);
    rewriteOnce(h, 'B', ExchangeType.CREATE_CHILD_SA, undecodable);
    h.a.rekeyChild(est.childA!, h.now);
    h.pump();
    h.intercept = undefined;
    h.a.rekeyIke(est.a, h.now);
    h.pump();
    const moved = h.b.listSas().find((x) => x.sa.state === 'ESTABLISHED' && x.sa.id !== est.b);
    expect(moved && h.b.ikeSa(moved.sa.id)!.children.map((c) => c.state)).toContain('REKEYED');
    expect(h.settle()).toBeUndefined();
    expect(h.findings).toEqual([]);
  });

  it('CHILD SA delete: the CHILD SA is gone, not left DELETING', () => {
    const h = createPair();
    const est = established(h);
    const r = rewriteOnce(h, 'B', ExchangeType.INFORMATIONAL, undecodable);
    h.a.terminateChild(est.childA!, h.now);
    h.pump();
    expect(r.hit).toBe(true);
    expect(h.findings).toEqual([]);
    expect(h.a.ikeSa(est.a)!.children).toHaveLength(0);
    expect(h.settle()).toBeUndefined();
  });

  it('IKE SA rekey: the initiator keeps its IKE SA; the responder deletes the SA it replaced once the Delete is overdue', () => {
    const h = createPair();
    const est = established(h);
    const r = rewriteOnce(h, 'B', ExchangeType.CREATE_CHILD_SA, undecodable);
    h.a.rekeyIke(est.a, h.now);
    h.pump();
    expect(r.hit).toBe(true);
    expect(h.findings).toEqual([]);
    expect(h.a.ikeSa(est.a)?.state).toBe('ESTABLISHED');
    expect(h.b.listSas().map((x) => x.sa.state).sort()).toEqual(['ESTABLISHED', 'REKEYED']);
    expect(h.settle()).toBeUndefined();
    expect(logs(h.events.B).some((l) => l.includes('peer did not delete the rekeyed IKE_SA'))).toBe(true);
  });
});

describe('the endpoint safety net', () => {
  it('an unexpected exception while processing a message is logged at level 1, fails only that attempt, and does not escape', () => {
    const crypto = createProvider();
    const broken = Object.create(crypto) as typeof crypto;
    let n = 0;
    // The responder's first key exchange throws something no exchange expects.
    broken.createKeyExchange = (g, r) => {
      if (n++ === 0) throw new RangeError('simulated bug');
      return crypto.createKeyExchange(g, r);
    };
    const psk = pskCredentials([{ ids: [], secret: 'x' }]);
    const mk = (remote: string[]) => [connection({ name: 'gw', remoteAddrs: remote, proposals: 'aes128gcm16-prfsha256-x25519', children: [child('c', { localTs: ['10.0.0.0/8'], remoteTs: ['10.0.0.0/8'] })] })];
    const a = new IkeEndpoint({ connections: mk(['192.0.2.2']), credentials: psk, crypto, random: seededRandom(1) });
    const b = new IkeEndpoint({ connections: mk(['%any']), credentials: psk, crypto: broken, random: seededRandom(2) });
    a.initiate('gw', 0);
    const req = a.pollTransmit()!;
    expect(() => b.receive(req.data, { address: '192.0.2.2', port: 500 }, { address: '192.0.2.1', port: 500 }, 0)).not.toThrow();
    expect(b.internalErrors).toBe(1);
    const ev: IkeEvent[] = [];
    for (let e = b.pollEvent(); e; e = b.pollEvent()) ev.push(e);
    expect(of(ev, 'log').some((e) => e.level === 1 && /internal error processing IKE_SA_INIT request: simulated bug/.test(e.message))).toBe(true);
    expect(b.listSas().filter((x) => x.sa.state !== 'ESTABLISHED')).toHaveLength(0);
  });
});

describe('liberal acceptance (issue 15): a payload the exchange does not use is ignored with a log line', () => {
  /** A KE payload (group 31, 32 octets) appended to the chain: allowed in CREATE_CHILD_SA, not in IKE_AUTH. */
  const extraKe = (segs: Segment[]): Segment[] => [...segs, { type: PayloadType.KE, flags: 0, body: Uint8Array.of(0, 31, 0, 0, ...new Uint8Array(32)) }];

  it('an IKE_AUTH response with an extra KE payload still establishes the SA', () => {
    const h = createPair();
    const r = rewriteOnce(h, 'B', ExchangeType.IKE_AUTH, extraKe);
    h.a.initiate('gw', 0);
    h.pump();
    expect(r.hit).toBe(true);
    expect(h.established()?.childA).toBeDefined();
    expect(logs(h.events.A).some((l) => /ignoring KE in IKE_AUTH response 1 \(not used by this exchange\)/.test(l))).toBe(true);
    // At level 2, as strongSwan logs what it ignores: visible when looking, no noise at the default level 1.
    expect(of(h.events.A, 'log').filter((e) => e.message.includes('ignoring KE')).map((e) => [e.group, e.level])).toEqual([['enc', 2]]);
    expect(h.a.internalErrors + h.b.internalErrors).toBe(0);
  });

  it('an IKE_AUTH request with an extra KE payload is answered as if it were not there', () => {
    const h = createPair();
    const r = rewriteOnce(h, 'A', ExchangeType.IKE_AUTH, extraKe);
    h.a.initiate('gw', 0);
    h.pump();
    expect(r.hit).toBe(true);
    expect(h.established()?.childA).toBeDefined();
    expect(logs(h.events.B).some((l) => /ignoring KE in IKE_AUTH request 1/.test(l))).toBe(true);
  });
});

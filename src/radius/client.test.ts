import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random.js';
import { RadiusClient, type RadiusOutcome, type RadiusRequest, type RadiusTransmit } from './client.js';
import { radiusServer, type RadiusServerConfig } from './config.js';
import { Attr, RadiusCode } from './constants.js';
import { firstText, octetsAttr, textAttr } from './packet.js';
import { serverAnswer, serverReceive } from './test-support.js';

const enc = new TextEncoder();
const SECRET = enc.encode('s3cret');

function harness(servers: RadiusServerConfig[]) {
  const logs: string[] = [];
  let wakes = 0;
  const client = new RadiusClient({ servers, random: seededRandom(1), log: (_g, _l, m) => logs.push(m), onWake: () => wakes++ });
  const sent: Array<RadiusTransmit & { at: number }> = [];
  let now = 0;
  const poll = (): RadiusTransmit[] => {
    const out = client.poll(now);
    sent.push(...out.map((t) => ({ ...t, at: now })));
    return out;
  };
  /** Advance virtual time deadline by deadline, polling at each, until `until`. */
  const advance = (until: number): void => {
    for (;;) {
      const d = client.nextDeadline();
      if (d === undefined || d > until) break;
      now = d;
      poll();
    }
    now = until;
  };
  const settle = () => new Promise((r) => setImmediate(r));
  return { client, logs, sent, poll, advance, settle, get now() { return now; }, get wakes() { return wakes; } };
}

const access = (extra: RadiusRequest['attributes'] = []): RadiusRequest => ({ code: RadiusCode.ACCESS_REQUEST, attributes: [textAttr(Attr.USER_NAME, 'alice'), ...extra] });

describe('RadiusClient retransmission (radius_socket.c)', () => {
  it("strongSwan's defaults: 4 transmissions at 0, 2, 4.8, 8.72 s, timeout at 14.208 s naming the server", async () => {
    const h = harness([radiusServer({ name: 'a', address: '192.0.2.10', secret: SECRET })]);
    let outcome: RadiusOutcome | undefined;
    void h.client.request(access()).then((o) => (outcome = o));
    expect(h.wakes).toBe(1);
    h.poll();
    h.advance(60_000);
    await h.settle();
    expect(h.sent.map((s) => s.at)).toEqual([0, 2000, 4800, 8720]);
    expect(new Set(h.sent.map((s) => Buffer.from(s.data).toString('hex'))).size).toBe(1); // same bytes each time
    expect(h.sent[0]).toMatchObject({ server: 'a', kind: 'auth', address: '192.0.2.10', port: 1812 });
    expect(outcome).toEqual({ kind: 'timeout', servers: ['a'], reason: "no answer from RADIUS server 'a'" });
    expect(h.logs).toContain('retransmit 1 of RADIUS Access-Request (timeout: 2.8s)');
    expect(h.logs).toContain('retransmit 3 of RADIUS Access-Request (timeout: 5.5s)');
    expect(h.logs).toContain("RADIUS Access-Request timed out after 4 attempts to server 'a'");
    expect(h.client.nextDeadline()).toBeUndefined();
  });

  it('configured tries/timeout/base are used; accounting goes to the accounting port', async () => {
    const h = harness([radiusServer({ name: 'a', address: '192.0.2.10', secret: SECRET, retransmitTries: 2, retransmitTimeoutMs: 500, retransmitBase: 2, acctPort: 11813 })]);
    const p = h.client.request({ code: RadiusCode.ACCOUNTING_REQUEST, attributes: [] });
    h.poll();
    h.advance(10_000);
    expect(h.sent.map((s) => [s.at, s.port])).toEqual([[0, 11813], [500, 11813]]);
    expect((await p).kind).toBe('timeout');
  });

  it('an answer ends retransmission and marks the server reachable', async () => {
    const h = harness([radiusServer({ name: 'a', address: '192.0.2.10', secret: SECRET })]);
    const p = h.client.request(access());
    const [t] = h.poll();
    if (!t) throw new Error('nothing sent');
    const req = serverReceive(t.data, SECRET);
    expect(firstText(req, Attr.NAS_IDENTIFIER)).toBe('strongSwan');
    expect(firstText(req, Attr.USER_NAME)).toBe('alice');
    h.client.receive('a', 'auth', serverAnswer(req, SECRET, { code: RadiusCode.ACCESS_REJECT }), 100);
    const o = await p;
    expect(o.kind === 'response' && o.response.code).toBe(RadiusCode.ACCESS_REJECT);
    expect(h.client.nextDeadline()).toBeUndefined();
    expect(h.client.pendingCount).toBe(0);
  });
});

describe('RadiusClient answers that are dropped, each with the reason logged', () => {
  async function oneRequest() {
    const h = harness([radiusServer({ name: 'a', address: '192.0.2.10', secret: SECRET })]);
    let outcome: RadiusOutcome | undefined;
    void h.client.request(access()).then((o) => (outcome = o));
    const [t] = h.poll();
    if (!t) throw new Error('nothing sent');
    return { h, req: serverReceive(t.data, SECRET), outcome: () => outcome };
  }

  it('a wrong Response Authenticator (wrong secret) is dropped and the request keeps waiting for the right answer', async () => {
    const { h, req, outcome } = await oneRequest();
    h.client.receive('a', 'auth', serverAnswer(req, SECRET, { code: RadiusCode.ACCESS_ACCEPT, secret: enc.encode('other') }), 10);
    await h.settle();
    expect(outcome()).toBeUndefined();
    expect(h.logs.at(-1)).toBe(`RADIUS Access-Accept with ID ${req.identifier} from server 'a' dropped: Access-Accept Response-Authenticator verification failed (wrong shared secret, or not an answer to our request)`);
    expect(h.client.nextDeadline()).toBe(2000);
    h.client.receive('a', 'auth', serverAnswer(req, SECRET, { code: RadiusCode.ACCESS_REJECT }), 20);
    await h.settle();
    expect(outcome()?.kind).toBe('response');
  });

  it('an EAP answer without Message-Authenticator is dropped (RFC 3579 3.2)', async () => {
    const { h, req, outcome } = await oneRequest();
    h.client.receive('a', 'auth', serverAnswer(req, SECRET, { code: RadiusCode.ACCESS_CHALLENGE, noMessageAuthenticator: true, attributes: [{ type: Attr.EAP_MESSAGE, value: Uint8Array.of(1, 2, 0, 5, 26) }] }), 10);
    await h.settle();
    expect(outcome()).toBeUndefined();
    expect(h.logs.at(-1)).toMatch(/dropped: Access-Challenge carries EAP-Message without Message-Authenticator/);
  });

  it('an unexpected Identifier (late or duplicate reply) is ignored; a duplicate after the answer too', async () => {
    const { h, req, outcome } = await oneRequest();
    h.client.receive('a', 'auth', serverAnswer(req, SECRET, { code: RadiusCode.ACCESS_REJECT, identifier: (req.identifier + 1) & 0xff }), 10);
    expect(h.logs.at(-1)).toBe(`received RADIUS Access-Reject with unexpected ID ${(req.identifier + 1) & 0xff} from server 'a' (late or duplicate reply), ignored`);
    const answer = serverAnswer(req, SECRET, { code: RadiusCode.ACCESS_REJECT });
    h.client.receive('a', 'auth', answer, 20);
    await h.settle();
    expect(outcome()?.kind).toBe('response');
    h.client.receive('a', 'auth', answer, 30);
    expect(h.logs.at(-1)).toMatch(/unexpected ID \d+ from server 'a' \(late or duplicate reply\), ignored/);
  });

  it('a datagram that does not parse, a code that answers nothing, an unknown server', async () => {
    const { h, req, outcome } = await oneRequest();
    h.client.receive('a', 'auth', Uint8Array.of(2, 1, 0), 10);
    expect(h.logs.at(-1)).toBe("received invalid RADIUS message from server 'a': RADIUS packet of 3 octets is shorter than the 20-octet header, ignored");
    h.client.receive('a', 'auth', serverAnswer(req, SECRET, { code: RadiusCode.ACCOUNTING_RESPONSE }), 10);
    expect(h.logs.at(-1)).toBe(`received RADIUS Accounting-Response with ID ${req.identifier} from server 'a', no answer to Access-Request, ignored`);
    h.client.receive('zz', 'auth', serverAnswer(req, SECRET, { code: RadiusCode.ACCESS_REJECT }), 10);
    expect(h.logs.at(-1)).toBe("received RADIUS message for unknown server 'zz', ignored");
    await h.settle();
    expect(outcome()).toBeUndefined();
  });
});

describe('RadiusClient servers: preference and failover', () => {
  const fast = { secret: SECRET, retransmitTries: 2, retransmitTimeoutMs: 1000, retransmitBase: 1 };

  it('the higher preference is chosen; when it times out a first request fails over to the next', async () => {
    const h = harness([radiusServer({ name: 'low', address: '192.0.2.1', preference: 0, ...fast }), radiusServer({ name: 'high', address: '192.0.2.2', preference: 50, ...fast })]);
    const p = h.client.request(access());
    h.poll();
    expect(h.sent[0]?.server).toBe('high');
    h.advance(2000);
    expect(h.sent.map((s) => [s.server, s.at])).toEqual([['high', 0], ['high', 1000], ['low', 2000]]);
    expect(h.logs).toContain("trying RADIUS server 'low' instead of 'high'");
    const last = h.sent.at(-1);
    if (!last) throw new Error('no send');
    const req = serverReceive(last.data, SECRET);
    h.client.receive('low', 'auth', serverAnswer(req, SECRET, { code: RadiusCode.ACCESS_CHALLENGE, attributes: [{ type: Attr.EAP_MESSAGE, value: Uint8Array.of(1, 1, 0, 6, 4, 0) }] }), 2100);
    const o = await p;
    expect(o.kind === 'response' && o.server).toBe('low');
    // 'high' is now unreachable: the next request prefers 'low' (reachable boost 110 beats preference 50)
    void h.client.request(access());
    h.poll();
    expect(h.sent.at(-1)?.server).toBe('low');
  });

  it('every server silent: the timeout names them all', async () => {
    const h = harness([radiusServer({ name: 'a', address: '192.0.2.1', ...fast }), radiusServer({ name: 'b', address: '192.0.2.2', ...fast })]);
    const p = h.client.request(access());
    h.poll();
    h.advance(10_000);
    const o = await p;
    expect(o.kind).toBe('timeout');
    expect(o.kind === 'timeout' && [...o.servers].sort()).toEqual(['a', 'b']);
    expect(o.kind === 'timeout' && o.reason).toMatch(/^no answer from RADIUS servers '(a|b)', '(a|b)'$/);
  });

  it('a request with a State or bound to a server never fails over (RFC 2865 5.24)', async () => {
    const h = harness([radiusServer({ name: 'a', address: '192.0.2.1', preference: 10, ...fast }), radiusServer({ name: 'b', address: '192.0.2.2', ...fast })]);
    const withState = h.client.request(access([octetsAttr(Attr.STATE, Uint8Array.of(1, 2, 3))]));
    const bound = h.client.request({ ...access(), server: 'b' });
    h.poll();
    h.advance(10_000);
    expect((await withState).kind === 'timeout' && (await withState as { servers: readonly string[] }).servers).toEqual(['a']);
    expect((await bound).kind === 'timeout' && (await bound as { servers: readonly string[] }).servers).toEqual(['b']);
    expect(h.sent.filter((s) => s.server === 'b')).toHaveLength(2);
    const unknown = h.client.request({ ...access(), server: 'nope' });
    h.poll();
    expect(await unknown).toEqual({ kind: 'timeout', servers: [], reason: "RADIUS server 'nope' is not configured" });
  });

  it('each server gets its own NAS-Identifier and secret', async () => {
    const other = enc.encode('other-secret');
    const h = harness([radiusServer({ name: 'a', address: '192.0.2.1', preference: 10, nasIdentifier: 'gw-a', ...fast }), radiusServer({ name: 'b', address: '192.0.2.2', nasIdentifier: 'gw-b', ...fast, secret: other })]);
    void h.client.request(access());
    h.poll();
    h.advance(2000);
    const [first, , failover] = h.sent;
    if (!first || !failover) throw new Error('missing sends');
    expect(firstText(serverReceive(first.data, SECRET), Attr.NAS_IDENTIFIER)).toBe('gw-a');
    expect(firstText(serverReceive(failover.data, other), Attr.NAS_IDENTIFIER)).toBe('gw-b');
    expect(() => serverReceive(failover.data, SECRET)).toThrow(/Message-Authenticator/);
  });

  it('configuration errors: no server, a name twice', () => {
    expect(() => new RadiusClient({ servers: [], random: seededRandom(1) })).toThrow(/no RADIUS server configured/);
    const s = radiusServer({ name: 'a', address: '192.0.2.1', secret: SECRET });
    expect(() => new RadiusClient({ servers: [s, s], random: seededRandom(1) })).toThrow(/RADIUS server 'a' is configured twice/);
  });
});

describe('RadiusClient identifiers (RFC 2865 3)', () => {
  it('counts up per server and port, skips those in flight, queues the 257th until one is answered', async () => {
    const h = harness([radiusServer({ name: 'a', address: '192.0.2.1', secret: SECRET })]);
    const promises = Array.from({ length: 257 }, () => h.client.request(access()));
    const first = h.poll();
    expect(first).toHaveLength(256);
    const ids = first.map((t) => t.data[1] ?? -1);
    expect(new Set(ids).size).toBe(256);
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBe(((ids[i - 1] ?? 0) + 1) & 0xff);
    expect(h.client.pendingCount).toBe(257);
    const t = first[10];
    if (!t) throw new Error('no send');
    const before = h.wakes;
    h.client.receive('a', 'auth', serverAnswer(serverReceive(t.data, SECRET), SECRET, { code: RadiusCode.ACCESS_REJECT }), 5);
    expect(h.wakes).toBe(before + 1); // the queued request can go now
    const next = h.poll();
    expect(next).toHaveLength(1);
    expect(next[0]?.data[1]).toBe(t.data[1]);
    expect((await promises[10])?.kind).toBe('response');
    // accounting has its own identifier space
    void h.client.request({ code: RadiusCode.ACCOUNTING_REQUEST, attributes: [] });
    expect(h.poll()).toHaveLength(1);
  });

  it('close() resolves everything outstanding', async () => {
    const h = harness([radiusServer({ name: 'a', address: '192.0.2.1', secret: SECRET })]);
    const p1 = h.client.request(access());
    h.poll();
    const p2 = h.client.request(access());
    h.client.close('shutting down');
    expect(await p1).toEqual({ kind: 'timeout', servers: ['a'], reason: 'shutting down' });
    expect(await p2).toEqual({ kind: 'timeout', servers: [], reason: 'shutting down' });
  });
});

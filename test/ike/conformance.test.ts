/**
 * Conformance of the IKEv2 core with RFC 7296, item by item. Each test scripts the exchange in RFC notation and
 * asserts the wire and both sides' SAs. Messages a correct peer would never send are forged with the sending
 * side's own SK keys (`seal`) or rewritten in flight (`tamper`), so the receiver sees authentic input.
 *
 * | # | RFC 7296 | what the RFC says | what cygnet does | test |
 * |---|---|---|---|---|
 * | 1a | 2.1 | a retransmitted request whose response was lost gets the cached response again | resends the cached datagrams byte for byte, processes the request once; FIXED: the exchange type must match too (was: any request with the last ID got the cached response) | "retransmitted request: the cached response, byte-identical", "a request reusing the last message ID with another exchange type" |
 * | 1b | 2.2, 2.3 | a request older than the last answered one, or beyond the window (1), is not processed | dropped before decryption, not answered | "old and future message IDs are ignored" |
 * | 1c | 2.2 | each side numbers its requests from 0, +1 per exchange, never reused; retransmits reuse the ID | as the RFC | "our request IDs increase per exchange" |
 * | 1d | 2.3, 2.21.2 | a response that does not match the outstanding request (ID, exchange) or fails integrity is dropped | as the RFC | "responses with a wrong message ID or exchange type are dropped" |
 * | 1e | 2.18 | the rekeyed IKE SA starts both windows at 0 | as the RFC | "after an IKE rekey both new windows start at 0" |
 * | 2 | 2.21.4 | outside any SA: MAY answer a request with an unprotected INVALID_IKE_SPI, MUST NOT answer a response; the receiver of such a notify MUST NOT change any SA | decision: never answered (the peer may not act on it; we would reflect spoofed traffic), logged at net 2, so no rate limit; an unprotected INVALID_IKE_SPI for a live SA is dropped | "unknown IKE SPI" tests |
 * | 3a | 1.4.1 | Delete of an SPI we do not have: nothing to delete | empty response, CHILD SAs untouched, logged | "Delete of an unknown CHILD SPI" |
 * | 3b | 1.4.1, 3.11 | a Delete may list several SPIs; the response lists the paired SPIs | all removed, paired SPIs in one Delete | "Delete of several SPIs in one payload" |
 * | 3c | 1.4.1 | deleting the IKE SA closes its CHILD SAs; the response is empty | as the RFC | "Delete of IKE and CHILD in one message" |
 * | 3d | 1.4.1 | crossing Deletes: the responses MUST NOT list the SA again; delete outbound on the request, inbound on the response | responses empty, both sides end with nothing; the CHILD SA goes when the peer's request arrives, and the data plane (ChildSaInstaller) retires its inbound SA with a 2 s grace, so packets in flight still arrive: the RFC's intent | "crossing Deletes" tests |
 * | 4a | 3.4, 1.2 | KE group must be in a proposal; INVALID_KE_PAYLOAD only when the *selected* proposal's group differs; the initiator retries with the group asked for | FIXED: the responder prefers an acceptable proposal whose group is the KE payload's (IKE_SA_INIT, IKE and CHILD rekeys; was: INVALID_KE_PAYLOAD and an extra round trip); FIXED: initiator retries capped at 3 (was: unbounded with a responder alternating groups) | "KE payload matching the second proposal" tests, "the same for PFS", "a responder that keeps asking for other KE groups" |
 * | 4b | 3.4, 3.10.1 | a KE value of the wrong length is malformed | INVALID_SYNTAX, no state; as initiator: SA closed before IKE_AUTH | "KE payload of the wrong length" tests |
 * | 4c | 3.3.1 | the accepted proposal carries the number of the proposal sent that was accepted | FIXED: number and transforms checked together in IKE_SA_INIT, IKE_AUTH/CREATE_CHILD_SA and IKE rekey responses; was: the number was ignored | "a proposal number we did not send", "... for other transforms" |
 * | 4d | 2.7 | the responder accepts exactly one proposal | more than one: SA refused before IKE_AUTH | "a response with two proposals is refused" |
 * | 4e | 2.6 | the initiator MUST send COOKIE as the first payload; no rule for a responder that finds it elsewhere | decision: accepted anywhere (strongSwan only looks at the first payload); we always send it first | "COOKIE not first in the retry" |
 * | 4f | 2.5, 3.10.1 | unknown payload with the critical bit: UNSUPPORTED_CRITICAL_PAYLOAD with its type; not critical: skipped | as the RFC, no state | "critical unknown payload in IKE_SA_INIT" |
 * | 4g | 3.1 | SPIi MUST NOT be zero; a responder accepting the SA sets a non-zero SPIr | FIXED: SPIi zero dropped (was: answered and kept); SPIr zero with an SA refused (was: accepted) | "IKE_SA_INIT header checks" |
 * | 4h | 2.5 | a higher major version: drop, SHOULD answer INVALID_MAJOR_VERSION from our version | FIXED for IKE_SA_INIT requests (was: silent drop); responses and IKEv1 stay silent | "higher major version" |
 * | 4i | 2.10, 3.9 | nonces are 16..256 bytes | INVALID_SYNTAX (codec); not checked: "at least half the PRF key size" (as strongSwan) | "a nonce shorter than 16 bytes" |
 * | 5a | 1.2, 2.21.2 | the responder may refuse an IDr it does not have (or answer with another identity) | AUTHENTICATION_FAILED, as strongSwan; no SA on either side | "IDr naming an identity the responder does not have" |
 * | 5b | 2.9, 2.21.3 | TS that narrow to nothing: TS_UNACCEPTABLE, the IKE SA stays up | as the RFC, in IKE_AUTH and CREATE_CHILD_SA | "TSi/TSr narrowing to nothing" |
 * | 5c | 3.13, 2.21.2 | a response with SA but no TSi is malformed; the initiator may report errors in an INFORMATIONAL | FIXED: the initiator deletes the IKE SA at the responder (INFORMATIONAL D(IKE)); was: closed locally, the responder kept an IKE and a CHILD SA until DPD | "IKE_AUTH response with SA but no TSi" |
 * | 5d | 2.15, 2.21.2 | AUTH with a method we do not accept fails authentication | AUTHENTICATION_FAILED either way round | "AUTH with a method other than the configured one", "the responder's AUTH with the wrong method" |
 * | 6a | 2.25 | CREATE_CHILD_SA while the IKE SA is being deleted: TEMPORARY_FAILURE | as the RFC; both sides end with nothing | "a CHILD SA request while the IKE SA is being deleted" |
 * | 6b | 3.10.1 | NO_ADDITIONAL_SAS: no more CHILD SAs on this IKE SA | child-failed, IKE SA up, not retried | "NO_ADDITIONAL_SAS" |
 * | 6c | 3.10.1, 3.11 | REKEY_SA names a CHILD SA: protocol ESP/AH, 4-byte SPI | FIXED: anything else is INVALID_SYNTAX; was: protocol IKE created a new CHILD SA, a bad SPI size got CHILD_SA_NOT_FOUND and the initiator dropped a live SA | "REKEY_SA with a protocol/SPI size mismatch" |
 * | 6d | 1.3, 3.3, 3.4 | PFS offered, responder without KE (or the reverse): no acceptable proposal; if we also offered a proposal without KE, the responder may pick it and send no KEr | NO_PROPOSAL_CHOSEN, nothing created, old SA kept; FIXED: a response accepting our proposal without KE is taken without PFS (was: refused for the missing KEr) | "PFS requested by the initiator, responder configured without KE", "PFS optional at the initiator" |
 * | 6e | 1.3, 2.21.3 | (consistency) a CHILD SA the initiator refuses after the responder installed it | FIXED: deleted at the responder with an INFORMATIONAL (as strongSwan); a refused rekey leaves the old SA usable on both sides; was: the responder kept the SA, and took the old one for replaced for ever | "a responder's CHILD SA the initiator refuses", "refused rekey responses" |
 * | 7a | 3.10.1 | unknown status notify: ignored; unknown error type in a request: ignored, logged; in a response: the request failed entirely | as the RFC; FIXED for IKE_AUTH responses: an error type other than the CHILD SA ones fails the IKE SA (deleted at the peer); was: IKE SA up, CHILD SA failed | "unknown notify types" tests |
 * | 7b | 2.3, 2.4 | window 1 per direction: requests are answered while our own is outstanding | as the RFC | "a liveness check is answered while our own CHILD rekey is outstanding" |
 * | 8 | 2.6 (DoS), strongSwan half_open_timeout | half-open SAs time out and free their state; a responder never retransmits | as described; nothing left after the timeout, no timers | "half-open" tests |
 */
import { describe, expect, it } from 'vitest';
import { child, connection, pskCredentials, type ChildOptions, type ConnectionOptions } from '../../src/ike/config-builder.js';
import { makePair, captureSummary, type Side, type PairOptions, expectConsistent } from './pair.js';
import { cookiesOn } from './cookies-on.js';
import type { IkeEvent } from '../../src/ike/events.js';
import type { IkeSa } from '../../src/ike/ike-sa.js';
import { decodeMessage, decodePayloads, encodeMessage, encryptSK, openEncrypted } from '../../src/ike/codec/index.js';
import { ExchangeType, NotifyType, PayloadType, ProtocolId, type IkeHeader, type Payload } from '../../src/ike/codec/types.js';
import { seededRandom } from '../../src/crypto/random.js';
import type { SimNetwork, Simulation } from '../../src/sim/index.js';

const psk = pskCredentials([{ ids: ['moon.example', 'sun.example', 'other.example'], secret: 'conformance' }]);
const of = <T extends IkeEvent['type']>(s: Side, t: T) => s.events.filter((e): e is Extract<IkeEvent, { type: T }> => e.type === t);
const strip = (b: Uint8Array) => (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 0 ? b.subarray(4) : b);
const rnd = seededRandom(77);

type Pair = ReturnType<typeof makePair>;

function setup(o: { conn?: Partial<ConnectionOptions>; child?: ChildOptions; respConn?: Partial<ConnectionOptions>; respChild?: ChildOptions; pair?: PairOptions; extraChild?: boolean } = {}): Pair {
  const mk = (local: string, remote: string, addr: string | undefined, lts: string, rts: string, co: Partial<ConnectionOptions> | undefined, ch: ChildOptions | undefined) => {
    const children = [child('net', { localTs: [lts], remoteTs: [rts], espProposals: 'aes128gcm16-x25519', ...ch })];
    if (o.extraChild) children.push(child('voice', { localTs: [lts.replace('/16', '/24')], remoteTs: [rts.replace('/16', '/24')], espProposals: 'aes256gcm16' }));
    return connection({ name: 'gw', proposals: 'aes128gcm16-prfsha256-x25519', remoteAddrs: addr ? [addr] : ['%any'], local: { id: local }, remote: { id: remote }, children, ...co });
  };
  return makePair(
    { connections: [mk('moon.example', 'sun.example', '192.0.2.2', '10.1.0.0/16', '10.2.0.0/16', o.conn, o.child)], credentials: psk },
    { connections: [mk('sun.example', 'moon.example', undefined, '10.2.0.0/16', '10.1.0.0/16', o.respConn ?? o.conn, o.respChild ?? o.child)], credentials: psk },
    { impairment: { delay: 5 }, ...o.pair },
  );
}

function up(o: Parameters<typeof setup>[0] = {}): Pair {
  const p = setup(o);
  p.a.ep.initiate('gw', 0);
  expect(p.sim.runUntil(() => of(p.a, 'child-install').length > 0 && of(p.b, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
  return p;
}

/** The live IKE SA of a side (the first, or the one with this id). */
function ikeSa(s: Side, i = 0): IkeSa {
  return s.ep.ikeSa(s.ep.listSas()[i]!.sa.id)!;
}


/** A message of `from`'s IKE SA, encrypted with its outbound keys: what the peer would receive from it. */
function seal(from: IkeSa, exchangeType: number, messageId: number, response: boolean, payloads: readonly Payload[]): Uint8Array {
  return encryptSK({ spiI: from.spiI, spiR: from.spiR, exchangeType, flags: { initiator: from.initiator, response, version: false }, messageId }, payloads, from.keys!.out, rnd);
}

/** Opens a message of the peer of `to` with `to`'s inbound keys. */
function open(to: IkeSa, data: Uint8Array): { header: IkeHeader; payloads: Payload[] } {
  const m = decodeMessage(strip(data));
  if (!m.ok || !m.value.encrypted) throw new Error('not an SK message');
  const o = openEncrypted(strip(data), m.value.encrypted, to.keys!.in);
  if (!o.ok) throw new Error(o.error.message);
  const p = decodePayloads(o.value.plaintext, o.value.firstInnerType);
  if (!p.ok) throw new Error(p.error.message);
  return { header: m.value.header, payloads: p.value };
}

/** Delivers `data` to `to` as if from its peer on UDP 4500 and returns what `to` sent back (drained here). */
function inject(p: Pair, to: Side, data: Uint8Array, opts: { port?: number } = {}): Uint8Array[] {
  const from = to === p.a ? p.b : p.a;
  const port = opts.port ?? 4500;
  to.ep.receive(data, { address: to.address, port }, { address: from.address, port }, p.sim.now);
  const out: Uint8Array[] = [];
  for (let t = to.ep.pollTransmit(); t; t = to.ep.pollTransmit()) out.push(t.data);
  for (let e = to.ep.pollEvent(); e; e = to.ep.pollEvent()) if (e.type === 'log') to.logs.push(e.message);
  else to.events.push(e);
  return out;
}

/**
 * Rewrites the next message `from` sends that matches `match`: decrypted with the sender's keys, `edit`ed, and
 * re-encrypted (or re-encoded, for IKE_SA_INIT), then delivered in place of the original.
 */
function tamper(p: Pair, from: Side, match: (h: IkeHeader) => boolean, edit: (payloads: Payload[], h: IkeHeader) => Payload[]): { done: boolean } {
  const state = { done: false };
  const net: SimNetwork = p.net;
  const sim: Simulation = p.sim;
  net.dropIf(
    (info) => {
      if (state.done || info.from.address !== from.address) return false;
      const raw = strip(info.bytes);
      const m = decodeMessage(raw);
      if (!m.ok || !match(m.value.header)) return false;
      const h = m.value.header;
      let bytes: Uint8Array;
      const header = { spiI: h.spiI, spiR: h.spiR, exchangeType: h.exchangeType, flags: h.flags, messageId: h.messageId };
      if (h.exchangeType === ExchangeType.IKE_SA_INIT) {
        bytes = encodeMessage(header, edit([...m.value.payloads], h));
      } else {
        const sa = from.ep.listSas().map((s) => from.ep.ikeSa(s.sa.id)!).find((s) => Buffer.compare(s.spiI, h.spiI) === 0);
        if (!sa?.keys) return false;
        const o = openEncrypted(raw, m.value.encrypted!, sa.keys.out);
        if (!o.ok) return false;
        const inner = decodePayloads(o.value.plaintext, o.value.firstInnerType);
        if (!inner.ok) return false;
        bytes = encryptSK(header, edit(inner.value, h), sa.keys.out, rnd);
      }
      state.done = true;
      const framed = raw === info.bytes ? bytes : Buffer.concat([new Uint8Array(4), bytes]);
      sim.at(info.now, (t) => net.send(info.from, info.to, framed, t));
      return true;
    },
    { limit: 1 },
  );
  return state;
}

const notifyP = (notifyType: number, data = new Uint8Array(0), protocol = 0, spi = new Uint8Array(0)): Payload => ({ type: PayloadType.NOTIFY, critical: false, protocol, spi, notifyType, data });
const notifyTypes = (ps: readonly Payload[]) => ps.flatMap((x) => (x.type === PayloadType.NOTIFY ? [x.notifyType] : []));
const spi4 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
/** Exchange, r/q and message ID of what went over the wire; datagrams replaced by `tamper` count once. */
function wire(net: SimNetwork): string[] {
  const dropped = new Set(net.captured({ event: 'drop' }).filter((c) => c.reason === 'filter').map((c) => c.id));
  return net.captured({ event: 'send' }).flatMap((c) => {
    if (dropped.has(c.id)) return [];
    const m = decodeMessage(strip(c.bytes));
    return m.ok ? [`${m.value.header.exchangeType}${m.value.header.flags.response ? 'r' : 'q'}${m.value.header.messageId}`] : [];
  });
}
/** Wire summary after the initial IKE_SA_INIT / IKE_AUTH messages. */
const after = (net: SimNetwork, n = 4) => wire(net).slice(n);

// ------------------------------------------------------------------------------------------------ 1. message IDs

describe('1. message IDs (RFC 7296 2.1-2.3)', () => {
  it('retransmitted request: the cached response, byte-identical, and the request is processed once', () => {
    // A: HDR(37, mid 2), SK {}  -->   <-- HDR(37r, mid 2), SK {}   (lost)
    // A: HDR(37, mid 2), SK {}  -->   (retransmit)   <-- the same response again
    const { sim, net, a, b } = up();
    const lost = net.dropNth((i) => i.from.address === b.address && strip(i.bytes)[18] === ExchangeType.INFORMATIONAL, 1);
    expect(a.ep.checkLiveness(a.ep.listSas()[0]!.sa.id, sim.now)).toBe(true);
    sim.runFor(10_000);
    expect(lost.dropped).toBe(1);
    const responses = net.captured({ event: 'send' }).filter((c) => c.from.address === b.address && strip(c.bytes)[18] === ExchangeType.INFORMATIONAL);
    expect(responses).toHaveLength(2);
    expect(Buffer.compare(responses[0]!.bytes, responses[1]!.bytes)).toBe(0);
    // As sent (the first response included, though the network lost it):
    expect(captureSummary(net).slice(4)).toEqual(['37q2', '37r2', '37q2', '37r2']);
    expect(b.logs.filter((l) => l.includes('received INFORMATIONAL request 2'))).toHaveLength(1);
    expect(b.logs.some((l) => l.includes('received retransmit of request with ID 2'))).toBe(true);
    expectConsistent(a, b, 1);
  });

  it('old and future message IDs are ignored (not answered, not processed)', () => {
    const p = up();
    const { a, b } = p;
    const sa = ikeSa(a);
    // B has answered request 1 (IKE_AUTH) and expects 2.
    expect(ikeSa(b).expectedRequestId).toBe(2);
    // An authentic request with ID 0 (older than the last one answered) and one with ID 3 (beyond window 1).
    for (const mid of [0, 3, 100]) expect(inject(p, b, seal(sa, ExchangeType.INFORMATIONAL, mid, false, []))).toEqual([]);
    expect(b.logs.filter((l) => /outside the window/.test(l))).toHaveLength(3);
    // Request 2 is still expected and answered.
    const [resp] = inject(p, b, seal(sa, ExchangeType.INFORMATIONAL, 2, false, []));
    expect(open(sa, resp!).header.messageId).toBe(2);
    expect(ikeSa(b).expectedRequestId).toBe(3);
  });

  it('our request IDs increase per exchange and are never reused; retransmits reuse theirs', () => {
    const { sim, net, a, b } = up({ extraChild: true });
    const id = a.ep.listSas()[0]!.sa.id;
    net.dropNth((i) => i.from.address === a.address && strip(i.bytes)[18] === ExchangeType.CREATE_CHILD_SA, 1);
    a.ep.createChild(id, 'voice', sim.now);
    a.ep.checkLiveness(id, sim.now);
    a.ep.rekeyChild(a.ep.listSas()[0]!.children[0]!.id, sim.now);
    sim.runFor(60_000);
    const ours = captureSummary(net).slice(4).filter((s) => s.includes('q'));
    // 36q2 lost and retransmitted with the same ID, then 3, 4 (rekey) and 5 (Delete of the old CHILD SA).
    expect(ours).toEqual(['36q2', '36q2', '37q3', '36q4', '37q5']);
    expect(ikeSa(a).nextRequestId).toBe(6);
    expectConsistent(a, b, 2);
  });

  it('responses with a wrong message ID or exchange type are dropped; the right one completes the exchange', () => {
    const p = up();
    const { sim, a, b } = p;
    // Hold B's answers: A's DPD request 2 stays outstanding.
    a.ep.checkLiveness(a.ep.listSas()[0]!.sa.id, sim.now);
    const req = a.ep.pollTransmit()!;
    expect(ikeSa(a).pending?.messageId).toBe(2);
    const bsa = ikeSa(b);
    for (const [mid, x] of [[1, ExchangeType.INFORMATIONAL], [3, ExchangeType.INFORMATIONAL], [2, ExchangeType.CREATE_CHILD_SA]] as const) inject(p, a, seal(bsa, x, mid, true, []));
    expect(ikeSa(a).pending?.messageId).toBe(2);
    expect(a.logs.filter((l) => /unexpected response/.test(l))).toHaveLength(3);
    // An unauthenticated response with the right ID is dropped too (RFC 7296 2.21.2).
    const bogus = seal(bsa, ExchangeType.INFORMATIONAL, 2, true, []);
    bogus[bogus.length - 1]! ^= 1;
    inject(p, a, bogus);
    expect(ikeSa(a).pending?.messageId).toBe(2);
    void req;
    inject(p, a, seal(bsa, ExchangeType.INFORMATIONAL, 2, true, []));
    expect(ikeSa(a).pending).toBeUndefined();
    expect(ikeSa(a).nextRequestId).toBe(3);
  });

  it('a request reusing the last message ID with another exchange type is not a retransmission: not answered', () => {
    const p = up();
    const [first] = inject(p, p.b, seal(ikeSa(p.a), ExchangeType.INFORMATIONAL, 2, false, []));
    expect(first).toBeDefined();
    expect(inject(p, p.b, seal(ikeSa(p.a), ExchangeType.CREATE_CHILD_SA, 2, false, []))).toEqual([]);
    // The true retransmission is answered with the same bytes.
    expect(inject(p, p.b, seal(ikeSa(p.a), ExchangeType.INFORMATIONAL, 2, false, []))).toEqual([first]);
  });

  it('after an IKE rekey both new windows start at 0', () => {
    // A: HDR(36, mid 2), SK {SA, Ni, KEi} --> <-- SK {SA, Nr, KEr};  A: HDR(37, mid 3) SK {D(IKE)} on the old SA.
    // Then on the new SA: B rekeys the CHILD SA with ID 0, A with ID 0 as well.
    const { sim, net, a, b } = up();
    a.ep.rekeyIke(a.ep.listSas()[0]!.sa.id, sim.now);
    sim.runUntil(() => of(a, 'ike-down').length === 1 && of(b, 'ike-down').length === 1, { maxTime: 60_000 });
    for (const s of [a, b]) {
      expect(ikeSa(s).nextRequestId).toBe(0);
      expect(ikeSa(s).expectedRequestId).toBe(0);
    }
    b.ep.rekeyChild(b.ep.listSas()[0]!.children[0]!.id, sim.now);
    sim.runUntil(() => of(a, 'child-remove').length === 1, { maxTime: 60_000 });
    a.ep.checkLiveness(a.ep.listSas()[0]!.sa.id, sim.now);
    sim.runFor(1000);
    expect(after(net)).toEqual(['36q2', '36r2', '37q3', '37r3', '36q0', '36r0', '37q1', '37r1', '37q0', '37r0']);
    expectConsistent(a, b, 1);
  });
});

// ------------------------------------------------------------------------------------------------ 2. unknown SPI

describe('2. unknown IKE SPI (RFC 7296 2.21.4)', () => {
  it('a request for an unknown IKE SPI is dropped, not answered with INVALID_IKE_SPI (decision), and logged', () => {
    const p = up();
    const { sim, a, b } = p;
    const sa = ikeSa(a);
    const forged = seal(sa, ExchangeType.INFORMATIONAL, 2, false, []);
    forged.set([1, 2, 3, 4, 5, 6, 7, 8], 8); // SPIr B does not have
    expect(inject(p, b, forged)).toEqual([]);
    expect(b.logs.some((l) => /no IKE SA for SPI 0102030405060708/.test(l))).toBe(true);
    // A response for an unknown SPI: MUST NOT be answered.
    const resp = seal(sa, ExchangeType.INFORMATIONAL, 2, true, []);
    resp.set([9, 9, 9, 9, 9, 9, 9, 9], 0);
    expect(inject(p, b, resp)).toEqual([]);
    expectConsistent(a, b, 1);
  });

  it('an unprotected INVALID_IKE_SPI for a live SA changes nothing', () => {
    const p = up();
    const { sim, a, b } = p;
    a.ep.checkLiveness(a.ep.listSas()[0]!.sa.id, sim.now);
    a.ep.pollTransmit();
    const sa = ikeSa(a);
    // <-- HDR(37r, mid 2), N(INVALID_IKE_SPI)   (in the clear, as 2.21.4 describes it)
    const clear = encodeMessage({ spiI: sa.spiI, spiR: sa.spiR, exchangeType: ExchangeType.INFORMATIONAL, flags: { initiator: false, response: true, version: false }, messageId: 2 }, [notifyP(NotifyType.INVALID_IKE_SPI)]);
    expect(inject(p, a, clear)).toEqual([]);
    expect(ikeSa(a).pending?.messageId).toBe(2);
    expect(ikeSa(a).state).toBe('ESTABLISHED');
    sim.runFor(1000);
    expectConsistent(a, b, 1);
  });
});

// ------------------------------------------------------------------------------------------------ 3. Delete

describe('3. Delete handling (RFC 7296 1.4.1)', () => {
  const del = (protocol: number, spis: Uint8Array[]): Payload => ({ type: PayloadType.DELETE, critical: false, protocol, spiSize: protocol === ProtocolId.IKE ? 0 : 4, spis });

  it('Delete of an unknown CHILD SPI: an empty response, nothing removed', () => {
    // A: HDR(37), SK {D(ESP, 0xdeadbeef)}  -->   <-- HDR(37r), SK {}
    const p = up();
    const [resp] = inject(p, p.b, seal(ikeSa(p.a), ExchangeType.INFORMATIONAL, 2, false, [del(ProtocolId.ESP, [spi4(0xdeadbeef)])]));
    expect(open(ikeSa(p.a), resp!).payloads).toEqual([]);
    expect(p.b.logs.some((l) => l.includes('received DELETE for unknown ESP CHILD_SA with SPI deadbeef'))).toBe(true);
    expect(p.b.ep.listSas()[0]!.children).toHaveLength(1);
  });

  it('Delete of several SPIs in one payload: all go, the response lists the paired SPIs in one Delete', () => {
    // A: HDR(37), SK {D(ESP, spi1, spi2, 0x0badf00d)}  -->   <-- HDR(37r), SK {D(ESP, spi1', spi2')}
    const p = up({ extraChild: true });
    const { sim, a, b } = p;
    a.ep.createChild(a.ep.listSas()[0]!.sa.id, 'voice', sim.now);
    sim.runUntil(() => of(b, 'child-install').length === 2 && of(a, 'child-install').length === 2, { maxTime: 60_000 });
    const ours = a.ep.listSas()[0]!.children.map((c) => c.spiIn);
    const [resp] = inject(p, b, seal(ikeSa(a), ExchangeType.INFORMATIONAL, 3, false, [del(ProtocolId.ESP, [...ours.map(spi4), spi4(0x0badf00d)])]));
    const r = open(ikeSa(a), resp!).payloads;
    expect(r).toHaveLength(1);
    const d = r[0]!;
    expect(d.type === PayloadType.DELETE && d.spis.map((s) => Buffer.from(s).readUInt32BE(0))).toEqual(a.ep.listSas()[0]!.children.map((c) => c.spiOut));
    expect(b.ep.listSas()[0]!.children).toHaveLength(0);
    expect(of(b, 'child-remove')).toHaveLength(2);
  });

  it('Delete of IKE and CHILD in one message: the IKE SA and all its CHILD SAs go, the response is empty', () => {
    // A: HDR(37), SK {D(ESP, spi), D(IKE)}  -->   <-- HDR(37r), SK {}
    const p = up();
    const { a, b } = p;
    const spi = a.ep.listSas()[0]!.children[0]!.spiIn;
    const [resp] = inject(p, b, seal(ikeSa(a), ExchangeType.INFORMATIONAL, 2, false, [del(ProtocolId.ESP, [spi4(spi)]), del(ProtocolId.IKE, [])]));
    expect(open(ikeSa(a), resp!).payloads).toEqual([]);
    expect(b.ep.listSas()).toHaveLength(0);
    expect(of(b, 'child-remove')).toHaveLength(1);
    expect(of(b, 'ike-down')[0]!.reason).toBe('deleted-by-peer');
  });

  it('crossing Deletes of the same CHILD SA: both remove it, neither response repeats it, the IKE SA stays', () => {
    // A: HDR(37, mid 2), SK {D(ESP, a)}  -->  <--  B: HDR(37, mid 0), SK {D(ESP, b)}   (crossing)
    // A: <-- HDR(37r, mid 2), SK {}          B: <-- HDR(37r, mid 0), SK {}
    const p = up({ pair: { impairment: { delay: 20 } } });
    const { sim, net, a, b } = p;
    a.ep.terminateChild(a.ep.listSas()[0]!.children[0]!.id, sim.now);
    b.ep.terminateChild(b.ep.listSas()[0]!.children[0]!.id, sim.now);
    sim.runFor(5000);
    expect(after(net).sort()).toEqual(['37q0', '37q2', '37r0', '37r2']);
    // Neither response carries a Delete payload (1.4.1: it would be a duplicate deletion).
    for (const c of net.captured({ event: 'send' }).slice(4)) {
      const h = decodeMessage(strip(c.bytes));
      if (!h.ok || !h.value.header.flags.response) continue;
      const to = c.from.address === a.address ? ikeSa(b) : ikeSa(a);
      expect(open(to, c.bytes).payloads).toEqual([]);
    }
    expectConsistent(a, b, 0);
    expect(of(a, 'child-remove')).toHaveLength(1);
    expect(of(b, 'child-remove')).toHaveLength(1);
  });

  it('crossing Deletes of the IKE SA: both sides end with nothing, no retransmissions left', () => {
    const p = up({ pair: { impairment: { delay: 20 } } });
    const { sim, a, b } = p;
    a.ep.terminateIke(a.ep.listSas()[0]!.sa.id, sim.now);
    b.ep.terminateIke(b.ep.listSas()[0]!.sa.id, sim.now);
    expect(sim.runUntilIdle({ maxTime: 300_000 }).reason).toBe('idle');
    expect(a.ep.listSas()).toHaveLength(0);
    expect(b.ep.listSas()).toHaveLength(0);
    expect(of(a, 'ike-down')).toHaveLength(1);
    expect(of(b, 'ike-down')).toHaveLength(1);
    expect(a.ep.nextTimeout()).toBeUndefined();
    expect(b.ep.nextTimeout()).toBeUndefined();
  });
});

// ------------------------------------------------------------------------------------------------ 4. IKE_SA_INIT

/** A's IKE_SA_INIT request, decoded, for forging variants of it. */
function initRequest(p: Pair): { header: IkeHeader; payloads: Payload[] } {
  p.a.ep.initiate('gw', 0);
  const t = p.a.ep.pollTransmit()!;
  const m = decodeMessage(t.data);
  if (!m.ok) throw new Error('bad request');
  return { header: m.value.header, payloads: [...m.value.payloads] };
}

function encodeInit(h: IkeHeader, payloads: readonly Payload[]): Uint8Array {
  return encodeMessage({ spiI: h.spiI, spiR: h.spiR, exchangeType: h.exchangeType, flags: h.flags, messageId: h.messageId }, payloads);
}

/** Sends a forged IKE_SA_INIT request to B on port 500 and decodes B's answer(s). */
function askB(p: Pair, data: Uint8Array): Payload[][] {
  return inject(p, p.b, data, { port: 500 }).map((d) => {
    const m = decodeMessage(strip(d));
    if (!m.ok) throw new Error('bad answer');
    return [...m.value.payloads];
  });
}

describe('4. IKE_SA_INIT edge cases (RFC 7296 1.2, 2.6, 2.7, 3.3, 3.4)', () => {
  const two = 'aes128gcm16-prfsha256-ecp256,aes128gcm16-prfsha256-x25519';

  it('several proposals with different KE groups, responder accepts only the second: INVALID_KE_PAYLOAD, then the retry matches proposal 2', () => {
    // HDR, SA{1: ECP_256, 2: X25519}, KE(ECP_256), Ni  -->  <-- HDR, N(INVALID_KE_PAYLOAD, 31)
    // HDR, SA{1: ECP_256, 2: X25519}, KE(X25519), Ni   -->  <-- HDR, SA{2: X25519}, KE(X25519), Nr
    const p = setup({ conn: { proposals: two }, respConn: { proposals: 'aes128gcm16-prfsha256-x25519' } });
    p.a.ep.initiate('gw', 0);
    expect(p.sim.runUntil(() => of(p.a, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    expect(wire(p.net)).toEqual(['34q0', '34r0', '34q0', '34r0', '35q1', '35r1']);
    expect(p.a.ep.listSas()[0]!.sa.suite).toBe('AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519');
    const resp = decodeMessage(strip(p.net.captured({ event: 'send' })[3]!.bytes));
    const sa = resp.ok ? resp.value.payloads.find((x) => x.type === PayloadType.SA) : undefined;
    expect(sa?.type === PayloadType.SA && sa.proposals[0]!.num).toBe(2);
  });

  it('KE payload matching the second proposal is accepted when the responder accepts both (no INVALID_KE_PAYLOAD round trip)', () => {
    // HDR, SA{1: ECP_256, 2: X25519}, KE(X25519), Ni  -->  <-- HDR, SA{2: X25519}, KE(X25519), Nr
    const p = setup({ conn: { proposals: two } });
    const req = initRequest(p);
    const ke = { type: PayloadType.KE, critical: false, group: 31, data: p.b.ep.crypto.createKeyExchange(31, rnd).publicValue } as const;
    const [answer] = askB(p, encodeInit(req.header, req.payloads.map((x) => (x.type === PayloadType.KE ? ke : x))));
    const sa = answer!.find((x) => x.type === PayloadType.SA);
    expect(notifyTypes(answer!)).not.toContain(NotifyType.INVALID_KE_PAYLOAD);
    expect(sa?.type === PayloadType.SA && sa.proposals.map((x) => x.num)).toEqual([2]);
    expect(answer!.find((x) => x.type === PayloadType.KE)).toMatchObject({ group: 31 });
    expect(p.b.ep.listSas()).toHaveLength(1);
  });

  it('the same for PFS in CREATE_CHILD_SA: a KE group the responder accepts, though not its first choice, is taken', () => {
    // HDR, SK {N(REKEY_SA), SA(ECP_256 | X25519), Ni, KE(ECP_256), TSi, TSr}  -->  <-- HDR, SK {SA(ECP_256), Nr, KE(ECP_256), ...}
    const p = up({ child: { espProposals: 'aes128gcm16-ecp256-x25519' }, respChild: { espProposals: 'aes128gcm16-x25519-ecp256' } });
    p.a.ep.rekeyChild(p.a.ep.listSas()[0]!.children[0]!.id, p.sim.now);
    p.sim.runFor(10_000);
    expect(after(p.net)).toEqual(['36q2', '36r2', '37q3', '37r3']);
    expect(of(p.a, 'child-install')[1]!.child.keGroup).toBe(19);
    expectConsistent(p.a, p.b, 1);
  });

  it('a responder that keeps asking for other KE groups: the initiator retries a bounded number of times, then gives up', () => {
    // HDR, SA{ECP_256 | X25519 | ECP_384}, KE(ECP_256), Ni  -->  <-- HDR, N(INVALID_KE_PAYLOAD, 31)
    // HDR, ..., KE(X25519), Ni  -->  <-- HDR, N(INVALID_KE_PAYLOAD, 20)  ... (alternating for ever)
    const p = setup({ conn: { proposals: 'aes128gcm16-prfsha256-ecp256-x25519-ecp384' } });
    p.a.ep.initiate('gw', 0);
    const groups = [31, 20, 19];
    let retries = 0;
    for (let i = 0; i < 20; i++) {
      const t = p.a.ep.pollTransmit();
      if (!t) break;
      const m = decodeMessage(t.data);
      if (!m.ok) throw new Error('bad request');
      const ke = m.value.payloads.find((x) => x.type === PayloadType.KE);
      const want = groups.find((g) => ke?.type === PayloadType.KE && g !== ke.group)!;
      if (i > 0) retries++;
      const h = m.value.header;
      const answer = encodeMessage({ spiI: h.spiI, spiR: new Uint8Array(8), exchangeType: 34, flags: { initiator: false, response: true, version: false }, messageId: 0 }, [notifyP(NotifyType.INVALID_KE_PAYLOAD, Uint8Array.of(0, want))]);
      p.a.ep.receive(answer, { address: p.a.address, port: 500 }, { address: p.b.address, port: 500 }, i);
    }
    expect(retries).toBe(3);
    expect(p.a.ep.listSas()).toHaveLength(0);
    let down: IkeEvent | undefined;
    for (let e = p.a.ep.pollEvent(); e; e = p.a.ep.pollEvent()) if (e.type === 'ike-down') down = e;
    expect(down?.type === 'ike-down' && down.message).toMatch(/giving up after 3 retries/);
  });

  for (const [group, len] of [[31, 31], [31, 33], [19, 64], [19, 1]] as const) {
    it(`KE payload of the wrong length (group ${group}, ${len} bytes): INVALID_SYNTAX, no state`, () => {
      const p = setup({ conn: { proposals: group === 19 ? 'aes128gcm16-prfsha256-ecp256' : 'aes128gcm16-prfsha256-x25519' }, respConn: { proposals: 'aes128gcm16-prfsha256-ecp256-x25519' } });
      const req = initRequest(p);
      const ke = { type: PayloadType.KE, critical: false, group, data: new Uint8Array(len).fill(4) } as const;
      const answers = askB(p, encodeInit(req.header, req.payloads.map((x) => (x.type === PayloadType.KE ? ke : x))));
      expect(answers.map(notifyTypes)).toEqual([[NotifyType.INVALID_SYNTAX]]);
      expect(p.b.ep.listSas()).toHaveLength(0);
    });
  }

  it('a KE payload of the wrong length in the response: the initiator gives up, no IKE_AUTH is sent', () => {
    const p = setup();
    tamper(p, p.b, (h) => h.exchangeType === ExchangeType.IKE_SA_INIT, (ps) => ps.map((x) => (x.type === PayloadType.KE ? { ...x, data: x.data.subarray(1) } : x)));
    p.a.ep.initiate('gw', 0);
    p.sim.runFor(5000);
    expect(of(p.a, 'ike-down')[0]?.reason).toBe('invalid-syntax');
    expect(wire(p.net)).toEqual(['34q0', '34r0']);
  });

  it('a response accepting a proposal number we did not send is refused (3.3.1)', () => {
    // HDR, SA{1: X25519}, KE, Ni  -->  <-- HDR, SA{7: X25519}, KE, Nr   (7 was never offered)
    const p = setup();
    tamper(p, p.b, (h) => h.exchangeType === ExchangeType.IKE_SA_INIT, (ps) => ps.map((x) => (x.type === PayloadType.SA ? { ...x, proposals: x.proposals.map((q) => ({ ...q, num: 7 })) } : x)));
    p.a.ep.initiate('gw', 0);
    p.sim.runFor(5000);
    expect(of(p.a, 'ike-down')[0]?.reason).toBe('no-proposal');
    expect(wire(p.net)).toEqual(['34q0', '34r0']);
  });

  it('a proposal number that we sent, but for other transforms, is refused too', () => {
    // HDR, SA{1: ECP_256, 2: X25519}, KE(ECP_256)  -->  <-- HDR, SA{2: ECP_256}, KE(ECP_256)   (2 was X25519)
    const p = setup({ conn: { proposals: two } });
    tamper(p, p.b, (h) => h.exchangeType === ExchangeType.IKE_SA_INIT, (ps) => ps.map((x) => (x.type === PayloadType.SA ? { ...x, proposals: x.proposals.map((q) => ({ ...q, num: 2 })) } : x)));
    p.a.ep.initiate('gw', 0);
    p.sim.runFor(5000);
    expect(of(p.a, 'ike-down')[0]?.reason).toBe('no-proposal');
  });

  it('a response with two proposals is refused (2.7: exactly one is accepted)', () => {
    const p = setup();
    tamper(p, p.b, (h) => h.exchangeType === ExchangeType.IKE_SA_INIT, (ps) => ps.map((x) => (x.type === PayloadType.SA ? { ...x, proposals: [x.proposals[0]!, { ...x.proposals[0]!, num: 2 }] } : x)));
    p.a.ep.initiate('gw', 0);
    p.sim.runFor(5000);
    expect(of(p.a, 'ike-down')[0]?.reason).toBe('invalid-syntax');
    expect(wire(p.net)).toEqual(['34q0', '34r0']);
  });

  it('COOKIE not first in the retry: the responder still finds and accepts it (lenient; we always send it first)', () => {
    // HDR, SA, KE, Ni  -->  <-- HDR, N(COOKIE)
    // HDR, SA, KE, Ni, ..., N(COOKIE)  -->  <-- HDR, SA, KE, Nr   (the COOKIE moved to the end in flight)
    const p = setup({ pair: { settings: { cookieThreshold: 1 } } });
    cookiesOn(p.b.ep, { address: p.b.address, port: 500 }, 0, { proposals: 'aes128gcm16-prfsha256-x25519' });
    let retry = 0;
    const moved = tamper(p, p.a, (h) => h.exchangeType === ExchangeType.IKE_SA_INIT && retry++ === 1, (ps) => {
      const cookie = ps.filter((x) => x.type === PayloadType.NOTIFY && x.notifyType === NotifyType.COOKIE);
      expect(cookie).toHaveLength(1);
      expect(ps[0]).toBe(cookie[0]);
      return [...ps.slice(1), cookie[0]!];
    });
    p.a.ep.initiate('gw', 0);
    p.sim.runFor(5000);
    expect(moved.done).toBe(true);
    expect(wire(p.net).slice(0, 4)).toEqual(['34q0', '34r0', '34q0', '34r0']);
    const answer = decodeMessage(strip(p.net.captured({ event: 'send' })[4]!.bytes));
    expect(answer.ok && answer.value.payloads.some((x) => x.type === PayloadType.SA)).toBe(true);
    expect(answer.ok && notifyTypes(answer.value.payloads)).not.toContain(NotifyType.COOKIE);
    // (AUTH then fails, as it must: it covers the IKE_SA_INIT request as A sent it, RFC 7296 2.15.)
  });

  it('IKE_SA_INIT with an unknown payload marked critical: UNSUPPORTED_CRITICAL_PAYLOAD naming its type, no state', () => {
    // HDR, SA, KE, Ni, <type 200, critical>  -->  <-- HDR, N(UNSUPPORTED_CRITICAL_PAYLOAD, 200)
    const p = setup();
    const req = initRequest(p);
    const unknown = { type: 'unknown', payloadType: 200, critical: true, body: Uint8Array.of(1, 2, 3, 4) } as const;
    const answers = askB(p, encodeInit(req.header, [...req.payloads, unknown]));
    expect(answers).toHaveLength(1);
    const n = answers[0]![0]!;
    expect(n.type === PayloadType.NOTIFY && [n.notifyType, [...n.data]]).toEqual([NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, [200]]);
    expect(p.b.ep.listSas()).toHaveLength(0);
    // Not critical: skipped (2.5), the SA is set up.
    const req2 = initRequest(setup());
    const ok = askB(p, encodeInit(req2.header, [...req2.payloads, { ...unknown, critical: false }]));
    expect(ok[0]!.some((x) => x.type === PayloadType.SA)).toBe(true);
  });
});

/**
 * Answers A's next request `from` -> `to` with a forged response (`payloads`), in place of the real peer: the request
 * is dropped on the wire, the response sealed with the peer's keys. The peer's window is then moved past the
 * message ID with an empty INFORMATIONAL of the same ID, so both windows stay aligned afterwards.
 */
function answerFor(p: Pair, from: Side, exchangeType: number, payloads: readonly Payload[]): { mid: number | undefined } {
  const to = from === p.a ? p.b : p.a;
  const r: { mid: number | undefined } = { mid: undefined };
  p.net.dropIf(
    (info) => {
      if (info.from.address !== from.address) return false;
      const m = decodeMessage(strip(info.bytes));
      if (!m.ok || m.value.header.exchangeType !== exchangeType || m.value.header.flags.response) return false;
      const mid = m.value.header.messageId;
      r.mid = mid;
      p.sim.at(info.now + 5, () => {
        inject(p, to, seal(ikeSa(from), ExchangeType.INFORMATIONAL, mid, false, []));
        inject(p, from, seal(ikeSa(to), exchangeType, mid, true, payloads));
      });
      return true;
    },
    { limit: 1 },
  );
  return r;
}

// ------------------------------------------------------------------------------------------------ 5. IKE_AUTH

describe('4. IKE_SA_INIT header checks (RFC 7296 2.5, 2.10, 3.1)', () => {
  it('an IKE_SA_INIT request with SPIi zero is dropped without state (3.1: the initiator SPI MUST NOT be zero)', () => {
    const p = setup();
    const req = initRequest(p);
    expect(askB(p, encodeInit({ ...req.header, spiI: new Uint8Array(8) }, req.payloads))).toEqual([]);
    expect(p.b.ep.listSas()).toHaveLength(0);
  });

  it('an IKE_SA_INIT response with SPIr zero carrying an SA is refused (3.1)', () => {
    // <-- HDR(SPIr = 0), SA, KE, Nr
    const p = setup();
    p.a.ep.initiate('gw', 0);
    const req = p.a.ep.pollTransmit()!.data;
    p.b.ep.receive(req, { address: p.b.address, port: 500 }, { address: p.a.address, port: 500 }, 0);
    const resp = decodeMessage(p.b.ep.pollTransmit()!.data);
    if (!resp.ok) throw new Error('no response');
    inject(p, p.a, encodeInit({ ...resp.value.header, spiR: new Uint8Array(8) }, resp.value.payloads), { port: 500 });
    expect(of(p.a, 'ike-down')[0]?.reason).toBe('invalid-syntax');
    expect(p.a.ep.listSas()).toHaveLength(0);
  });

  it('an IKE_SA_INIT request of a higher major version: dropped, answered with INVALID_MAJOR_VERSION from version 2 (2.5)', () => {
    // HDR(version 3.0), ...  -->  <-- HDR(version 2.0, R), N(INVALID_MAJOR_VERSION)
    const p = setup();
    const req = initRequest(p);
    const v3 = encodeInit(req.header, req.payloads);
    v3[17] = 0x30;
    const out = inject(p, p.b, v3, { port: 500 });
    expect(out).toHaveLength(1);
    expect(out[0]![17]).toBe(0x20);
    expect(out[0]![19]! & 0x20).toBe(0x20); // response
    expect(Buffer.from(out[0]!.subarray(0, 8))).toEqual(Buffer.from(req.header.spiI));
    const m = decodeMessage(out[0]!);
    expect(m.ok && notifyTypes(m.value.payloads)).toEqual([NotifyType.INVALID_MAJOR_VERSION]);
    expect(p.b.ep.listSas()).toHaveLength(0);
    // A response of a higher version, or IKEv1, is never answered.
    const resp = v3.slice();
    resp[19] = 0x20;
    expect(inject(p, p.b, resp, { port: 500 })).toEqual([]);
    const v1 = encodeInit(req.header, req.payloads);
    v1[17] = 0x10;
    expect(inject(p, p.b, v1, { port: 500 })).toEqual([]);
  });

  it('a nonce shorter than 16 bytes: INVALID_SYNTAX, no state (2.10)', () => {
    const p = setup();
    const req = initRequest(p);
    const short = req.payloads.map((x) => (x.type === PayloadType.NONCE ? { ...x, data: new Uint8Array(8).fill(1) } : x));
    expect(askB(p, encodeInit(req.header, short)).map(notifyTypes)).toEqual([[NotifyType.INVALID_SYNTAX]]);
    expect(p.b.ep.listSas()).toHaveLength(0);
  });
});

describe('5. IKE_AUTH edge cases (RFC 7296 1.2, 2.9, 2.15, 2.21)', () => {
  it('IDr naming an identity the responder does not have: AUTHENTICATION_FAILED, no SA on either side', () => {
    // HDR, SK {IDi(moon), IDr(other.example), AUTH, SAi2, TSi, TSr}  -->  <-- HDR, SK {N(AUTHENTICATION_FAILED)}
    const p = setup({ conn: { remote: { id: 'other.example' } }, respConn: { remote: { id: 'moon.example' } } });
    p.a.ep.initiate('gw', 0);
    p.sim.runFor(10_000);
    expect(wire(p.net)).toEqual(['34q0', '34r0', '35q1', '35r1']);
    expect(of(p.a, 'ike-down')[0]?.reason).toBe('auth-failed');
    expect(of(p.b, 'ike-down')[0]?.reason).toBe('auth-failed');
    expect(of(p.b, 'auth-failed')[0]!.message).toMatch(/asking for us as 'other.example'/);
    expect(p.a.ep.listSas()).toHaveLength(0);
    expect(p.b.ep.listSas()).toHaveLength(0);
  });

  it('TSi/TSr narrowing to nothing: TS_UNACCEPTABLE, the IKE SA stays up without CHILD SA (2.9, 2.21.3)', () => {
    // HDR, SK {IDi, AUTH, SAi2, TSi(10.1/16), TSr(10.9/16)}  -->  <-- HDR, SK {IDr, AUTH, N(TS_UNACCEPTABLE)}
    const p = setup({ child: { remoteTs: ['10.9.0.0/16'] }, respChild: { localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'] } });
    p.a.ep.initiate('gw', 0);
    p.sim.runFor(10_000);
    expect(wire(p.net)).toEqual(['34q0', '34r0', '35q1', '35r1']);
    expect(of(p.a, 'child-failed')[0]!.notify).toBe('TS_UNACCEPTABLE');
    expect(of(p.b, 'child-failed')[0]!.notify).toBe('TS_UNACCEPTABLE');
    expectConsistent(p.a, p.b, 0);
    // The same in CREATE_CHILD_SA: HDR, SK {SA, Ni, KEi, TSi, TSr} --> <-- HDR, SK {N(TS_UNACCEPTABLE)}
    p.a.ep.createChild(p.a.ep.listSas()[0]!.sa.id, 'net', p.sim.now);
    p.sim.runFor(10_000);
    expect(after(p.net)).toEqual(['36q2', '36r2']);
    expect(of(p.a, 'child-failed')[1]!.notify).toBe('TS_UNACCEPTABLE');
    expectConsistent(p.a, p.b, 0);
  });

  it('IKE_AUTH response with SA but no TSi: malformed; the initiator deletes the IKE SA so neither side keeps it', () => {
    // HDR, SK {IDi, AUTH, SAi2, TSi, TSr}  -->  <-- HDR, SK {IDr, AUTH, SAr2, TSr}   (TSi removed in flight)
    // HDR, SK {D(IKE)}  -->  <-- HDR, SK {}
    const p = setup();
    tamper(p, p.b, (h) => h.exchangeType === ExchangeType.IKE_AUTH, (ps) => ps.filter((x) => x.type !== PayloadType.TSi));
    p.a.ep.initiate('gw', 0);
    p.sim.runFor(30_000);
    expect(wire(p.net)).toEqual(['34q0', '34r0', '35q1', '35r1', '37q2', '37r2']);
    expect(of(p.a, 'ike-down')[0]?.reason).toBe('invalid-syntax');
    expect(p.a.ep.listSas()).toHaveLength(0);
    expect(p.b.ep.listSas()).toHaveLength(0);
    expect(of(p.b, 'child-remove')).toHaveLength(1);
  });

  it('AUTH with a method other than the configured one (signature instead of PSK): AUTHENTICATION_FAILED', () => {
    // HDR, SK {IDi, AUTH(method 1), SAi2, TSi, TSr}  -->  <-- HDR, SK {N(AUTHENTICATION_FAILED)}
    const p = setup();
    tamper(p, p.a, (h) => h.exchangeType === ExchangeType.IKE_AUTH, (ps) => ps.map((x) => (x.type === PayloadType.AUTH ? { ...x, method: 1 } : x)));
    p.a.ep.initiate('gw', 0);
    p.sim.runFor(10_000);
    expect(wire(p.net)).toEqual(['34q0', '34r0', '35q1', '35r1']);
    expect(of(p.b, 'auth-failed')[0]!.message).toMatch(/AUTH method 1, but connection 'gw' expects a pre-shared key/);
    expect(of(p.a, 'ike-down')[0]?.reason).toBe('auth-failed');
    expect(p.a.ep.listSas()).toHaveLength(0);
    expect(p.b.ep.listSas()).toHaveLength(0);
  });

  it('the responder\'s AUTH with the wrong method: the initiator reports AUTHENTICATION_FAILED in an INFORMATIONAL and both close', () => {
    // <-- HDR, SK {IDr, AUTH(method 14), SAr2, TSi, TSr};  HDR, SK {N(AUTHENTICATION_FAILED)} --> <-- HDR, SK {}
    const p = setup();
    tamper(p, p.b, (h) => h.exchangeType === ExchangeType.IKE_AUTH, (ps) => ps.map((x) => (x.type === PayloadType.AUTH ? { ...x, method: 14 } : x)));
    p.a.ep.initiate('gw', 0);
    p.sim.runFor(10_000);
    expect(wire(p.net)).toEqual(['34q0', '34r0', '35q1', '35r1', '37q2', '37r2']);
    expect(of(p.a, 'ike-down')[0]?.reason).toBe('auth-failed');
    expect(of(p.b, 'ike-down')[0]?.reason).toBe('auth-failed');
    expect(p.b.ep.listSas()).toHaveLength(0);
  });
});

// ------------------------------------------------------------------------------------------------ 6. CREATE_CHILD_SA

describe('6. CREATE_CHILD_SA (RFC 7296 1.3, 2.25, 3.10.1)', () => {
  it('a CHILD SA request while the IKE SA is being deleted: TEMPORARY_FAILURE, both sides end with nothing', () => {
    // A: HDR(37, mid 2), SK {D(IKE)}  -->    <--  B: HDR(36, mid 0), SK {SA, Ni, TSi, TSr}   (crossing)
    // A: <-- HDR(37r, mid 2), SK {}          B: <-- HDR(36r, mid 0), SK {N(TEMPORARY_FAILURE)}
    const p = up({ extraChild: true, pair: { impairment: { delay: 20 } } });
    p.a.ep.terminateIke(p.a.ep.listSas()[0]!.sa.id, p.sim.now);
    p.b.ep.createChild(p.b.ep.listSas()[0]!.sa.id, 'voice', p.sim.now);
    expect(p.sim.runUntilIdle({ maxTime: 300_000 }).reason).toBe('idle');
    expect(after(p.net).sort()).toEqual(['36q0', '36r0', '37q2', '37r2']);
    expect(p.a.logs.some((l) => l.includes('TEMPORARY_FAILURE'))).toBe(true);
    expect(p.a.ep.listSas()).toHaveLength(0);
    expect(p.b.ep.listSas()).toHaveLength(0);
    expect(of(p.a, 'child-install')).toHaveLength(1);
    expect(of(p.b, 'child-install')).toHaveLength(1);
  });

  it('NO_ADDITIONAL_SAS: the CHILD SA fails, the IKE SA stays, nothing is retried', () => {
    // HDR, SK {SA, Ni, KEi, TSi, TSr}  -->  <-- HDR, SK {N(NO_ADDITIONAL_SAS)}
    const p = up({ extraChild: true });
    const forged = answerFor(p, p.a, ExchangeType.CREATE_CHILD_SA, [notifyP(NotifyType.NO_ADDITIONAL_SAS)]);
    p.a.ep.createChild(p.a.ep.listSas()[0]!.sa.id, 'voice', p.sim.now);
    p.sim.runFor(3_600_000 / 2);
    expect(forged.mid).toBe(2);
    expect(of(p.a, 'child-failed').map((e) => e.notify)).toEqual(['NO_ADDITIONAL_SAS']);
    expect(after(p.net).filter((s) => s.startsWith('36'))).toEqual([]);
    expectConsistent(p.a, p.b, 1);
    // The windows are intact: another exchange works.
    p.a.ep.rekeyChild(p.a.ep.listSas()[0]!.children[0]!.id, p.sim.now);
    p.sim.runFor(10_000);
    expect(after(p.net)).toEqual(['36q3', '36r3', '37q4', '37r4']);
    expectConsistent(p.a, p.b, 1);
  });

  for (const [what, protocol, spi] of [
    ['protocol IKE', ProtocolId.IKE, 'child'],
    ['an 8-byte ESP SPI', ProtocolId.ESP, 'eight'],
    ['no SPI', ProtocolId.ESP, 'none'],
  ] as const) {
    it(`REKEY_SA with a protocol/SPI size mismatch (${what}): INVALID_SYNTAX, nothing created or removed`, () => {
      // HDR, SK {N(REKEY_SA, <mismatch>), SA, Ni, KEi, TSi, TSr}  -->  <-- HDR, SK {N(INVALID_SYNTAX)}
      const p = up();
      const old = p.a.ep.listSas()[0]!.children[0]!;
      tamper(p, p.a, (h) => h.exchangeType === ExchangeType.CREATE_CHILD_SA, (ps) =>
        ps.map((x) =>
          x.type === PayloadType.NOTIFY && x.notifyType === NotifyType.REKEY_SA
            ? { ...x, protocol, spi: spi === 'child' ? spi4(old.spiIn) : spi === 'eight' ? new Uint8Array([0, 0, 0, 0, ...spi4(old.spiIn)]) : new Uint8Array(0) }
            : x,
        ),
      );
      p.a.ep.rekeyChild(old.id, p.sim.now);
      p.sim.runFor(10_000);
      expect(after(p.net)).toEqual(['36q2', '36r2']);
      expect(p.b.logs.some((l) => /REKEY_SA/.test(l) && /INVALID_SYNTAX/.test(l))).toBe(true);
      expect(of(p.b, 'child-install')).toHaveLength(1);
      expectConsistent(p.a, p.b, 1);
      expect(p.a.ep.listSas()[0]!.children[0]!.spiIn).toBe(old.spiIn);
    });
  }

  it('PFS requested by the initiator, responder configured without KE: NO_PROPOSAL_CHOSEN, nothing created, no crash', () => {
    // HDR, SK {N(REKEY_SA), SA(ESP, KE=X25519), Ni, KEi, TSi, TSr}  -->  <-- HDR, SK {N(NO_PROPOSAL_CHOSEN)}
    const p = up({ child: { espProposals: 'aes128gcm16-x25519' }, respChild: { espProposals: 'aes128gcm16' } });
    const old = p.a.ep.listSas()[0]!.children[0]!;
    p.a.ep.rekeyChild(old.id, p.sim.now);
    p.sim.runFor(10_000);
    expect(after(p.net)).toEqual(['36q2', '36r2']);
    expect(of(p.a, 'child-failed')[0]!.notify).toBe('NO_PROPOSAL_CHOSEN');
    expectConsistent(p.a, p.b, 1);
    expect(p.a.ep.listSas()[0]!.children[0]!.spiIn).toBe(old.spiIn);
    // The reverse (responder demands PFS, initiator offers none) fails the same way.
    const q = up({ child: { espProposals: 'aes128gcm16' }, respChild: { espProposals: 'aes128gcm16-x25519' } });
    q.a.ep.createChild(q.a.ep.listSas()[0]!.sa.id, 'net', q.sim.now);
    q.sim.runFor(10_000);
    expect(after(q.net)).toEqual(['36q2', '36r2']);
    expect(of(q.a, 'child-failed')[0]!.notify).toBe('NO_PROPOSAL_CHOSEN');
    expectConsistent(q.a, q.b, 1);
  });

  it('PFS optional at the initiator (a proposal without KE too), responder without KE: the proposal without PFS is taken, KEi ignored', () => {
    // HDR, SK {N(REKEY_SA), SA{1: KE=X25519, 2: no KE}, Ni, KEi, TSi, TSr}  -->  <-- HDR, SK {SA{2}, Nr, TSi, TSr}
    const p = up({ child: { espProposals: 'aes128gcm16-x25519,aes128gcm16' }, respChild: { espProposals: 'aes128gcm16' } });
    const old = p.a.ep.listSas()[0]!.children[0]!;
    p.a.ep.rekeyChild(old.id, p.sim.now);
    p.sim.runFor(10_000);
    expect(after(p.net)).toEqual(['36q2', '36r2', '37q3', '37r3']);
    expect(of(p.a, 'child-failed')).toEqual([]);
    expect(of(p.a, 'child-install')[1]!.child.keGroup).toBeUndefined();
    expectConsistent(p.a, p.b, 1);
    expect(p.a.ep.listSas()[0]!.children[0]!.spiIn).not.toBe(old.spiIn);
  });

  it('a responder\'s CHILD SA the initiator refuses (proposal number not sent) is deleted again, so both sides agree', () => {
    // HDR, SK {SA{1}, Ni, TSi, TSr}  -->  <-- HDR, SK {SA{5}, Nr, TSi, TSr}
    // HDR, SK {D(ESP, our SPI)}  -->  <-- HDR, SK {D(ESP, its SPI)}
    const p = up({ extraChild: true });
    tamper(p, p.b, (h) => h.exchangeType === ExchangeType.CREATE_CHILD_SA, (ps) => ps.map((x) => (x.type === PayloadType.SA ? { ...x, proposals: x.proposals.map((q) => ({ ...q, num: 5 })) } : x)));
    p.a.ep.createChild(p.a.ep.listSas()[0]!.sa.id, 'voice', p.sim.now);
    p.sim.runFor(10_000);
    expect(after(p.net)).toEqual(['36q2', '36r2', '37q3', '37r3']);
    expect(of(p.a, 'child-failed')[0]!.message).toMatch(/proposal 5/);
    expectConsistent(p.a, p.b, 1);
  });
});

describe('6. refused rekey responses', () => {
  it('a CHILD rekey response the initiator refuses: the new SA is deleted at the responder, the old one stays usable and rekeys later', () => {
    // A: HDR(36, mid 2), SK {N(REKEY_SA), SA{1}, Ni, KEi, TSi, TSr}  -->  <-- HDR, SK {SA{9}, Nr, KEr, TSi, TSr}
    // A: HDR(37, mid 3), SK {D(ESP, offered SPI)}  -->  <-- HDR, SK {D(ESP, B's new SPI)}
    const p = up();
    const old = p.a.ep.listSas()[0]!.children[0]!;
    tamper(p, p.b, (h) => h.exchangeType === ExchangeType.CREATE_CHILD_SA, (ps) => ps.map((x) => (x.type === PayloadType.SA ? { ...x, proposals: x.proposals.map((q) => ({ ...q, num: 9 })) } : x)));
    p.a.ep.rekeyChild(old.id, p.sim.now);
    p.sim.runFor(10_000);
    expect(after(p.net)).toEqual(['36q2', '36r2', '37q3', '37r3']);
    expectConsistent(p.a, p.b, 1);
    expect(p.b.ep.ikeSa(p.b.ep.listSas()[0]!.sa.id)!.children[0]!.state).toBe('INSTALLED');
    // Both sides can rekey the old SA again (B no longer takes it for replaced, A is not told CHILD_SA_NOT_FOUND).
    p.a.ep.rekeyChild(old.id, p.sim.now);
    p.sim.runFor(10_000);
    expect(after(p.net).slice(4)).toEqual(['36q4', '36r4', '37q5', '37r5']);
    expectConsistent(p.a, p.b, 1);
    expect(p.a.ep.listSas()[0]!.children[0]!.spiIn).not.toBe(old.spiIn);
    p.b.ep.rekeyChild(p.b.ep.listSas()[0]!.children[0]!.id, p.sim.now);
    p.sim.runFor(10_000);
    expect(after(p.net).slice(8)).toEqual(['36q0', '36r0', '37q1', '37r1']);
    expectConsistent(p.a, p.b, 1);
  });
});

// ------------------------------------------------------------------------------------------------ 7. INFORMATIONAL

describe('7. INFORMATIONAL (RFC 7296 1.4, 2.4, 3.10.1)', () => {
  it('unknown notify types in a request: status ignored, error logged; the response is empty', () => {
    // HDR, SK {N(40000), N(8000)}  -->  <-- HDR, SK {}
    const p = up();
    const [resp] = inject(p, p.b, seal(ikeSa(p.a), ExchangeType.INFORMATIONAL, 2, false, [notifyP(40000, Uint8Array.of(1)), notifyP(8000)]));
    expect(open(ikeSa(p.a), resp!).payloads).toEqual([]);
    expect(p.b.logs.some((l) => l.includes('received NOTIFY(8000) notify in INFORMATIONAL'))).toBe(true);
    expect(p.b.logs.some((l) => l.includes('NOTIFY(40000) notify'))).toBe(false);
    expect(p.b.ep.listSas()[0]!.sa.state).toBe('ESTABLISHED');
    expect(p.b.ep.listSas()[0]!.children).toHaveLength(1);
  });

  it('an unknown status notify in a CREATE_CHILD_SA response is ignored; an unknown error type fails the request', () => {
    const p = up({ extraChild: true });
    tamper(p, p.b, (h) => h.exchangeType === ExchangeType.CREATE_CHILD_SA, (ps) => [...ps, notifyP(40001)]);
    p.a.ep.createChild(p.a.ep.listSas()[0]!.sa.id, 'voice', p.sim.now);
    p.sim.runFor(10_000);
    expectConsistent(p.a, p.b, 2);
    // <-- HDR, SK {N(8001)}: "MUST assume that the corresponding request has failed entirely"
    answerFor(p, p.a, ExchangeType.CREATE_CHILD_SA, [notifyP(8001)]);
    p.a.ep.rekeyChild(p.a.ep.listSas()[0]!.children[0]!.id, p.sim.now);
    p.sim.runFor(10_000);
    expect(of(p.a, 'child-failed').map((e) => e.notify)).toEqual(['NOTIFY(8001)']);
    expectConsistent(p.a, p.b, 2);
  });

  it('an unknown error type in the IKE_AUTH response fails the IKE SA (3.10.1), and the peer is told', () => {
    // <-- HDR, SK {IDr, AUTH, SAr2, TSi, TSr, N(8002)};  HDR, SK {D(IKE)} --> <-- HDR, SK {}
    const p = setup();
    tamper(p, p.b, (h) => h.exchangeType === ExchangeType.IKE_AUTH, (ps) => [...ps, notifyP(8002)]);
    p.a.ep.initiate('gw', 0);
    p.sim.runFor(30_000);
    expect(wire(p.net)).toEqual(['34q0', '34r0', '35q1', '35r1', '37q2', '37r2']);
    expect(p.a.ep.listSas()).toHaveLength(0);
    expect(p.b.ep.listSas()).toHaveLength(0);
    expect(of(p.a, 'ike-up')).toHaveLength(0);
  });

  it('a liveness check is answered while our own CHILD rekey is outstanding (window 1 per direction)', () => {
    // B: HDR(36, mid 0), SK {N(REKEY_SA), SA, Ni, KEi, TSi, TSr}  -->  (lost)
    // A: HDR(37, mid 2), SK {}  -->  <-- B: HDR(37r, mid 2), SK {}     (B answers with its own request outstanding)
    // B: HDR(36, mid 0) retransmitted --> <-- A: HDR(36r, mid 0);  B: HDR(37, mid 1), SK {D(ESP)} --> <-- ...
    const p = up();
    p.net.dropNth((i) => i.from.address === p.b.address && strip(i.bytes)[18] === ExchangeType.CREATE_CHILD_SA, 1);
    p.b.ep.rekeyChild(p.b.ep.listSas()[0]!.children[0]!.id, p.sim.now);
    p.sim.runFor(100);
    expect(ikeSa(p.b).pending?.messageId).toBe(0);
    p.a.ep.checkLiveness(p.a.ep.listSas()[0]!.sa.id, p.sim.now);
    p.sim.runFor(1000);
    expect(ikeSa(p.a).pending).toBeUndefined();
    expect(ikeSa(p.b).pending?.messageId).toBe(0);
    p.sim.runFor(20_000);
    expect(after(p.net)).toEqual(['37q2', '37r2', '36q0', '36r0', '37q1', '37r1']);
    expect(of(p.a, 'child-remove')).toHaveLength(1);
    expectConsistent(p.a, p.b, 1);
  });
});

// ------------------------------------------------------------------------------------------------ 8. half-open SAs

describe('8. half-open IKE SAs', () => {
  it('a responder SA whose IKE_AUTH never comes is dropped after half_open_timeout and leaves no state', () => {
    const p = setup({ pair: { settings: { halfOpenTimeoutMs: 30_000 } } });
    p.net.dropIf((i) => i.from.address === p.a.address && strip(i.bytes)[18] === ExchangeType.IKE_AUTH);
    p.a.ep.initiate('gw', 0);
    p.sim.runFor(29_000);
    expect(p.b.ep.listSas()).toHaveLength(1);
    expect(p.b.ep.listSas()[0]!.sa.state).toBe('CONNECTING');
    p.sim.runFor(2_000);
    expect(p.b.ep.listSas()).toHaveLength(0);
    expect(of(p.b, 'ike-down')[0]?.reason).toBe('half-open-timeout');
    expect(p.b.ep.nextTimeout()).toBeUndefined();
    // The initiator gives up after its retransmissions (keyingtries = 1) and holds nothing either.
    expect(p.sim.runUntilIdle({ maxTime: 600_000 }).reason).toBe('idle');
    expect(of(p.a, 'ike-down')[0]?.reason).toBe('timeout');
    expect(p.a.ep.listSas()).toHaveLength(0);
    expect(p.a.ep.nextTimeout()).toBeUndefined();
  });

  it('IKE_SA_INIT requests that never continue: no retransmitted responses, every SA freed after the timeout', () => {
    const p = setup({ pair: { settings: { halfOpenTimeoutMs: 30_000 } } });
    const req = initRequest(p);
    const data = encodeInit(req.header, req.payloads);
    let answers = 0;
    for (let i = 0; i < 60; i++) {
      const spoofed = data.slice();
      spoofed[0] = i;
      p.b.ep.receive(spoofed, { address: p.b.address, port: 500 }, { address: `203.0.113.${i}`, port: 500 }, 0);
      for (let t = p.b.ep.pollTransmit(); t; t = p.b.ep.pollTransmit()) answers++;
    }
    expect(answers).toBe(60);
    // cookie_threshold (30): the rest got a COOKIE and left no state (RFC 7296 2.6).
    expect(p.b.ep.listSas()).toHaveLength(30);
    let sent = 0;
    for (let t = 1000; t <= 40_000; t += 1000) {
      p.b.ep.handleTimeout(t);
      for (let x = p.b.ep.pollTransmit(); x; x = p.b.ep.pollTransmit()) sent++;
    }
    expect(sent).toBe(0); // a responder never retransmits (2.1)
    expect(p.b.ep.listSas()).toHaveLength(0);
    expect(p.b.ep.nextTimeout()).toBeUndefined();
  });
});

describe('transport mode (RFC 7296 1.3.1)', () => {
  it('a request for transport mode is answered in tunnel mode: the response carries no USE_TRANSPORT_MODE', () => {
    const p = setup();
    // HDR, SK {IDi, AUTH, N(USE_TRANSPORT_MODE), SAi2, TSi, TSr} -->  (AUTH does not cover the notify, 2.15)
    const t = tamper(p, p.a, (h) => h.exchangeType === ExchangeType.IKE_AUTH && !h.flags.response, (ps) => [...ps, notifyP(NotifyType.USE_TRANSPORT_MODE)]);
    p.a.ep.initiate('gw', 0);
    p.sim.runUntil(() => p.a.events.some((e) => e.type === 'child-install') && p.b.events.some((e) => e.type === 'child-install'), { maxTime: 60_000 });
    expect(t.done).toBe(true);
    //                  <--  HDR, SK {IDr, AUTH, SAr2, TSi, TSr}   (no N(USE_TRANSPORT_MODE): tunnel mode)
    expect(p.a.logs.find((l) => l.includes('received IKE_AUTH response'))).toMatch(/\[ IDr AUTH SA TSi TSr N\(MOBIKE_SUP\) \]/);
    expect(p.b.logs.some((l) => /peer requested transport mode for .*only tunnel mode is supported, answering in tunnel mode/.test(l))).toBe(true);
    const installed = p.b.events.find((e) => e.type === 'child-install');
    expect(installed && installed.type === 'child-install' && installed.child.mode).toBe('tunnel');
  });
});

/**
 * Issue 11: "an initiator that cannot process a response ends the attempt (keyingtries, events, logs) instead of
 * hanging". With keyingtries = 3 on the initiator:
 *   - every IKE_SA_INIT response carries an odd-length SIGNATURE_HASH_ALGORITHMS (RFC 7427 4): the attempt ends at
 *     the first one with an ike-down event (reason invalid-syntax) and a log line naming the cause, and no second
 *     attempt follows. As in strongSwan, keyingtries starts a fresh IKE SA only after a setup timed out (the peer
 *     did answer, and it would answer the same way again); nothing is left CONNECTING.
 *   - every IKE_SA_INIT response is lost: the same connection uses its three tries ("trying again (2/3)", "(3/3)"),
 *     then gives up with one ike-down (timeout) per attempt; nothing is left CONNECTING.
 * Both run in virtual time on the fuzzer's harness (test/fuzz), which also reports any exception escaping either
 * endpoint.
 */
import { describe, expect, it } from 'vitest';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import { decodeHeader } from '../../src/ike/codec/index.js';
import { ExchangeType, NotifyType, PayloadType } from '../../src/ike/codec/types.js';
import type { IkeEvent } from '../../src/ike/events.js';
import { seededRandom } from '../../src/crypto/random.js';
import { Harness, rewriteMessage } from '../fuzz/exchange-fuzzer.js';
import type { Segment } from '../fuzz/mutate.js';

const PSK = pskCredentials([{ ids: ['a.example', 'b.example'], secret: 'initiator errors test psk' }]);
const rng = seededRandom(11);

function pair(): Harness & { findings: string[] } {
  const findings: string[] = [];
  const conn = (me: 'a' | 'b') =>
    connection({
      name: 'gw',
      proposals: 'aes128gcm16-prfsha256-x25519',
      localAddrs: me === 'a' ? ['192.0.2.1'] : ['%any'],
      remoteAddrs: me === 'a' ? ['192.0.2.2'] : ['%any'],
      keyingTries: 3,
      local: { id: `${me}.example` },
      remote: { id: me === 'a' ? 'b.example' : 'a.example' },
      children: [child('c', { localTs: [me === 'a' ? '10.1.0.0/16' : '10.2.0.0/16'], remoteTs: [me === 'a' ? '10.2.0.0/16' : '10.1.0.0/16'] })],
    });
  const h = new Harness({ finding: (kind, what) => findings.push(`[${kind}] ${what}`) }, { a: { conns: [conn('a')], creds: PSK }, b: { conns: [conn('b')], creds: PSK } }, 3);
  h.record = true;
  return Object.assign(h, { findings });
}

const isInitResponse = (d: Uint8Array): boolean => {
  const hd = decodeHeader(d);
  return hd.ok && hd.value.exchangeType === ExchangeType.IKE_SA_INIT && hd.value.flags.response;
};
const isInitRequest = (d: Uint8Array): boolean => {
  const hd = decodeHeader(d);
  return hd.ok && hd.value.exchangeType === ExchangeType.IKE_SA_INIT && !hd.value.flags.response;
};
const oddHashes = (segs: Segment[]): Segment[] =>
  segs.map((s) =>
    s.type === PayloadType.NOTIFY && ((s.body[2]! << 8) | s.body[3]!) === NotifyType.SIGNATURE_HASH_ALGORITHMS
      ? { ...s, body: Uint8Array.of(0, 0, NotifyType.SIGNATURE_HASH_ALGORITHMS >> 8, NotifyType.SIGNATURE_HASH_ALGORITHMS & 0xff, 0, 2, 0) }
      : s,
  );
const of = <T extends IkeEvent['type']>(es: IkeEvent[], t: T) => es.filter((e): e is Extract<IkeEvent, { type: T }> => e.type === t);
const logs = (es: IkeEvent[]): string[] => of(es, 'log').map((e) => e.message);

/** Runs A's initiation with `edit` applied to every IKE_SA_INIT response; counts A's distinct IKE_SA_INIT requests. */
function run(edit: (h: Harness, datagrams: Uint8Array[]) => Uint8Array[]) {
  const h = pair();
  const spis = new Set<string>();
  h.intercept = (from, datagrams) => {
    if (from === 'A' && isInitRequest(datagrams[0]!)) spis.add(Buffer.from(datagrams[0]!.subarray(0, 8)).toString('hex'));
    return from === 'B' && isInitResponse(datagrams[0]!) ? edit(h, datagrams) : datagrams;
  };
  h.a.initiate('gw', 0);
  h.pump();
  // Let virtual time run well past three retransmission sequences (the intercept stays in place).
  for (let i = 0; i < 60; i++) h.advance(10_000);
  return { h, attempts: spis.size };
}

describe('an initiator that cannot use a response ends the attempt (keyingtries = 3)', () => {
  it('a malformed IKE_SA_INIT response: one attempt, ended with ike-down and a log naming the cause, no retry', () => {
    const { h, attempts } = run((hh, d) => rewriteMessage(hh, 'B', d, oddHashes, rng));
    expect(h.findings).toEqual([]);
    expect(attempts).toBe(1);
    const down = of(h.events.A, 'ike-down');
    expect(down).toHaveLength(1);
    expect(down[0]!.reason).toBe('invalid-syntax');
    expect(down[0]!.message).toMatch(/invalid IKE_SA_INIT response from 192\.0\.2\.2\[500\]: SIGNATURE_HASH_ALGORITHMS data has odd length 3/);
    expect(logs(h.events.A).some((l) => l.includes('SIGNATURE_HASH_ALGORITHMS data has odd length 3'))).toBe(true);
    expect(logs(h.events.A).some((l) => /trying again/.test(l))).toBe(false);
    expect(of(h.events.A, 'ike-up')).toHaveLength(0);
    expect(h.a.listSas()).toHaveLength(0);
    expect(h.transitional()).toBeUndefined();
  });

  it('no IKE_SA_INIT response at all: three attempts (keyingtries), each ended by its timeout, then nothing left', () => {
    const { h, attempts } = run(() => []);
    expect(h.findings).toEqual([]);
    expect(attempts).toBe(3);
    const tries = logs(h.events.A).filter((l) => /trying again/.test(l));
    expect(tries.map((l) => /\((\d\/\d)\)/.exec(l)?.[1])).toEqual(['2/3', '3/3']);
    expect(of(h.events.A, 'ike-down').map((e) => e.reason)).toEqual(['timeout', 'timeout', 'timeout']);
    expect(h.a.listSas()).toHaveLength(0);
    expect(h.transitional()).toBeUndefined();
  });
});

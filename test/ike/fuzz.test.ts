/**
 * 100k mutated IKE messages against a responder and into an established IKE SA: every one ends as a typed
 * error, a silent drop or an error notify; no exception escapes the endpoint and its state stays bounded.
 */
import { describe, expect, it } from 'vitest';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import { makePair, type Side } from './pair.js';
import { seededRandom, randomBytes } from '../../src/crypto/random.js';
import { sealMessage } from '../../src/ike/codec/index.js';
import { ExchangeType, PayloadType } from '../../src/ike/codec/types.js';

const psk = pskCredentials([{ ids: ['a.example', 'b.example'], secret: 'fuzz' }]);

function pair() {
  const mk = (l: string, r: string, addr?: string) =>
    connection({ name: 'gw', proposals: 'aes128gcm16-prfsha256-x25519,aes256-sha256-modp2048', remoteAddrs: addr ? [addr] : ['%any'], local: { id: l }, remote: { id: r }, children: [child('c', { localTs: ['10.0.0.0/8'], remoteTs: ['10.0.0.0/8'], espProposals: 'aes128gcm16' })] });
  return makePair({ connections: [mk('a.example', 'b.example', '192.0.2.2')], credentials: psk }, { connections: [mk('b.example', 'a.example')], credentials: psk });
}

function drain(s: Side): number {
  let n = 0;
  while (s.ep.pollTransmit()) n++;
  while (s.ep.pollEvent());
  return n;
}

function mutate(rnd: () => number, src: Uint8Array): Uint8Array {
  const b = src.slice();
  switch (Math.floor(rnd() * 6)) {
    case 0: // bit flips
      for (let i = 0, n = 1 + Math.floor(rnd() * 4); i < n; i++) b[Math.floor(rnd() * b.length)]! ^= 1 << Math.floor(rnd() * 8);
      return b;
    case 1: // truncation
      return b.subarray(0, Math.floor(rnd() * b.length));
    case 2: { // length field edits (message length, or a payload length after the header)
      const off = rnd() < 0.5 ? 24 : 28 + 2 + Math.floor(rnd() * Math.max(1, b.length - 32));
      if (off + 1 < b.length) {
        b[off] = Math.floor(rnd() * 256);
        b[off + 1] = Math.floor(rnd() * 256);
      }
      return b;
    }
    case 3: { // random tail after the header
      for (let i = 28; i < b.length; i++) if (rnd() < 0.3) b[i] = Math.floor(rnd() * 256);
      return b;
    }
    case 4: { // splice a chunk of itself somewhere else
      const from = Math.floor(rnd() * b.length);
      const len = Math.floor(rnd() * 64);
      const to = Math.floor(rnd() * b.length);
      const out = new Uint8Array(b.length + len);
      out.set(b.subarray(0, to));
      out.set(b.subarray(from, from + len), to);
      out.set(b.subarray(to), to + Math.min(len, b.length - from));
      return out.subarray(0, b.length + Math.min(len, b.length - from));
    }
    default: // next-payload / critical-bit / exchange-type / flags edits
      b[16 + Math.floor(rnd() * 4)] = Math.floor(rnd() * 256);
      if (b.length > 29) b[28 + Math.floor(rnd() * 2)] = Math.floor(rnd() * 256);
      return b;
  }
}

describe('mutation fuzz of IKE messages', () => {
  it('100k mutated messages yield only typed errors or drops', () => {
    const { sim, net, a, b } = pair();
    a.ep.initiate('gw', 0);
    expect(sim.runUntil(() => b.ep.listSas()[0]?.sa.state === 'ESTABLISHED' && a.ep.listSas()[0]?.sa.state === 'ESTABLISHED', { maxTime: 60_000 }).ok).toBe(true);
    // Corpus: every IKE message that crossed the wire (IKE_SA_INIT and IKE_AUTH, both directions).
    const corpus = net.captured({ event: 'send' }).map((c) => (c.bytes[0] === 0 && c.bytes[1] === 0 && c.bytes[2] === 0 && c.bytes[3] === 0 ? c.bytes.subarray(4) : c.bytes));
    const saA = a.ep.ikeSa(a.ep.listSas()[0]!.sa.id)!;
    const saB = b.ep.ikeSa(b.ep.listSas()[0]!.sa.id)!;
    drain(a);
    drain(b);
    const r = seededRandom(42);
    const buf = new Uint8Array(4);
    const rnd = (): number => (r.fill(buf), ((buf[0]! << 24) | (buf[1]! << 16) | (buf[2]! << 8) | buf[3]!) >>> 0) / 2 ** 32;
    const local = { address: '192.0.2.2', port: 4500 };
    const remote = { address: '192.0.2.1', port: 4500 };
    const heapBefore = process.memoryUsage().heapUsed;
    let sealed = 0;
    let answered = 0;
    const N = 100_000;
    for (let i = 0; i < N; i++) {
      let msg: Uint8Array;
      if (i % 4 === 3) {
        // Authentic SK messages with garbage inside: integrity passes, so the inner decoder and the payload rules
        // are what must hold. Message IDs walk forward so some land in the window.
        const inner = randomBytes(r, Math.floor(rnd() * 200));
        const first = [PayloadType.NOTIFY, PayloadType.DELETE, PayloadType.SA, PayloadType.TSi, 0, 99, 200][Math.floor(rnd() * 7)]!;
        msg = sealMessage({ spiI: saA.spiI, spiR: saA.spiR, exchangeType: rnd() < 0.7 ? ExchangeType.INFORMATIONAL : ExchangeType.CREATE_CHILD_SA, flags: { initiator: true, response: rnd() < 0.2, version: false }, messageId: saB.expectedRequestId }, first, inner, saA.keys!.out, r);
        sealed++;
      } else {
        msg = mutate(rnd, corpus[Math.floor(rnd() * corpus.length)]!);
      }
      const to = rnd() < 0.5 ? local : { address: '192.0.2.2', port: 500 };
      b.ep.receive(msg, to, remote, sim.now + i);
      if (i % 7 === 0) b.ep.handleTimeout(sim.now + i);
      const sent = drain(b);
      if (i % 4 === 3) answered += sent;
    }
    const heapAfter = process.memoryUsage().heapUsed;
    expect(sealed).toBe(N / 4);
    // Most authentic garbage requests are answered (INVALID_SYNTAX, UNSUPPORTED_CRITICAL_PAYLOAD, or a real
    // response), which proves they went through decryption into the payload decoder and the rules.
    expect(answered).toBeGreaterThan(sealed / 2);
    // State stays bounded: the established SA plus at most the half-open SAs the cookie threshold allows.
    expect(b.ep.listSas().length).toBeLessThanOrEqual(1 + 31);
    expect(heapAfter - heapBefore).toBeLessThan(128 * 1024 * 1024);
    console.log(`ike fuzz: ${N} mutated messages (${sealed} authentic with garbage payloads, ${answered} answered), SAs left on responder: ${b.ep.listSas().length}, heap delta ${((heapAfter - heapBefore) / 1e6).toFixed(1)} MB`);
  }, 120_000);
});

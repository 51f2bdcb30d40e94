/**
 * A pair of endpoints with one IKE SA and one CHILD SA up, for the per-task tests in src/ike/tasks: each test
 * queues a task on one side (the initiator role of the task) and watches the other side answer (its responder
 * role), in both directions (the IKE SA's original initiator is not always the one who starts an exchange).
 */
import { expect } from 'vitest';
import { ExchangeType, type Payload } from '../../src/ike/codec/types.js';
import { decodeMessage } from '../../src/ike/codec/index.js';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import type { IkeEvent } from '../../src/ike/events.js';
import type { IkeSa } from '../../src/ike/ike-sa.js';
import { makePair, type PairOptions, type Side } from './pair.js';

export const psk = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'v+NkxY9LLZvwj4qCC2o/gGrWDF2d21jL' }]);

export function gw(side: 'a' | 'b', o: { esp?: string; proposals?: string; children?: number } = {}) {
  const a = side === 'a';
  const n = o.children ?? 1;
  return connection({
    name: 'gw',
    proposals: o.proposals ?? 'aes128gcm16-prfsha256-x25519',
    remoteAddrs: a ? ['192.0.2.2'] : ['%any'],
    local: { id: a ? 'moon.example' : 'sun.example' },
    remote: { id: a ? 'sun.example' : 'moon.example' },
    children: Array.from({ length: n }, (_, i) =>
      child(i === 0 ? 'net' : `net${i}`, { localTs: [a ? `10.1.${i}.0/24` : `10.2.${i}.0/24`], remoteTs: [a ? `10.2.${i}.0/24` : `10.1.${i}.0/24`], espProposals: o.esp ?? 'aes128gcm16' }),
    ),
  });
}

export const of = <T extends IkeEvent['type']>(s: Side, t: T) => s.events.filter((e): e is Extract<IkeEvent, { type: T }> => e.type === t);

export interface UpPair extends ReturnType<typeof makePair> {
  /** The IKE SA objects on each side (A initiated it). */
  readonly saA: IkeSa;
  readonly saB: IkeSa;
  /** IKE messages each side sent since `mark()`, as "EXCHANGE q|r [payload types]". */
  sent(side: 'a' | 'b'): string[];
  mark(): void;
  run(until: () => boolean, maxTime?: number): void;
}

export function upPair(o: { esp?: string; proposals?: string; children?: number; pair?: PairOptions } = {}): UpPair {
  const p = makePair({ connections: [gw('a', o)], credentials: psk }, { connections: [gw('b', o)], credentials: psk }, o.pair ?? {});
  p.a.ep.initiate('gw', 0);
  expect(p.sim.runUntil(() => of(p.a, 'child-install').length > 0 && of(p.b, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
  const idA = p.a.ep.listSas()[0]?.sa.id;
  const idB = p.b.ep.listSas()[0]?.sa.id;
  const saA = idA === undefined ? undefined : p.a.ep.ikeSa(idA);
  const saB = idB === undefined ? undefined : p.b.ep.ikeSa(idB);
  if (!saA || !saB) throw new Error('pair did not come up');
  let from = 0;
  const sent = (side: 'a' | 'b'): string[] => {
    const addr = side === 'a' ? p.a.address : p.b.address;
    const out: string[] = [];
    for (const c of p.net.captured({ event: 'send' }).slice(from)) {
      if (c.from.address !== addr) continue;
      let bytes = c.bytes;
      if (bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0 && bytes[3] === 0) bytes = bytes.subarray(4);
      const m = decodeMessage(bytes);
      if (!m.ok) continue;
      const h = m.value.header;
      out.push(`${EXCHANGE_NAMES[h.exchangeType] ?? h.exchangeType} ${h.flags.response ? 'r' : 'q'}`);
    }
    return out;
  };
  return {
    ...p,
    saA,
    saB,
    sent,
    mark: () => {
      from = p.net.captured({ event: 'send' }).length;
    },
    run: (until, maxTime = 60_000) => {
      expect(p.sim.runUntil(until, { maxTime: p.sim.now + maxTime }).ok).toBe(true);
    },
  };
}

const EXCHANGE_NAMES: Record<number, string> = {
  [ExchangeType.IKE_SA_INIT]: 'IKE_SA_INIT',
  [ExchangeType.IKE_AUTH]: 'IKE_AUTH',
  [ExchangeType.CREATE_CHILD_SA]: 'CREATE_CHILD_SA',
  [ExchangeType.INFORMATIONAL]: 'INFORMATIONAL',
};

/** The payload type numbers of a built request, for asserting what a task puts in it. */
export const types = (p: readonly Payload[] | undefined): Payload['type'][] => (p ?? []).map((x) => x.type);

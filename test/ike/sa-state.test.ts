/**
 * The IKE SA state table (src/ike/sa-state.ts): every allowed transition applies silently, a sample of the
 * disallowed ones is reported, and the endpoint throws under test but logs and counts in production.
 */
import { describe, expect, it } from 'vitest';
import { IKE_SA_STATES, IKE_SA_TRANSITIONS, IllegalTransitionError, STRICT_TRANSITIONS_DEFAULT, isAllowedTransition, transition, transitionRfc, type IkeSaState, type TransitionSink } from '../../src/ike/sa-state.js';
import { IkeSa } from '../../src/ike/ike-sa.js';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import { makePair } from './pair.js';

const addr = { address: '192.0.2.1', port: 500 };
const recording = (): TransitionSink & { seen: IllegalTransitionError[] } => {
  const seen: IllegalTransitionError[] = [];
  return { seen, illegalTransition: (e) => void seen.push(e) };
};

/** A path of allowed transitions from CREATED to `target` (breadth first), so each case starts from a real history. */
function pathTo(target: IkeSaState): IkeSaState[] {
  const prev = new Map<IkeSaState, IkeSaState | undefined>([['CREATED', undefined]]);
  const todo: IkeSaState[] = ['CREATED'];
  while (todo.length > 0) {
    const s = todo.shift() as IkeSaState;
    for (const t of IKE_SA_TRANSITIONS) if (t.from === s && !prev.has(t.to)) { prev.set(t.to, s); todo.push(t.to); }
  }
  if (!prev.has(target)) throw new Error(`${target} unreachable`);
  const path: IkeSaState[] = [];
  for (let s: IkeSaState | undefined = target; s !== undefined && s !== 'CREATED'; s = prev.get(s)) path.unshift(s);
  return path;
}

function saIn(state: IkeSaState, sink: TransitionSink): IkeSa {
  const sa = new IkeSa(7, true, new Uint8Array(8), addr, addr);
  for (const s of pathTo(state)) transition(sink, sa, s, 'setup');
  expect(sa.state).toBe(state);
  return sa;
}

describe('IKE SA state table', () => {
  it('lists each transition once, each with an RFC 7296 section, and only known states', () => {
    const keys = IKE_SA_TRANSITIONS.map((t) => `${t.from}>${t.to}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const t of IKE_SA_TRANSITIONS) {
      expect(t.rfc).toMatch(/^RFC 7296 \d+(\.\d+)*$/);
      expect(IKE_SA_STATES).toContain(t.from);
      expect(IKE_SA_STATES).toContain(t.to);
      expect(t.from).not.toBe(t.to);
    }
  });

  it('reaches every state from CREATED, every state but DESTROYING leads to DESTROYING, DESTROYING is terminal', () => {
    for (const s of IKE_SA_STATES) expect(pathTo(s).at(-1) ?? 'CREATED').toBe(s);
    for (const s of IKE_SA_STATES) if (s !== 'DESTROYING') expect(isAllowedTransition(s, 'DESTROYING'), s).toBe(true);
    expect(IKE_SA_TRANSITIONS.filter((t) => t.from === 'DESTROYING')).toEqual([]);
  });

  it.each(IKE_SA_TRANSITIONS.map((t) => [t.from, t.to, t.rfc] as const))('allows %s -> %s (%s)', (from, to, rfc) => {
    const sink = recording();
    const sa = saIn(from, sink);
    transition(sink, sa, to, 'test');
    expect(sa.state).toBe(to);
    expect(sink.seen).toEqual([]);
    expect(transitionRfc(from, to)).toBe(rfc);
  });

  const disallowed: [IkeSaState, IkeSaState][] = [
    ['CREATED', 'REKEYING'], ['CREATED', 'REKEYED'], ['CREATED', 'DELETING'], ['CONNECTING', 'REKEYING'],
    ['CONNECTING', 'REKEYED'], ['CONNECTING', 'CREATED'], ['ESTABLISHED', 'CONNECTING'], ['ESTABLISHED', 'CREATED'],
    ['REKEYED', 'ESTABLISHED'], ['REKEYED', 'REKEYING'], ['DELETING', 'ESTABLISHED'], ['DELETING', 'REKEYING'],
    ['DESTROYING', 'ESTABLISHED'], ['DESTROYING', 'DELETING'], ['DESTROYING', 'DESTROYING'], ['ESTABLISHED', 'ESTABLISHED'],
  ];
  it.each(disallowed)('reports %s -> %s', (from, to) => {
    expect(isAllowedTransition(from, to)).toBe(false);
    const sink = recording();
    const sa = saIn(from, sink);
    transition(sink, sa, to, 'sample');
    expect(sink.seen).toHaveLength(1);
    const e = sink.seen[0] as IllegalTransitionError;
    expect(e).toBeInstanceOf(IllegalTransitionError);
    expect([e.saId, e.from, e.to, e.why]).toEqual([7, from, to, 'sample']);
    expect(e.message).toBe(`IKE_SA [7]: transition ${from} -> ${to} is not in the state table (sample)`);
  });
});

describe('IkeEndpoint and illegal transitions', () => {
  const psk = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'state' }]);
  const conn = (local: string, remote: string, to: string[]) =>
    connection({ name: 'gw', proposals: 'aes128gcm16-prfsha256-x25519', remoteAddrs: to, local: { id: local }, remote: { id: remote }, children: [child('net', { localTs: ['10.1.0.0/16'], remoteTs: ['10.2.0.0/16'] })] });
  const up = (strictTransitions: boolean) => {
    const p = makePair({ connections: [conn('moon.example', 'sun.example', ['192.0.2.2'])], credentials: psk }, { connections: [conn('sun.example', 'moon.example', ['%any'])], credentials: psk }, { settings: { strictTransitions } });
    const id = p.a.ep.initiate('gw', 0);
    expect(p.sim.runUntil(() => p.a.ep.listSas()[0]?.sa.state === 'ESTABLISHED', { maxTime: 10_000 }).ok).toBe(true);
    return { ...p, sa: p.a.ep.ikeSa(id) as IkeSa };
  };

  it('runs strict under the test runner', () => {
    expect(STRICT_TRANSITIONS_DEFAULT).toBe(true);
  });

  it('strict: throws IllegalTransitionError and leaves the state as it was', () => {
    const { a, sa } = up(true);
    expect(() => transition(a.ep, sa, 'CONNECTING', 'test')).toThrow(IllegalTransitionError);
    expect(sa.state).toBe('ESTABLISHED');
    expect(a.ep.internalErrors).toBe(0);
  });

  it('production: logs at level 1, counts in internalErrors, applies the change, does not throw', () => {
    const { a, sa } = up(false);
    expect(a.ep.internalErrors).toBe(0);
    transition(a.ep, sa, 'CONNECTING', 'test');
    expect(sa.state).toBe('CONNECTING');
    expect(a.ep.internalErrors).toBe(1);
    const logs: string[] = [];
    for (let e = a.ep.pollEvent(); e; e = a.ep.pollEvent()) if (e.type === 'log' && e.level === 1) logs.push(e.message);
    expect(logs.some((m) => m.includes(`internal error: IKE_SA [${sa.id}]: transition ESTABLISHED -> CONNECTING is not in the state table (test)`))).toBe(true);
  });
});

import { expect } from 'vitest';
/** Two IKE endpoints on a simulated network, pumped in virtual time (DESIGN.md section 5). */
import { IkeEndpoint } from '../../src/ike/endpoint.js';
import type { IkeConnectionConfig, Credentials, EndpointSettings } from '../../src/ike/config.js';
import type { IkeEvent } from '../../src/ike/events.js';
import { seededRandom } from '../../src/crypto/random.js';
import { createProvider } from '../../src/crypto/provider.js';
import { hostIkeNode, SimNetwork, Simulation, type Impairment } from '../../src/sim/index.js';
import { decodeMessage } from '../../src/ike/codec/index.js';
import type { AddressPoolConfig } from '../../src/ike/pool.js';
import type { EapProvider } from '../../src/ike/eap-provider.js';

export interface Side {
  readonly name: string;
  readonly ep: IkeEndpoint;
  readonly address: string;
  readonly events: IkeEvent[];
  readonly logs: string[];
}

export interface PairOptions {
  seed?: number;
  impairment?: Partial<Impairment>;
  settings?: Partial<EndpointSettings>;
  /** Print log lines as they happen (debugging). */
  verbose?: boolean;
  /** Called for every non-log event as it is drained (e.g. to drive an ESP engine). */
  onEvent?: (side: Side, e: IkeEvent, now: number) => void;
}

export const crypto = createProvider();

export interface SideConfig {
  connections: IkeConnectionConfig[];
  credentials: Credentials;
  address?: string;
  pools?: AddressPoolConfig[];
  /** EAP sessions (RFC 7296 2.16); tests with EAP run the simulation with runAsync(). */
  eap?: EapProvider;
}

export function makePair(
  a: SideConfig,
  b: SideConfig,
  o: PairOptions = {},
): { sim: Simulation; net: SimNetwork; a: Side; b: Side } {
  const seed = o.seed ?? 1;
  const net = new SimNetwork({ random: seededRandom(seed * 7919), impairment: o.impairment ?? {} });
  const sim = new Simulation({ network: net });
  const mk = (name: string, cfg: typeof a, address: string, rseed: number): Side => {
    const ep = new IkeEndpoint({ connections: cfg.connections, credentials: cfg.credentials, crypto, random: seededRandom(rseed), settings: o.settings ?? {}, pools: cfg.pools ?? [], ...(cfg.eap ? { eap: cfg.eap } : {}) });
    const side: Side = { name, ep, address, events: [], logs: [] };
    hostIkeNode(sim, net, ep, address, {
      onEvent: (e, now) => {
        if (e.type === 'log') {
          side.logs.push(e.message);
          if (o.verbose) console.log(`${name} ${now}ms ${e.group} ${e.level}: ${e.message}`);
        } else {
          side.events.push(e);
          o.onEvent?.(side, e, now);
        }
      },
    });
    return side;
  };
  return { sim, net, a: mk('A', a, a.address ?? '192.0.2.1', seed * 31 + 1), b: mk('B', b, b.address ?? '192.0.2.2', seed * 31 + 2) };
}

/**
 * Runs the simulation until `until` holds, letting asynchronous work (EAP sessions) settle between steps: the
 * endpoint's nextTimeout() asks for a call once a deferred step is ready. False when `maxTime` passes first.
 */
export async function runAsync(sim: Simulation, until: () => boolean, maxTime = 60_000): Promise<boolean> {
  const end = sim.now + maxTime;
  const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
  for (const ep of sim.endpoints) ep.flush?.(sim.now);
  // Virtual time must not run ahead of work that completes in real time (EAP steps are promises): before the clock
  // jumps to the next deadline, pending microtasks and immediates run, and whatever became due runs at this instant.
  for (let i = 0; i < 1_000_000; i++) {
    if (until()) return true;
    if (sim.step()) continue;
    await settle();
    if (sim.step()) continue;
    const next = sim.nextEventTime();
    if (next === undefined || next > end) return until();
    if (next > sim.now) sim.clock.advanceTo(next);
  }
  return until();
}

/** Exchange types and payload summaries of captured IKE messages, for asserting what went over the wire. */
export function captureSummary(net: SimNetwork): string[] {
  const out: string[] = [];
  for (const c of net.captured({ event: 'send' })) {
    let bytes = c.bytes;
    if (bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0 && bytes[3] === 0) bytes = bytes.subarray(4);
    const m = decodeMessage(bytes);
    if (!m.ok) continue;
    const h = m.value.header;
    out.push(`${h.exchangeType}${h.flags.response ? 'r' : 'q'}${h.messageId}`);
  }
  return out;
}

/** Both sides hold `ike` established IKE SAs with matching SPIs and `children` paired CHILD SAs. */
export function expectConsistent(a: Side, b: Side, children: number, ike = 1): void {
  const la = a.ep.listSas();
  const lb = b.ep.listSas();
  expect(la).toHaveLength(ike);
  expect(lb).toHaveLength(ike);
  for (const x of la) {
    const y = lb.find((s) => Buffer.compare(s.sa.spiI, x.sa.spiI) === 0 && Buffer.compare(s.sa.spiR, x.sa.spiR) === 0);
    expect(y, 'IKE SA with matching SPIs on the peer').toBeTruthy();
    expect(x.sa.state).toBe('ESTABLISHED');
    expect(y!.sa.state).toBe('ESTABLISHED');
    expect(x.children).toHaveLength(children);
    expect(y!.children).toHaveLength(children);
    for (const c of x.children) expect(y!.children.some((d) => d.spiIn === c.spiOut && d.spiOut === c.spiIn)).toBe(true);
  }
}

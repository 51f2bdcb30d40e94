/**
 * ESP drops through the gateway core (issue 15): a full TUN queue is counted as `tun-full` on the SA the packets
 * came in on and reported once at esp 1; per-SA drop counters reach childExtras (list-sas, status file); the
 * child's espPaddingCheck (esp_padding_check) reaches the inbound ESP SA.
 */
import { describe, expect, it } from 'vitest';
import { DropReason } from '../esp/constants.js';
import { child, connection, pskCredentials } from '../ike/config-builder.js';
import type { ChildConfig } from '../ike/config.js';
import { gatewayPair, udpPacket, type SimGateway } from './testing.js';

const credentials = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'gateway core' }]);

function pair(sunPaddingCheck?: boolean) {
  const mk = (me: string, peer: string, lts: string, rts: string, remote: string, extra: Partial<ChildConfig>) =>
    connection({
      name: 'gw', proposals: 'aes128gcm16-prfsha256-x25519', localAddrs: [me === 'moon.example' ? '192.0.2.1' : '192.0.2.2'], remoteAddrs: [remote],
      local: { id: me }, remote: { id: peer },
      children: [{ ...child('net', { localTs: [lts], remoteTs: [rts], espProposals: 'aes128gcm16' }), ...extra }],
    });
  const ref = [{ conn: 'gw', child: 'net' }];
  return gatewayPair(
    { address: '192.0.2.1', connections: [mk('moon.example', 'sun.example', '10.1.0.0/16', '10.2.0.0/16', '192.0.2.2', {})], startChildren: ref },
    { address: '192.0.2.2', connections: [mk('sun.example', 'moon.example', '10.2.0.0/16', '10.1.0.0/16', '%any', sunPaddingCheck === undefined ? {} : { espPaddingCheck: sunPaddingCheck })] },
    { credentials },
  );
}

const childOf = (s: SimGateway) => s.gateway.endpoint.listSas()[0]?.children[0];
const up = (s: SimGateway) => childOf(s) !== undefined && s.gateway.endpoint.listSas()[0]!.sa.state === 'ESTABLISHED';

/** The TUN port the core writes to, so a test can make it refuse packets as a full queue does. */
function tunOf(s: SimGateway): { writeBatch(p: readonly Uint8Array[]): number } {
  return (s.gateway as unknown as { opts: { tun: { writeBatch(p: readonly Uint8Array[]): number } } }).opts.tun;
}

describe('gateway: ESP drops are counted per SA and reported', () => {
  it('a full TUN queue: tun-full on the inbound SA, in the totals, in childExtras, reported once at esp 1', () => {
    const { sim, a, b } = pair();
    a.gateway.start(sim.now);
    b.gateway.start(sim.now);
    expect(sim.runUntil(() => up(a) && up(b), { maxTime: 10_000 }).ok).toBe(true);
    a.host.inject(udpPacket('10.1.0.5', '10.2.0.7', 1));
    sim.runFor(10);
    expect(b.delivered).toHaveLength(1);
    const tun = tunOf(b);
    const write = tun.writeBatch.bind(tun);
    // Accept the first packet of each batch only.
    tun.writeBatch = (p) => write(p.slice(0, 1));
    a.host.inject([2, 3, 4].map((i) => udpPacket('10.1.0.5', '10.2.0.7', i)));
    sim.runFor(10);
    a.host.inject(udpPacket('10.1.0.5', '10.2.0.7', 5));
    a.host.inject([6, 7].map((i) => udpPacket('10.1.0.5', '10.2.0.7', i)));
    sim.runFor(10);
    const c = childOf(b)!;
    const sa = b.gateway.engine.getSa(c.spiIn, 'in')!;
    const lost = sa.packets - b.delivered.length;
    expect(lost).toBeGreaterThan(0);
    expect(sa.drops[DropReason.TunFull]).toBe(lost);
    expect(b.gateway.engine.drops[DropReason.TunFull]).toBe(lost);
    expect(b.gateway.childExtras(c).dropsIn).toEqual({ 'tun-full': lost });
    expect(b.gateway.childExtras(c).dropsOut).toEqual({});
    expect(b.gateway.allCounters()['drop-tun-full']).toBe(lost);
    const reports = b.logs.filter((l) => l.includes('(tun-full)'));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/^esp1 ESP SA [0-9a-f]{8} \(inbound, reqid \d+\): dropping packets \(tun-full\): .*txqueuelen/);
  });

  it('esp_padding_check = no reaches the inbound SA; the default checks', () => {
    for (const [check, want] of [[undefined, true], [false, false], [true, true]] as const) {
      const { sim, a, b } = pair(check);
      a.gateway.start(sim.now);
      b.gateway.start(sim.now);
      expect(sim.runUntil(() => up(a) && up(b), { maxTime: 10_000 }).ok).toBe(true);
      expect(b.gateway.engine.getSa(childOf(b)!.spiIn, 'in')!.paddingCheck).toBe(want);
      // The other side's config did not say: it checks.
      expect(a.gateway.engine.getSa(childOf(a)!.spiIn, 'in')!.paddingCheck).toBe(true);
    }
  });
});

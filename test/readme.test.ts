/**
 * The README's library example, run against the package's public entry point (src/index.ts): the names it uses
 * exist and two endpoints built that way bring a tunnel up when their outputs are pumped into each other.
 */
import { describe, expect, it } from 'vitest';
import { IkeEndpoint, connection, child, pskCredentials, createProvider, systemRandom, type IkeEvent, type Transmit } from '../src/index.js';

describe('README library example', () => {
  it('two endpoints built from the public API establish IKE and CHILD SAs', () => {
    const crypto = createProvider();
    const mk = (local: string, remote: string, addr: string | undefined, lts: string, rts: string) =>
      new IkeEndpoint({
        connections: [connection({ name: 'gw', remoteAddrs: addr ? [addr] : ['%any'], local: { id: local }, remote: { id: remote }, children: [child('net', { localTs: [lts], remoteTs: [rts] })] })],
        credentials: pskCredentials([{ ids: ['hq', 'branch'], secret: 'readme' }]),
        crypto,
        random: systemRandom,
      });
    const hq = mk('hq', 'branch', '203.0.113.2', '10.1.0.0/16', '10.2.0.0/16');
    const branch = mk('branch', 'hq', undefined, '10.2.0.0/16', '10.1.0.0/16');
    const addr = new Map<IkeEndpoint, string>([[hq, '203.0.113.1'], [branch, '203.0.113.2']]);
    const events = new Map<IkeEndpoint, IkeEvent[]>([[hq, []], [branch, []]]);
    let now = 0;
    hq.initiate('gw', now);
    // The driver loop of the README: drain transmits into the peer, drain events, advance to the next deadline.
    for (let step = 0; step < 50; step++) {
      for (const [from, to] of [[hq, branch], [branch, hq]] as const)
        for (let t: Transmit | undefined = from.pollTransmit(); t; t = from.pollTransmit()) to.receive(t.data, { address: addr.get(to)!, port: t.remote.port }, { address: addr.get(from)!, port: t.local.port }, now);
      for (const ep of [hq, branch]) for (let e = ep.pollEvent(); e; e = ep.pollEvent()) events.get(ep)!.push(e);
      if ([hq, branch].every((ep) => events.get(ep)!.some((e) => e.type === 'child-install'))) break;
      now += 10;
    }
    for (const ep of [hq, branch]) {
      expect(events.get(ep)!.some((e) => e.type === 'ike-up')).toBe(true);
      expect(events.get(ep)!.some((e) => e.type === 'child-install')).toBe(true);
    }
  });
});

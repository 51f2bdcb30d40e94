/** restart.ts: an IKE SA cygnet starts again on its own asks the driver where the peer is now (DNS names). */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random.js';
import { createProvider } from '../crypto/provider.js';
import { child, connection, pskCredentials } from './config-builder.js';
import { IkeEndpoint } from './endpoint.js';

describe('restart: keyingtries re-resolve the peer', () => {
  it('the second attempt goes where resolveRemote says, with the previous address passed in', () => {
    const seen: string[] = [];
    const conn = { ...connection({ name: 'gw', remoteAddrs: ['192.0.2.2'], children: [child('net')] }), keyingTries: 2 };
    const ep = new IkeEndpoint({
      connections: [conn],
      credentials: pskCredentials([{ ids: [], secret: 'x' }]),
      crypto: createProvider(),
      random: seededRandom(5),
      settings: { retransmit: { tries: 1, timeoutMs: 1000, base: 1.8, jitterPercent: 0, limitMs: 0 } },
      resolveRemote: (c, previous) => {
        seen.push(`${c.name} ${previous.address}`);
        return { address: '192.0.2.99', port: previous.port };
      },
    });
    ep.initiate('gw', 0);
    const sent: string[] = [];
    for (let t = ep.pollTransmit(); t; t = ep.pollTransmit()) sent.push(t.remote.address);
    for (let i = 0; i < 20 && sent.filter((a) => a === '192.0.2.99').length === 0; i++) {
      const at = ep.nextTimeout();
      if (at === undefined) break;
      ep.handleTimeout(at);
      for (let t = ep.pollTransmit(); t; t = ep.pollTransmit()) sent.push(t.remote.address);
    }
    expect(sent[0]).toBe('192.0.2.2');
    expect(sent).toContain('192.0.2.99');
    expect(seen).toEqual(['gw 192.0.2.2']);
  });

  it('a fresh resolution under way (PendingRemote): the attempt that asked waits for it and goes to the new address', async () => {
    const conn = { ...connection({ name: 'gw', remoteAddrs: ['192.0.2.2'], children: [child('net')] }), keyingTries: 3 };
    let answer: (a: { address: string; port: number }) => void = () => {};
    let woken = 0;
    const ep = new IkeEndpoint({
      connections: [conn],
      credentials: pskCredentials([{ ids: [], secret: 'x' }]),
      crypto: createProvider(),
      random: seededRandom(5),
      settings: { retransmit: { tries: 1, timeoutMs: 1000, base: 1.8, jitterPercent: 0, limitMs: 0 } },
      wake: () => void woken++,
      resolveRemote: (_c, previous) => ({ meanwhile: previous, fresh: new Promise((r) => (answer = r)) }),
    });
    ep.initiate('gw', 0);
    const sent: string[] = [];
    const drain = () => {
      for (let t = ep.pollTransmit(); t; t = ep.pollTransmit()) sent.push(t.remote.address);
    };
    drain();
    // The first attempt times out: the second one is created, and sends nothing while the name resolves.
    for (let i = 0; i < 10 && !ep.listSas().some((x) => x.sa.id !== 1); i++) {
      const at = ep.nextTimeout();
      if (at === undefined) break;
      ep.handleTimeout(at);
      drain();
    }
    const first = sent.length;
    expect(sent).toEqual(Array(first).fill('192.0.2.2'));
    expect(ep.listSas().map((x) => x.sa.id)).toEqual([2]);
    // The answer: the name moved. The same attempt's IKE_SA_INIT goes there, the old address gets nothing more.
    answer({ address: '192.0.2.99', port: 500 });
    await new Promise((r) => setTimeout(r, 0));
    expect(woken).toBeGreaterThan(0);
    ep.handleTimeout(ep.nextTimeout() ?? 0);
    drain();
    expect(sent.slice(first)).toEqual(['192.0.2.99']);
    expect(ep.listSas().map((x) => [x.sa.id, x.sa.remote.address])).toEqual([[2, '192.0.2.99']]);
  });
});

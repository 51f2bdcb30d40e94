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
});

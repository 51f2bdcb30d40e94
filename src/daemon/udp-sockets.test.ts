/** The initiator's source address (issue 13): the resolver's answer only if a socket is bound to it. */
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { Logger } from './logger.js';
import { isAddressNotAvailable, kernelSource, UdpSockets } from './udp-sockets.js';

const open: UdpSockets[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

function sockets(resolveSource: (r: string) => string | undefined) {
  const lines: string[] = [];
  const s = new UdpSockets({ log: new Logger({ write: (l) => void lines.push(l) }), nattPort: 4500, onDatagram: () => {}, onBatch: () => {}, onSendError: () => {}, resolveSource });
  open.push(s);
  return { s, lines };
}

describe('UdpSockets.sourceFor', () => {
  it('returns the resolved source when a socket is bound to it', async () => {
    const asked: string[] = [];
    const { s } = sockets((r) => (asked.push(r), '127.0.0.1'));
    await s.bind('127.0.0.1', 0);
    expect(s.sourceFor('127.0.0.9')).toBe('127.0.0.1');
    expect(asked).toEqual(['127.0.0.9']);
  });

  it('returns undefined, and says why, when the source is not bound', async () => {
    const { s, lines } = sockets(() => '198.51.100.7');
    await s.bind('127.0.0.1', 0);
    expect(s.sourceFor('203.0.113.1')).toBeUndefined();
    expect(lines.at(-1)).toMatch(/\[NET\] source 198\.51\.100\.7 for 203\.0\.113\.1 is not bound \(bound: 127\.0\.0\.1\)$/);
  });

  it('returns undefined when the resolver has no answer', async () => {
    const { s } = sockets(() => undefined);
    await s.bind('127.0.0.1', 0);
    expect(s.sourceFor('203.0.113.1')).toBeUndefined();
  });

  it('rejects an address not on any interface with an EADDRNOTAVAIL the driver recognises', async () => {
    const { s } = sockets(() => undefined);
    const err = await s.bind('192.0.2.254', 0).catch((e: unknown) => e);
    expect(isAddressNotAvailable(err)).toBe(true);
    expect((err as Error).message).toMatch(/^cannot bind UDP 192\.0\.2\.254\[0\]: .*EADDRNOTAVAIL/);
    expect(s.list).toHaveLength(0);
  });
});

const hasIp = ((): boolean => {
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasIp) console.log('[skip] kernelSource test: `ip -j route get` is not available (iproute2)');

describe('kernelSource', () => {
  it.skipIf(!hasIp)('reads prefsrc from `ip -j route get` (loopback answers with itself), undefined for garbage', () => {
    expect(kernelSource('127.0.0.1')).toBe('127.0.0.1');
    expect(kernelSource('not-an-address')).toBeUndefined();
  });
});

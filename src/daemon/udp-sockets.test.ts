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

describe('UdpSockets socketFd (worker pools, issue 17)', () => {
  it('a refused SO_REUSEPORT group fails the bind with the address and the cause', async () => {
    const s = new UdpSockets({ log: new Logger({ write: () => {} }), nattPort: 4500, onDatagram: () => {}, onBatch: () => {}, onSendError: () => {}, socketFd: () => {
      throw new Error('SO_REUSEPORT group: bind for UDP 127.0.0.1:4500: Address already in use');
    } });
    open.push(s);
    await expect(s.bind('127.0.0.1', 4500)).rejects.toThrow(/^cannot bind UDP 127\.0\.0\.1\[4500\]: SO_REUSEPORT group: bind for UDP 127\.0\.0\.1:4500: Address already in use$/);
    expect(s.list).toHaveLength(0);
  });

  it('wraps the fd it is given instead of binding one', async () => {
    const { openReuseportGroup, closeFds } = await import('./workers/reuseport.js');
    const g = openReuseportGroup('127.0.0.1', 0, 1);
    closeFds(g.fds.slice(1));
    const got: number[] = [];
    const s = new UdpSockets({ log: new Logger({ write: () => {} }), nattPort: 4500, batchReceive: false, onDatagram: (_b, d) => void got.push(d.length), onBatch: () => {}, onSendError: () => {}, socketFd: () => g.fds[0] });
    open.push(s);
    await s.bind('127.0.0.1', 40000);
    const port = s.list[0]!.socket.address().port;
    expect(port).not.toBe(40000);
    const { createSocket } = await import('node:dgram');
    const c = createSocket('udp4');
    await new Promise<void>((r) => c.send(new Uint8Array(5), port, '127.0.0.1', () => r()));
    for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    c.close();
    expect(got).toEqual([5]);
  });
});

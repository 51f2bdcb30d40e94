import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { libcUnavailableReason } from '../../sys/libc.js';
import { openReuseportGroup, spiSteeringProgram, steeredIndex, type ReuseportGroup } from './reuseport.js';

const noLibc = libcUnavailableReason();

describe('SPI steering program', () => {
  it('encodes 7 classic BPF instructions with the worker count as the modulus', () => {
    const p = spiSteeringProgram(3);
    expect(p.length).toBe(56);
    const dv = new DataView(p.buffer);
    expect(dv.getUint16(0, true)).toBe(0x20); // ld [0]
    expect(dv.getUint16(24, true)).toBe(0x94); // mod #k
    expect(dv.getUint32(28, true)).toBe(3);
    expect(() => spiSteeringProgram(0)).toThrow(/workers 0/);
  });

  it('sends IKE and keepalives to index 0, ESP by the low byte of its SPI', () => {
    expect(steeredIndex(Uint8Array.of(0, 0, 0, 0, 1, 2), 2)).toBe(0);
    expect(steeredIndex(Uint8Array.of(0xff), 2)).toBe(0);
    expect(steeredIndex(Uint8Array.of(0xc1, 2, 3, 4, 0, 0, 0, 1), 2)).toBe(1);
    expect(steeredIndex(Uint8Array.of(0xc1, 2, 3, 5, 0, 0, 0, 1), 2)).toBe(2);
  });
});

async function openGroup(workers: number): Promise<ReuseportGroup> {
  for (let attempt = 0; ; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    try {
      return openReuseportGroup('127.0.0.1', port, workers);
    } catch (e) {
      if (attempt > 5 || !/in use/i.test((e as Error).message)) throw e;
    }
  }
}

describe.skipIf(noLibc !== undefined)('reuseport group on loopback', () => {
  it('the kernel delivers each datagram to the socket the program names', async () => {
    const g = await openGroup(2);
    const got: number[][] = [[], [], []];
    const socks = g.fds.map((fd, i) => {
      const s = dgram.createSocket('udp4');
      s.on('message', (m) => got[i]!.push(m[3]!));
      s.bind({ fd });
      return s;
    });
    const tx = dgram.createSocket('udp4');
    const send = (b: Uint8Array): Promise<void> => new Promise((r) => tx.send(b, g.port, '127.0.0.1', () => r()));
    try {
      for (let k = 0; k < 6; k++) await send(Uint8Array.of(0xc0, 0, 0, k, 0, 0, 0, 1, 9, 9)); // ESP, SPI low byte k
      await send(Uint8Array.of(0, 0, 0, 0, 0x77, 0, 0, 0)); // IKE behind the non-ESP marker
      await send(Uint8Array.of(0xff)); // NAT keepalive
      const deadline = Date.now() + 20_000;
      while (got.flat().length < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(got[1]).toEqual([0, 2, 4]);
      expect(got[2]).toEqual([1, 3, 5]);
      expect(got[0]).toHaveLength(2);
    } finally {
      tx.close();
      for (const s of socks) s.close();
    }
  });
});

/**
 * An SA's outer endpoints move (issue 15): the peer's behind its NAT (RFC 7296 2.23) and, with MOBIKE (RFC 4555
 * 3.5), our own. The encapsulated packet's UDP source port and the endpoints the driver sends from/to follow.
 */
import { describe, expect, it } from 'vitest';
import { availableBackends } from '../crypto/backends/index.js';
import type { CryptoBackend } from '../crypto/types.js';
import { AUTH_NONE, EncapStatus, ENCR_AES_GCM_16 } from './constants.js';
import { EspError } from './errors.js';
import { enginePair, ipv4Packet, SPI_AB, withRoom } from './testing.js';

const backend = availableBackends().at(-1) as CryptoBackend;

describe('EspEngine.setRemote with a new local endpoint (MOBIKE)', () => {
  it('outbound packets leave from the new local address and port, to the new remote', () => {
    const { a, hostA, hostB } = enginePair({ suite: { encr: ENCR_AES_GCM_16, encrKeyBits: 128, integ: AUTH_NONE }, backend });
    a.setRemote(SPI_AB, 'out', { address: '203.0.113.7', port: 4500 }, { address: '198.51.100.10', port: 4501 });
    const r = a.encapsulate([withRoom(ipv4Packet(hostA, hostB))], 0);
    expect(r.status[0]).toBe(EncapStatus.Send);
    const sa = r.sa[0]!;
    expect(sa.local).toEqual({ address: '198.51.100.10', port: 4501 });
    expect(sa.remote).toEqual({ address: '203.0.113.7', port: 4500 });
    // RFC 3948 2.1: the UDP header in front of the ESP packet carries the new source port.
    const buf = r.buffer[0]!;
    const udp = r.offset[0]! - 8;
    expect((buf[udp]! << 8) | buf[udp + 1]!).toBe(4501);
    expect((buf[udp + 2]! << 8) | buf[udp + 3]!).toBe(4500);
  });

  it('without a local endpoint only the remote moves; an unknown SPI is a clear error', () => {
    const { a } = enginePair({ suite: { encr: ENCR_AES_GCM_16, encrKeyBits: 128, integ: AUTH_NONE }, backend });
    const before = a.getSa(SPI_AB, 'out')?.local;
    a.setRemote(SPI_AB, 'out', { address: '203.0.113.7', port: 4500 });
    expect(a.getSa(SPI_AB, 'out')?.local).toEqual(before);
    expect(() => a.setRemote(0x7777, 'out', { address: '203.0.113.7', port: 4500 }, { address: '198.51.100.10', port: 4500 })).toThrow(EspError);
    expect(() => a.setRemote(0x7777, 'out', { address: '203.0.113.7', port: 4500 })).toThrow(/no outbound SA with SPI 00007777/);
  });
});

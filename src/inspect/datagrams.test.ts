import { describe, expect, it } from 'vitest';
import { LinkType, type CaptureFrame } from './capture-file.js';
import { DatagramReader, networkPacket } from './datagrams.js';
import { ipv6Packet } from '../esp/testing.js';
import { concat, ethernet, ipv4, udp } from './test-captures.js';

const frame = (linkType: number, data: Uint8Array): CaptureFrame => ({ number: 1, linkType, time: 0, data, originalLength: data.length });
// A bare IKEv2 header (RFC 7296 3.1): SPIi 01..., version 2.0, Length 28.
const ike = Uint8Array.from({ length: 28 }, (_, i) => (i === 0 ? 1 : i === 17 ? 0x20 : i === 27 ? 28 : 0));
const ip = ipv4('192.0.2.1', '192.0.2.2', 17, udp(500, 500, ike));

describe('link layers', () => {
  const sll = concat(Uint8Array.of(0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00), ip);
  const sll2 = concat(Uint8Array.of(0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0), ip);
  it.each([
    ['Ethernet', LinkType.ETHERNET, ethernet(ip)],
    ['Ethernet with a VLAN tag', LinkType.ETHERNET, ethernet(ip, 42)],
    ['Linux cooked SLL', LinkType.LINUX_SLL, sll],
    ['Linux cooked SLL2', LinkType.LINUX_SLL2, sll2],
    ['raw IP', LinkType.RAW, ip],
    ['raw IPv4', LinkType.IPV4, ip],
    ['BSD loopback (host order AF_INET)', LinkType.NULL, concat(Uint8Array.of(2, 0, 0, 0), ip)],
    ['OpenBSD loop (network order)', LinkType.LOOP, concat(Uint8Array.of(0, 0, 0, 2), ip)],
  ])('%s', (_, lt, data) => {
    expect(networkPacket(frame(lt, data))).toEqual(ip);
    expect(new DatagramReader().read(frame(lt, data))).toMatchObject({ kind: 'ike', src: '192.0.2.1', dst: '192.0.2.2', sport: 500, dport: 500, marker: false });
  });

  it('says why a frame is not read', () => {
    expect(networkPacket(frame(147, ip))).toMatch(/link type 147 is not read/);
    expect(networkPacket(frame(LinkType.ETHERNET, Uint8Array.of(1, 2)))).toMatch(/shorter/);
    const arp = Uint8Array.from([...new Array(12).fill(0), 0x08, 0x06, 1, 2]);
    expect(networkPacket(frame(LinkType.ETHERNET, arp))).toBe('ethertype 0x0806');
  });
});

describe('port rules (RFC 3948)', () => {
  const read = (sport: number, dport: number, payload: Uint8Array, ports: number[] = []) =>
    new DatagramReader(ports).read(frame(LinkType.RAW, ipv4('192.0.2.1', '192.0.2.2', 17, udp(sport, dport, payload))));
  const espBytes = Uint8Array.of(0xc1, 0, 0, 1, 0, 0, 0, 5, 9, 9, 9, 9);

  it('4500: marker then IKE, 0xff keepalive, otherwise ESP', () => {
    expect(read(4500, 4500, concat(new Uint8Array(4), ike))).toMatchObject({ kind: 'ike', marker: true, message: ike });
    expect(read(4500, 4500, Uint8Array.of(0xff))).toMatchObject({ kind: 'keepalive' });
    expect(read(4500, 4500, espBytes)).toMatchObject({ kind: 'esp', encap: 'udp', packet: espBytes });
    expect(read(4500, 4500, Uint8Array.of(1, 2, 3))).toMatchObject({ kind: 'malformed' });
  });

  it('--port: read like 4500, and a bare IKE header is IKE', () => {
    expect(read(7000, 7001, ike, [7001])).toMatchObject({ kind: 'ike', marker: false });
    expect(read(7000, 7001, espBytes, [7001])).toMatchObject({ kind: 'esp' });
    expect(read(7000, 7001, ike)).toMatchObject({ kind: 'other', why: 'UDP port 7000 -> 7001' });
  });

  it('IPv6 outer: UDP 500 in an Ethernet frame', () => {
    const v6 = ipv6Packet('2001:db8::1', '2001:db8::2', { proto: 17, sport: 500, dport: 500, size: 80 });
    v6[44] = 0; // UDP length = 40 (payload length) for this builder's datagram
    v6[45] = 40;
    expect(new DatagramReader().read(frame(LinkType.ETHERNET, ethernet(v6)))).toMatchObject({ kind: 'ike', src: '2001:db8::1', dst: '2001:db8::2', sport: 500 });
  });

  it('IP protocol 50 is ESP; a truncated IP packet is malformed, not a crash', () => {
    expect(new DatagramReader().read(frame(LinkType.RAW, ipv4('192.0.2.1', '192.0.2.2', 50, espBytes)))).toMatchObject({ kind: 'esp', encap: 'ip' });
    expect(new DatagramReader().read(frame(LinkType.RAW, ip.subarray(0, 30)))).toMatchObject({ kind: 'malformed' });
    expect(new DatagramReader().read(frame(LinkType.RAW, Uint8Array.of(0x45, 0, 0)))).toMatchObject({ kind: 'malformed' });
  });
});

import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random.js';
import { SimNetwork, type Datagram } from './network.js';

const CLIENT = { address: '10.0.0.2', port: 4500 };
const SERVER = { address: '203.0.113.1', port: 4500 };
const OTHER = { address: '203.0.113.99', port: 4500 };

function setup(filtering?: 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent') {
  const net = new SimNetwork({ random: seededRandom(3), impairment: { delay: 1 } });
  const nat = net.addNat('home', { publicAddress: '198.51.100.10', inside: ['10.0.0.2'], mappingTimeout: 30_000, filtering });
  const atServer: Datagram[] = [];
  const atClient: Datagram[] = [];
  net.bind(SERVER, (d) => atServer.push(d));
  net.bind(CLIENT, (d) => atClient.push(d));
  return { net, nat, atServer, atClient };
}

describe('SimNat', () => {
  it('rewrites the source outbound and the destination inbound', () => {
    const { net, nat, atServer, atClient } = setup();
    net.send(CLIENT, SERVER, Uint8Array.of(1), 0);
    net.deliverDue(1);
    const ext = atServer[0]!.from;
    expect(ext).toEqual({ address: '198.51.100.10', port: 40000 });
    expect(atServer[0]!.origFrom).toEqual(CLIENT);
    net.send(SERVER, ext, Uint8Array.of(2), 1);
    net.deliverDue(2);
    expect(atClient).toHaveLength(1);
    expect(atClient[0]!.to).toEqual(CLIENT);
    expect(nat.counters).toMatchObject({ translatedOut: 1, translatedIn: 1, mappingsCreated: 1 });
  });

  it('filters unsolicited inbound traffic by address (default) but not when endpoint-independent', () => {
    const { net, atClient } = setup();
    net.send(CLIENT, SERVER, Uint8Array.of(1), 0);
    net.send(OTHER, { address: '198.51.100.10', port: 40000 }, Uint8Array.of(2), 0);
    net.send(OTHER, { address: '198.51.100.10', port: 40001 }, Uint8Array.of(3), 0);
    net.deliverDue(5);
    expect(atClient).toHaveLength(0);
    expect(net.counters.dropped.nat).toBe(2);
    const open = setup('endpoint-independent');
    open.net.send(CLIENT, SERVER, Uint8Array.of(1), 0);
    open.net.send(OTHER, { address: '198.51.100.10', port: 40000 }, Uint8Array.of(2), 0);
    open.net.deliverDue(5);
    expect(open.atClient).toHaveLength(1);
  });

  it('rebinding gives the client a new external port; the old one stops working (NAT rebinding)', () => {
    const { net, nat, atServer, atClient } = setup();
    net.send(CLIENT, SERVER, Uint8Array.of(1), 0);
    net.deliverDue(1);
    const before = atServer[0]!.from;
    expect(nat.rebind('10.0.0.2')).toBe(1);
    // The server still answers the old mapping: lost at the NAT.
    net.send(SERVER, before, Uint8Array.of(2), 2);
    net.deliverDue(3);
    expect(atClient).toHaveLength(0);
    expect(nat.counters.droppedNoMapping).toBe(1);
    // The client's next packet appears from a new port; replies there arrive.
    net.send(CLIENT, SERVER, Uint8Array.of(3), 4);
    net.deliverDue(5);
    const after = atServer[1]!.from;
    expect(after.address).toBe(before.address);
    expect(after.port).not.toBe(before.port);
    net.send(SERVER, after, Uint8Array.of(4), 5);
    net.deliverDue(6);
    expect(atClient).toHaveLength(1);
  });

  it('mappings expire after the idle timeout and are refreshed by outbound traffic', () => {
    const { net, nat, atServer } = setup();
    net.send(CLIENT, SERVER, Uint8Array.of(1), 0);
    net.send(CLIENT, SERVER, Uint8Array.of(2), 20_000); // refresh
    net.send(CLIENT, SERVER, Uint8Array.of(3), 49_999); // still live: 29,999 ms idle
    net.send(CLIENT, SERVER, Uint8Array.of(4), 80_000); // expired: new mapping
    net.deliverDue(100_000);
    expect(atServer.map((d) => d.from.port)).toEqual([40000, 40000, 40000, 40001]);
    expect(nat.mappings(80_000)).toHaveLength(1);
    expect(nat.mappings(200_000)).toHaveLength(0);
  });

  it('a new public address moves every mapping', () => {
    const { net, nat, atServer } = setup();
    net.send(CLIENT, SERVER, Uint8Array.of(1), 0);
    nat.setPublicAddress('198.51.100.77');
    net.send(CLIENT, SERVER, Uint8Array.of(2), 1);
    net.deliverDue(10);
    expect(atServer.map((d) => d.from.address)).toEqual(['198.51.100.10', '198.51.100.77']);
    expect(nat.externalOf(CLIENT)).toEqual({ address: '198.51.100.77', port: 40001 });
  });
});

describe('SimNat port forwards (a responder behind a NAT)', () => {
  it('reaches the inside host:port from anyone at the same public port, and its replies come from there; rebind keeps them', () => {
    const net = new SimNetwork({ random: seededRandom(3), impairment: { delay: 1 } });
    const nat = net.addNat('dc', { publicAddress: '198.51.100.10', inside: ['10.0.0.2'], forwards: [CLIENT] });
    const atInside: Datagram[] = [];
    const atServer: Datagram[] = [];
    net.bind(CLIENT, (d) => atInside.push(d));
    net.bind(SERVER, (d) => atServer.push(d));
    net.send(SERVER, { address: '198.51.100.10', port: 4500 }, new Uint8Array([1]), 0);
    nat.rebind();
    net.send(CLIENT, SERVER, new Uint8Array([2]), 0);
    net.deliverDue(10);
    expect(atInside.map((d) => d.from)).toEqual([SERVER]);
    expect(atServer.map((d) => d.from)).toEqual([{ address: '198.51.100.10', port: 4500 }]);
  });

  it('a forward to a host that is not inside, or one port forwarded twice, is a clear error', () => {
    const net = new SimNetwork({ random: seededRandom(3) });
    expect(() => net.addNat('dc', { publicAddress: '198.51.100.10', inside: ['10.0.0.2'], forwards: [{ address: '10.0.0.3', port: 500 }] })).toThrow(/NAT dc: forward to 10\.0\.0\.3:500, which is not inside/);
    expect(() => net.addNat('dc', { publicAddress: '198.51.100.10', inside: ['10.0.0.2'], forwards: [CLIENT, CLIENT] })).toThrow(/NAT dc: port 4500 forwarded twice/);
  });
});

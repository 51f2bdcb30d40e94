/**
 * Two gateway cores back to back in virtual time (src/sim): each with an in-memory TUN (src/tun/memory.ts, sync
 * delivery) and its UDP side on a SimNetwork, pumped by a Simulation. For the simulator tests beside the core.
 */
import { createProvider } from '../crypto/provider.js';
import { seededRandom } from '../crypto/random.js';
import type { Credentials, EndpointSettings, IkeConnectionConfig } from '../ike/config.js';
import { ipv4Packet } from '../esp/testing.js';
import { SimNetwork, Simulation, type Impairment } from '../sim/index.js';
import { createMemoryTun, type TunHost } from '../tun/memory.js';
import { Gateway, type ChildRef, type GatewayEvent, type GatewayOptions } from './gateway.js';

export interface SimGateway {
  readonly name: string;
  readonly gateway: Gateway;
  readonly host: TunHost;
  /** Every event the core gave back, in order. */
  readonly events: GatewayEvent[];
  /** Inner packets the core wrote to its TUN. */
  readonly delivered: Uint8Array[];
  readonly logs: string[];
}

export interface SimSideOptions {
  readonly address: string;
  readonly connections: readonly IkeConnectionConfig[];
  readonly trapChildren?: readonly ChildRef[];
  readonly startChildren?: readonly ChildRef[];
  /** More options of this side's core (reuse_ikesa, a resolver...). */
  readonly options?: Pick<GatewayOptions, 'reuseIkeSa' | 'resolver' | 'routes'>;
}

const crypto = createProvider();

export function gatewayPair(a: SimSideOptions, b: SimSideOptions, o: { credentials: Credentials; seed?: number; impairment?: Partial<Impairment>; settings?: Partial<EndpointSettings> }) {
  const seed = o.seed ?? 1;
  const network = new SimNetwork({ random: seededRandom(seed * 7919), impairment: o.impairment ?? { delay: 10 } });
  const sim = new Simulation({ network });
  const side = (name: string, s: SimSideOptions, n: number): SimGateway => {
    const { tun, host } = createMemoryTun({ name: `sim${n}`, mtu: 1400, delivery: 'sync', headroom: 64 });
    const events: GatewayEvent[] = [];
    const delivered: Uint8Array[] = [];
    const logs: string[] = [];
    host.onWrite((p) => delivered.push(...p));
    const gateway = new Gateway({
      config: { connections: s.connections, credentials: o.credentials, trapChildren: s.trapChildren ?? [], startChildren: s.startChildren ?? [] },
      settings: { epochOffsetMs: 0, ...o.settings },
      crypto,
      random: seededRandom(seed * 31 + n),
      net: {
        sendEsp: (buf, off, len, local, remote) => void network.send(local, remote, buf.subarray(off, off + len), sim.now),
        flushEsp: () => {},
        sendIke: (local, remote, data) => void network.send(local, remote, data, sim.now),
      },
      log: (group, level, message) => void logs.push(`${group}${level} ${message}`),
      tun,
      ...s.options,
    });
    tun.onPackets((batch) => gateway.tunPackets(batch, sim.now));
    for (const port of [500, 4500])
      network.bind({ address: s.address, port }, (d, now) => {
        // The network's bytes are its own copy: ESP may be decrypted in place.
        gateway.receiveDatagram(d.bytes, d.to, d.from, now);
      });
    sim.add({
      nextTimeout: () => gateway.nextTimeout(),
      handleTimeout: (now) => gateway.handleTimeout(now),
      flush: (now) => {
        gateway.processEsp(now);
        for (let e = gateway.pollEvent(); e; e = gateway.pollEvent()) events.push(e);
      },
    });
    return { name, gateway, host, events, delivered, logs };
  };
  return { sim, network, a: side('A', a, 1), b: side('B', b, 2) };
}

/** A UDP packet from `src` to `dst` carrying `id` in its first payload bytes. */
export function udpPacket(src: string, dst: string, id: number, size = 200): Uint8Array {
  const p = ipv4Packet(src, dst, { proto: 17, sport: 5000, dport: 5001, size });
  new DataView(p.buffer, p.byteOffset).setUint32(28, id);
  return p;
}

export function packetId(p: Uint8Array): number {
  return new DataView(p.buffer, p.byteOffset).getUint32(28);
}

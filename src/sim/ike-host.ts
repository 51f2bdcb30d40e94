/**
 * Hosts a sans-IO IKE endpoint on the simulated network: binds its address on UDP 500 and 4500 (IKE on 4500 carries
 * the 4-byte zero non-ESP marker, RFC 3948 2.2, stripped on receipt and added on send), and pumps its outputs after
 * every step. Structural types only, so src/sim does not depend on src/ike.
 */
import type { SimAddress } from './address.js';
import type { SimNetwork } from './network.js';
import type { Simulation } from './runner.js';

export interface SimIkeTransmit {
  readonly data: Uint8Array;
  readonly local: SimAddress;
  readonly remote: SimAddress;
  readonly nonEspMarker: boolean;
}

/** What an IkeEndpoint offers its driver. */
export interface SimIkeNode<E> {
  receive(data: Uint8Array, local: SimAddress, remote: SimAddress, now: number): void;
  pollTransmit(): SimIkeTransmit | undefined;
  pollEvent(): E | undefined;
  nextTimeout(): number | undefined;
  handleTimeout(now: number): void;
}

export interface SimIkeHostOptions<E> {
  /** Each event the endpoint emits, after the step that raised it. */
  onEvent?: (e: E, now: number) => void;
  /** Return false to drop a datagram instead of sending it (e.g. answers to addresses nobody binds). */
  filter?: (t: SimIkeTransmit) => boolean;
}

const MARKER = new Uint8Array(4);

export function hostIkeNode<E>(sim: Simulation, net: SimNetwork, node: SimIkeNode<E>, address: string, o: SimIkeHostOptions<E> = {}): void {
  for (const port of [500, 4500])
    net.bind({ address, port }, (d, now) => {
      let bytes = d.bytes;
      if (port === 4500) {
        if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0 || bytes[3] !== 0) return;
        bytes = bytes.subarray(4);
      }
      node.receive(bytes, d.to, d.from, now);
    });
  sim.add({
    nextTimeout: () => node.nextTimeout(),
    handleTimeout: (now) => node.handleTimeout(now),
    flush: (now) => {
      for (let t = node.pollTransmit(); t; t = node.pollTransmit()) {
        if (o.filter && !o.filter(t)) continue;
        const data = t.nonEspMarker ? withMarker(t.data) : t.data;
        net.send({ address, port: t.local.port }, t.remote, data, now);
      }
      for (let e = node.pollEvent(); e; e = node.pollEvent()) o.onEvent?.(e, now);
    },
  });
}

function withMarker(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(MARKER.length + data.length);
  out.set(data, MARKER.length);
  return out;
}

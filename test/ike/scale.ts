/**
 * The IKE core at scale in one thread (issue 17): one sans-IO responder IkeEndpoint holding `n` established IKE +
 * CHILD SAs (RFC 7296 1.2: IKE_SA_INIT + IKE_AUTH with the first CHILD SA, PSK, each peer its own address and ID),
 * set up by initiator endpoints of 256 SAs each that are then dropped, datagrams handed over directly in virtual time.
 *
 * The key exchange is the one shortcut: a test backend whose "Diffie-Hellman" is an XOR of the two public values
 * (cheapFakeKe), so that 100k setups take seconds; everything else (PRF, SK payload AEAD, codec, proposal and
 * traffic-selector choice, AUTH) is the real code. It must never be used outside tests: it gives no secrecy at all.
 *
 * Work on the held SAs is counted, not timed: `watchHeld` turns reads of the fields any scan over SAs would have to
 * touch (state, conn, remoteId, remote, children, spiI) into counted accessors on every held SA, so a test can assert
 * that a datagram or a timer tick for one SA reads no other SA, which is what makes per-datagram work independent of
 * the number of SAs (issue 17: every lookup by map, no scans).
 */
import { createProvider } from '../../src/crypto/provider.js';
import { seededRandom } from '../../src/crypto/random.js';
import type { CryptoBackend, KeyExchange } from '../../src/crypto/types.js';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import type { Address } from '../../src/ike/config.js';
import { IkeEndpoint } from '../../src/ike/endpoint.js';
import type { IkeSa } from '../../src/ike/ike-sa.js';

export const RESPONDER = '192.0.2.1';
const SECRET = 'scale test psk 0123456789abcdef';
const CHUNK = 256;
const WINDOW = 16;
const PROPOSALS = 'aes128gcm16-prfsha256-x25519';

/** X25519 (31) replaced by g^ir = a XOR b over random 32-byte "public values": symmetric, cheap, and insecure. */
export function cheapFakeKe(base: CryptoBackend = createProvider()): CryptoBackend {
  const b = Object.create(base) as CryptoBackend;
  b.createKeyExchange = (group, random): KeyExchange => {
    if (group !== 31) return base.createKeyExchange(group, random);
    const publicValue = new Uint8Array(32);
    random.fill(publicValue);
    return {
      group,
      publicValue,
      computeSharedSecret: (peer) => {
        if (peer.length !== 32) throw new Error(`cheapFakeKe: peer value of ${peer.length} bytes, expected 32`);
        return publicValue.map((x, i) => x ^ (peer[i] ?? 0));
      },
      dispose: () => {},
    };
  };
  return b;
}

export interface Datagram {
  data: Uint8Array;
  from: Address;
  to: Address;
}

export const peerAddress = (i: number): string => `10.${64 + ((i >>> 16) & 0x3f)}.${(i >>> 8) & 0xff}.${i & 0xff}`;

export class ScaleSim {
  readonly crypto = cheapFakeKe();
  readonly responder: IkeEndpoint;
  now = 1_000;
  private nextPeer = 0;
  private readonly creds = pskCredentials([{ ids: [], secret: SECRET }]);
  private readonly initConn = connection({ name: 'c', proposals: PROPOSALS, remoteAddrs: [RESPONDER], children: [child('net', { remoteTs: ['10.0.0.0/8'], espProposals: 'aes128gcm16' })] });
  /** Initiators by their (peer) address. */
  readonly initiators = new Map<string, IkeEndpoint>();
  private transient: string[] = [];
  /** Events the responder emitted (drained as a driver would). */
  events = 0;
  /** Datagrams delivered to the responder so far. */
  delivered = 0;

  constructor(seed = 1) {
    this.responder = new IkeEndpoint({
      connections: [connection({ name: 'gw', proposals: PROPOSALS, local: { id: 'gw.scale.example' }, children: [child('net', { localTs: ['10.0.0.0/8'], remoteTs: ['dynamic'], espProposals: 'aes128gcm16' })] })],
      credentials: this.creds,
      crypto: this.crypto,
      random: seededRandom(seed),
      settings: {},
    });
  }

  private newInitiator(seed: number): IkeEndpoint {
    return new IkeEndpoint({ connections: [this.initConn], credentials: this.creds, crypto: this.crypto, random: seededRandom(seed), settings: {} });
  }

  /**
   * Starts `count` setups from new peers (one initiator endpoint per 256), WINDOW at a time so the responder's
   * half-open count stays under cookie_threshold (RFC 7296 2.6) as in bench/ike.ts, and runs each batch to its end.
   */
  establish(count: number, keepInitiators = false): { up: number; ids: { ep: IkeEndpoint; id: number; address: string }[] } {
    const ids: { ep: IkeEndpoint; id: number; address: string }[] = [];
    let ep: IkeEndpoint | undefined;
    let up = 0;
    for (let i = 0; i < count; ) {
      const batch = new Set<IkeEndpoint>();
      for (const end = Math.min(count, i + WINDOW); i < end; i++) {
        if (ep === undefined || i % CHUNK === 0) ep = this.newInitiator(1_000_003 + this.nextPeer);
        batch.add(ep);
        const address = peerAddress(this.nextPeer++);
        this.initiators.set(address, ep);
        const id = ep.initiate('c', this.now, { local: { address, port: 500 } });
        if (keepInitiators) ids.push({ ep, address, id });
        else this.transient.push(address);
      }
      up += this.pump(batch);
      // Dropped initiators are forgotten once their batch is up (the responder keeps its SAs: no DPD configured).
      for (const a of this.transient) this.initiators.delete(a);
      this.transient = [];
    }
    return { up, ids };
  }

  /** Moves datagrams between the initiators and the responder until none are left; returns initiator ike-up events. */
  pump(eps: Iterable<IkeEndpoint>): number {
    let up = 0;
    let toResponder: Datagram[] = [];
    for (const e of eps) {
      for (let t = e.pollTransmit(); t; t = e.pollTransmit()) toResponder.push({ data: t.data, from: t.local, to: t.remote });
      for (let x = e.pollEvent(); x; x = e.pollEvent()) if (x.type === 'ike-up') up++;
    }
    while (toResponder.length > 0) {
      for (const d of toResponder) this.responder.receive(d.data, d.to, d.from, this.now);
      this.delivered += toResponder.length;
      // A driver consumes the events (logs, ike-up, child-install with keys); left queued they would pile up.
      for (let e = this.responder.pollEvent(); e; e = this.responder.pollEvent()) this.events++;
      toResponder = [];
      const touched = new Set<IkeEndpoint>();
      for (let t = this.responder.pollTransmit(); t; t = this.responder.pollTransmit()) {
        const ep = this.initiators.get(t.remote.address);
        if (ep === undefined) continue;
        ep.receive(t.data, t.remote, t.local, this.now);
        touched.add(ep);
      }
      for (const e of touched) {
        for (let t = e.pollTransmit(); t; t = e.pollTransmit()) toResponder.push({ data: t.data, from: t.local, to: t.remote });
        for (let x = e.pollEvent(); x; x = e.pollEvent()) if (x.type === 'ike-up') up++;
      }
    }
    return up;
  }

  /** The responder's IKE SA objects (the endpoint keeps them in its private SA table). */
  responderSas(): IkeSa[] {
    return [...(this.responder as unknown as { sas: { values(): Iterable<IkeSa> } }).sas.values()];
  }
}

/** Fields a scan over IKE SAs would read (a filter by state, connection, identity, address, CHILD SA, SPI). */
const WATCHED = ['state', 'conn', 'remoteId', 'remote', 'children', 'spiI'] as const;

/**
 * Replaces the watched fields of each SA by counting accessors (values kept); returns the counter. Reads of an SA
 * that is itself part of the operation under test are expected: exclude it with `except`.
 */
export function watchHeld(sas: readonly IkeSa[]): { reads: () => number; reset: () => void; except: (sa: IkeSa | undefined) => void } {
  let reads = 0;
  let skip: IkeSa | undefined;
  for (const sa of sas) {
    for (const f of WATCHED) {
      let v = (sa as unknown as Record<string, unknown>)[f];
      Object.defineProperty(sa, f, {
        configurable: true,
        enumerable: true,
        get() {
          if (sa !== skip) reads++;
          return v;
        },
        set(x: unknown) {
          v = x;
        },
      });
    }
  }
  return { reads: () => reads, reset: () => (reads = 0), except: (sa) => (skip = sa) };
}

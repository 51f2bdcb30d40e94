/**
 * A day of a site-to-site tunnel in virtual time: CHILD SAs rekeyed every hour (with rand_time), the IKE SA every
 * four hours, IKE messages crossing a network with 10% loss and reordering, and a steady stream of packets both
 * ways through real ESP engines (IKE events -> ChildSaInstaller -> EspEngine, as in the daemon).
 *
 * It must end with exactly one IKE SA and one CHILD SA per side, and every packet offered once the tunnel was up
 * must arrive: rekeying and make-before-break reauthentication never open a gap in the data path.
 */
import { describe, expect, it } from 'vitest';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import { makePair, type Side } from './pair.js';
import { EspEngine, EncapStatus, DecapStatus } from '../../src/esp/index.js';
import { ipv4Packet } from '../../src/esp/testing.js';
import { ChildSaInstaller } from '../../src/daemon/child-installer.js';
import { seededRandom } from '../../src/crypto/random.js';
import { crypto } from './pair.js';
import type { IkeEvent } from '../../src/ike/events.js';

const HOUR = 3_600_000;
const psk = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'a long day' }]);
const of = <T extends IkeEvent['type']>(s: Side, t: T) => s.events.filter((e): e is Extract<IkeEvent, { type: T }> => e.type === t);

interface DataSide {
  engine: EspEngine;
  installer: ChildSaInstaller;
  /** Packet ids this side delivered (from the peer). */
  received: Set<number>;
}

function day(o: { seed: number; hours: number; reauthHours?: number; makeBeforeBreak?: boolean; intervalMs?: number; childRekeyMs?: number; childRandMs?: number; ikeLoss?: number }) {
  const interval = o.intervalMs ?? 1000;
  const conn = (l: string, r: string, lts: string, rts: string, addr?: string) =>
    connection({
      name: 'gw', proposals: 'aes128gcm16-prfsha256-x25519', remoteAddrs: addr ? [addr] : ['%any'], local: { id: l }, remote: { id: r },
      rekeyTimeMs: 4 * HOUR, overTimeMs: 0.4 * HOUR, randTimeMs: 0.2 * HOUR, reauthTimeMs: (o.reauthHours ?? 0) * HOUR,
      children: [child('net', { localTs: [lts], remoteTs: [rts], espProposals: 'aes128gcm16-x25519', rekeyTimeMs: o.childRekeyMs ?? HOUR, lifeTimeMs: 1.1 * (o.childRekeyMs ?? HOUR), randTimeMs: o.childRandMs ?? 0.1 * HOUR })],
    });
  const data = new Map<string, DataSide>();
  const p = makePair(
    { connections: [conn('moon.example', 'sun.example', '10.1.0.0/16', '10.2.0.0/16', '192.0.2.2')], credentials: psk },
    { connections: [conn('sun.example', 'moon.example', '10.2.0.0/16', '10.1.0.0/16')], credentials: psk },
    {
      seed: o.seed,
      impairment: { loss: o.ikeLoss ?? 0.1, reorder: 0.1, reorderDelay: 300, delay: 10, jitter: 5 },
      settings: { makeBeforeBreak: o.makeBeforeBreak ?? true },
      onEvent: (side, e, now) => data.get(side.name)!.installer.handle(e, now),
    },
  );
  for (const s of [p.a, p.b]) {
    const engine = new EspEngine({ backend: crypto, random: seededRandom(o.seed + s.name.charCodeAt(0)) });
    data.set(s.name, { engine, installer: new ChildSaInstaller(engine, { graceMs: 2000 }), received: new Set() });
  }
  // The ESP path: no loss, but 20-50 ms delay, so packets overtake each other (the replay window copes).
  const jitter = seededRandom(o.seed * 13);
  const j = new Uint8Array(1);
  const inFlight: { at: number; to: string; bytes: Uint8Array }[] = [];
  const offered: { id: number; from: string; at: number; sent: boolean }[] = [];
  let nextId = 1;
  let nextSend = 0;
  const send = (from: string, to: string, src: string, dst: string, now: number): void => {
    const d = data.get(from)!;
    const id = nextId++;
    const pkt = ipv4Packet(src, dst, { proto: 17, sport: 5000, dport: 5001, size: 200 });
    new DataView(pkt.buffer).setUint32(28, id);
    const r = d.engine.encapsulate([{ buffer: pkt, offset: 0, length: pkt.length }], now);
    const sent = r.status[0] === EncapStatus.Send;
    if (sent) {
      const bytes = r.buffer[0]!.slice(r.offset[0]!, r.offset[0]! + r.length[0]!);
      inFlight.push({ at: now + 20 + (jitter.fill(j)[0]! % 30), to, bytes });
    }
    offered.push({ id, from, at: now, sent });
  };
  p.sim.add({
    nextTimeout: () => {
      let t = nextSend;
      for (const f of inFlight) t = Math.min(t, f.at);
      for (const d of data.values()) {
        const e = d.engine.nextTimeout();
        if (e !== undefined) t = Math.min(t, e);
      }
      return t;
    },
    handleTimeout: (now) => {
      if (now >= nextSend) {
        send('A', 'B', '10.1.0.1', '10.2.0.1', now);
        send('B', 'A', '10.2.0.1', '10.1.0.1', now);
        nextSend = now + interval;
      }
      for (let i = 0; i < inFlight.length; ) {
        const f = inFlight[i]!;
        if (f.at > now) {
          i++;
          continue;
        }
        inFlight.splice(i, 1);
        const d = data.get(f.to)!;
        const r = d.engine.decapsulate([{ buffer: f.bytes, offset: 0, length: f.bytes.length }], now);
        if (r.status[0] === DecapStatus.Deliver) d.received.add(new DataView(r.buffer[0]!.buffer, r.buffer[0]!.byteOffset + r.offset[0]!).getUint32(28));
      }
      for (const d of data.values()) d.engine.handleTimeout(now);
    },
  });
  p.a.ep.initiate('gw', 0);
  p.sim.runFor(o.hours * HOUR, { maxSteps: 50_000_000 });
  return { ...p, data, offered };
}

function check(r: ReturnType<typeof day>) {
  const { a, b, data, offered } = r;
  // One IKE SA and one CHILD SA per side, paired.
  const la = a.ep.listSas();
  const lb = b.ep.listSas();
  expect(la).toHaveLength(1);
  expect(lb).toHaveLength(1);
  expect(la[0]!.sa.state).toBe('ESTABLISHED');
  expect(Buffer.compare(la[0]!.sa.spiI, lb[0]!.sa.spiI)).toBe(0);
  expect(la[0]!.children).toHaveLength(1);
  expect(lb[0]!.children).toHaveLength(1);
  expect(la[0]!.children[0]!.spiIn).toBe(lb[0]!.children[0]!.spiOut);
  // Exactly the CHILD SAs IKE has are installed in each engine (old inbound SAs have retired).
  for (const [name, d] of data) {
    const sas = d.engine.sas();
    expect(sas.filter((s) => s.direction === 'out')).toHaveLength(1);
    const ikeChild = (name === 'A' ? la : lb)[0]!.children[0]!;
    expect(sas.find((s) => s.direction === 'out')!.spi).toBe(ikeChild.spiOut);
  }
  // From the first packet that went out on each side, every packet offered was sent and delivered.
  const up = Math.max(...['A', 'B'].map((s) => offered.find((x) => x.from === s && x.sent)!.at));
  const after = offered.filter((x) => x.at >= up);
  const unsent = after.filter((x) => !x.sent);
  const lost = after.filter((x) => x.sent && !data.get(x.from === 'A' ? 'B' : 'A')!.received.has(x.id));
  expect(unsent, `packets offered without an outbound SA at ${unsent.slice(0, 5).map((x) => x.at)}`).toEqual([]);
  // The last packets may still be in flight when the simulation stops.
  const lastAt = offered.reduce((m, x) => Math.max(m, x.at), 0);
  expect(lost.filter((x) => x.at < lastAt - 100)).toEqual([]);
  return { delivered: after.length - lost.length, offered: after.length };
}

describe('a day in the life of a tunnel', () => {
  it('24 h: hourly CHILD rekeys, 4-hourly IKE rekeys, 10% IKE loss and reordering, no packet lost', () => {
    const r = day({ seed: 7, hours: 24 });
    const stats = check(r);
    const childRekeys = of(r.a, 'child-install').filter((e) => e.replaces).length;
    const ikeRekeys = of(r.a, 'ike-rekeyed').length;
    expect(childRekeys).toBeGreaterThanOrEqual(22);
    expect(childRekeys).toBeLessThanOrEqual(30);
    expect(ikeRekeys).toBeGreaterThanOrEqual(5);
    expect(r.net.counters.dropped.loss).toBeGreaterThan(0);
    console.log(`long run: ${childRekeys} CHILD rekeys, ${ikeRekeys} IKE rekeys, ${stats.delivered}/${stats.offered} packets delivered, ${r.net.counters.dropped.loss} IKE datagrams lost`);
  }, 120_000);

  it('12 h with make-before-break reauthentication every 3 h: no packet lost across reauthentication', () => {
    const r = day({ seed: 11, hours: 12, reauthHours: 3, makeBeforeBreak: true, intervalMs: 500 });
    const stats = check(r);
    const reauths = r.a.logs.filter((l) => /reauthentication of IKE_SA .* complete/.test(l)).length;
    expect(reauths).toBeGreaterThanOrEqual(3);
    console.log(`reauth run: ${reauths} reauthentications, ${stats.delivered}/${stats.offered} packets delivered`);
  }, 120_000);

  it('CHILD rekeys that collide (same rekey_time, rand_time = 0, RFC 7296 2.8.1) lose no packet', () => {
    const r = day({ seed: 3, hours: 2, childRekeyMs: 5 * 60_000, childRandMs: 0, ikeLoss: 0, intervalMs: 200 });
    const stats = check(r);
    const collisions = [...r.a.logs, ...r.b.logs].filter((l) => /CHILD_SA rekey collision (won|lost)/.test(l)).length;
    expect(collisions).toBeGreaterThan(5);
    console.log(`collision run: ${collisions} collision resolutions, ${stats.delivered}/${stats.offered} packets delivered`);
  }, 120_000);
});

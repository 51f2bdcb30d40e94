/** SaTable's charges: IKE_SA_INIT requests that cost a key exchange count as half-open until they expire. */
import { describe, expect, it } from 'vitest';
import type { IkeSa } from './ike-sa.js';
import { initKey, peerKey, SaTable } from './sa-table.js';

const REMOTE = { address: '192.0.2.7', port: 500 };

/** The few fields SaTable reads of a responder SA that is still CONNECTING (half-open). */
function responderSa(id: number, spiI: Uint8Array): IkeSa {
  return {
    id,
    initiator: false,
    localSpi: Uint8Array.of(0xee, 0, 0, 0, 0, 0, 0, id),
    spiI,
    remote: REMOTE,
    state: 'CONNECTING',
    children: [],
  } as unknown as IkeSa;
}

describe('SaTable charges', () => {
  it('count per address until they expire, earliest first, each once', () => {
    const t = new SaTable();
    t.charge('k1', '192.0.2.7', 100);
    t.charge('k2', '192.0.2.8', 200);
    t.charge('k1', '192.0.2.7', 999); // already charged: ignored
    expect(t.halfOpenCount()).toBe(2);
    expect(t.halfOpenFrom('192.0.2.7')).toBe(1);
    expect(t.nextChargeExpiry()).toBe(100);
    expect(t.expireCharges(99)).toBe(0);
    expect(t.expireCharges(150)).toBe(1);
    expect(t.charged('k1')).toBe(false);
    expect(t.halfOpenFrom('192.0.2.7')).toBe(0);
    expect(t.nextChargeExpiry()).toBe(200);
    expect(t.expireCharges(1000)).toBe(1);
    expect(t.nextChargeExpiry()).toBeUndefined();
    expect(t.halfOpenCount()).toBe(0);
  });

  it('a charge replaced by the SA it became is skipped in the queue and not released twice', () => {
    const t = new SaTable();
    const spiI = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    t.charge(initKey(spiI, REMOTE), REMOTE.address, 100);
    t.charge('other', '192.0.2.9', 300);
    t.add(responderSa(1, spiI));
    // The SA is half-open itself; its charge is gone, so the first live charge expires at 300.
    expect(t.halfOpenCount()).toBe(2);
    expect(t.halfOpenFrom(REMOTE.address)).toBe(1);
    expect(t.nextChargeExpiry()).toBe(300);
    expect(t.expireCharges(200)).toBe(0);
    expect(t.halfOpenFrom(REMOTE.address)).toBe(1);
    expect(t.expireCharges(300)).toBe(1);
    expect(t.halfOpenCount()).toBe(1);
  });
});

describe('SaTable established index by (connection, peer) (issue 17: no Set per SA)', () => {
  const peerId = { type: 2, data: new TextEncoder().encode('peer.example') };
  function established(id: number, conn = 'gw'): IkeSa {
    return { ...responderSa(id, Uint8Array.of(9, 9, 9, 9, 9, 9, 9, id)), initiator: true, state: 'ESTABLISHED', conn: { name: conn }, remoteId: peerId } as unknown as IkeSa;
  }

  it('one SA, then two, then one again under one peer key; other connections apart', () => {
    const t = new SaTable();
    const [a, b, c] = [established(1), established(2), established(3, 'other')];
    const key = peerKey(peerId);
    t.add(a);
    expect([...t.establishedWith('gw', key)]).toEqual([a]);
    t.add(b);
    t.add(c);
    expect(new Set(t.establishedWith('gw', key))).toEqual(new Set([a, b]));
    expect([...t.establishedWith('other', key)]).toEqual([c]);
    expect(t.establishedWith('gw').size).toBe(2);
    t.remove(a);
    expect([...t.establishedWith('gw', key)]).toEqual([b]);
    t.remove(b);
    expect(t.establishedWith('gw', key).size).toBe(0);
    expect(t.establishedWith('gw').size).toBe(0);
    expect([...t.establishedWith('other', key)]).toEqual([c]);
  });
});

/**
 * Established IKE SAs hold no keyed crypto context while idle (issue 17, src/ike/sa-compact.ts): the SK payload
 * contexts (RFC 7296 3.14) are keyed for an exchange and released when it is over, and the IKE_SA_INIT messages
 * and nonces are dropped once the SA is up. An exchange on an idle SA (a liveness check, an IKE rekey) keys them
 * again and works.
 */
import { describe, expect, it } from 'vitest';
import { createProvider } from '../../src/crypto/provider.js';
import type { CryptoBackend } from '../../src/crypto/types.js';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import { IkeSa, releaseSaKeys } from '../../src/ike/ike-sa.js';
import { INTERN_LIMIT, internSet, internTsList } from '../../src/ike/intern.js';
import { deriveIkeKeys } from '../../src/ike/keys.js';
import type { TrafficSelector } from '../../src/ike/traffic-selector.js';
import { Harness } from '../fuzz/exchange-fuzzer.js';

function counting(): { backend: CryptoBackend; live: () => number; created: () => number } {
  const base = createProvider();
  let created = 0;
  let disposed = 0;
  const wrap = <T extends { dispose(): void }>(c: T): T => {
    created++;
    const d = c.dispose.bind(c);
    let done = false;
    c.dispose = () => {
      if (!done) disposed++;
      done = true;
      d();
    };
    return c;
  };
  const backend = Object.create(base) as CryptoBackend;
  backend.createAead = (s, k) => wrap(base.createAead(s, k));
  backend.createCipher = (s, k) => wrap(base.createCipher(s, k));
  backend.createMac = (s, k) => wrap(base.createMac(s, k));
  return { backend, live: () => created - disposed, created: () => created };
}

function pair(backend: CryptoBackend, proposals: string) {
  const conn = (me: 'a' | 'b') =>
    connection({
      name: 'gw', proposals,
      localAddrs: [me === 'a' ? '192.0.2.1' : '%any'], remoteAddrs: [me === 'a' ? '192.0.2.2' : '%any'],
      local: { id: `${me}.example` }, remote: { id: me === 'a' ? 'b.example' : 'a.example' },
      children: [child('c', { localTs: ['10.1.0.0/16'], remoteTs: ['10.2.0.0/16'], espProposals: 'aes128gcm16' })],
    });
  const findings: string[] = [];
  const creds = pskCredentials([{ ids: [], secret: 'sa-compact test psk 0123456789' }]);
  const h = new Harness({ finding: (k, w) => findings.push(`[${k}] ${w}`) }, { a: { conns: [conn('a')], creds }, b: { conns: [conn('b')], creds } }, 1, backend);
  return { h, findings };
}

describe('idle established IKE SAs hold no keyed contexts', () => {
  it.each(['aes128gcm16-prfsha256-x25519', 'aes256-sha256-x25519'])('%s: none after the setup, keyed again for a liveness check and a rekey', (proposals) => {
    const c = counting();
    const { h, findings } = pair(c.backend, proposals);
    h.a.initiate('gw', h.now);
    expect(h.settle()).toBeUndefined();
    const a = h.a.listSas()[0];
    const b = h.b.listSas()[0];
    expect(a?.sa.state).toBe('ESTABLISHED');
    expect(b?.sa.state).toBe('ESTABLISHED');
    expect(c.created()).toBeGreaterThan(0);
    expect(c.live()).toBe(0);
    const before = c.created();
    expect(h.a.checkLiveness(a?.sa.id ?? -1, h.now)).toBe(true);
    expect(h.settle()).toBeUndefined();
    expect(c.created()).toBeGreaterThan(before);
    expect(c.live()).toBe(0);
    expect(h.a.listSas().map((x) => x.sa.state)).toEqual(['ESTABLISHED']);
    expect(h.a.rekeyIke(a?.sa.id ?? -1, h.now)).toBe(true);
    expect(h.settle()).toBeUndefined();
    expect(h.a.listSas()).toHaveLength(1);
    expect(h.a.listSas()[0]?.sa.id).not.toBe(a?.sa.id);
    expect(c.live()).toBe(0);
    expect(findings).toEqual([]);
  });
});

describe('compact SA records (issue 17)', () => {
  const v4 = (a: number, b: number, c: number, d: number) => Uint8Array.of(a, b, c, d);
  const ts = (last: number): TrafficSelector => ({ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 65535, startAddr: v4(10, 0, 0, last), endAddr: v4(10, 0, 0, last) });

  it('established SAs share one frozen transform set and local selector list, remote selectors packed', () => {
    const c = counting();
    const { h, findings } = pair(c.backend, 'aes128gcm16-prfsha256-x25519');
    h.a.initiate('gw', h.now);
    h.a.initiate('gw', h.now);
    expect(h.settle()).toBeUndefined();
    const sas = h.a.listSas();
    expect(sas).toHaveLength(2);
    const [x, y] = sas.map((s) => s.children[0]);
    expect(x?.localTs).toEqual(y?.localTs);
    const raw = (h.a as unknown as { sas: { values(): Iterable<IkeSa> } }).sas;
    const [s1, s2] = [...raw.values()];
    expect(s1?.set).toBe(s2?.set);
    expect(Object.isFrozen(s1?.set)).toBe(true);
    expect(s1?.children[0]?.localTs).toBe(s2?.children[0]?.localTs);
    expect(s1?.children[0]?.set).toBe(s2?.children[0]?.set);
    expect(s1?.local).toBe(s2?.local);
    const r = s1?.children[0]?.remoteTs[0];
    expect(r?.startAddr.buffer).toBe(r?.endAddr.buffer);
    expect(findings).toEqual([]);
  });

  it('internTsList: equal plain data, frozen, both addresses in one buffer; shared up to INTERN_LIMIT lists only', () => {
    const a = internTsList([ts(1), ts(2)]);
    expect(a).toEqual([ts(1), ts(2)]);
    expect(Object.isFrozen(a)).toBe(true);
    expect(a[0]?.startAddr.buffer).toBe(a[0]?.endAddr.buffer);
    expect(internTsList([ts(1), ts(2)])).toBe(a);
    expect(internTsList(a)).toBe(a);
    expect(internTsList([])).toEqual([]);
    // Lists a peer chooses cannot grow the table without bound: past the limit they are packed, not shared.
    for (let i = 0; i < INTERN_LIMIT + 5; i++) internTsList([{ ...ts(3), startPort: i, endPort: i }]);
    const late = { ...ts(4), startPort: 7, endPort: 9 };
    const l1 = internTsList([late]);
    const l2 = internTsList([late]);
    expect(l1).toEqual(l2);
    expect(l1).not.toBe(l2);
  });

  it('internSet keeps RFC 9370 additional key exchanges and equal sets share one object', () => {
    const s = { encr: 20, keyBits: 128, prf: 5, ke: 31, addke: [{ type: 6, id: 36 }] };
    const i = internSet(s);
    expect(i).toEqual(s);
    expect(internSet({ ...s, addke: [{ type: 6, id: 36 }] })).toBe(i);
    expect(internSet({ ...s, addke: [{ type: 6, id: 37 }] })).not.toBe(i);
    expect(internSet({ encr: 20, keyBits: 256, prf: 5, ke: 31 })).not.toBe(i);
  });

  it('lazy lists of an IKE SA: made on use, dropped while empty, kept while not', () => {
    const sa = new IkeSa(1, true, new Uint8Array(8), { address: '192.0.2.1', port: 500 }, { address: '192.0.2.2', port: 500 });
    sa.queue.length;
    sa.virtualIps.push('10.3.0.1');
    sa.reassembly = {};
    sa.dropEmpty();
    expect(sa.queue).toEqual([]);
    expect(sa.virtualIps).toEqual(['10.3.0.1']);
    expect(sa.reassembly).toEqual({});
    expect(sa.reauthClaimed.size).toBe(0);
    expect(sa.timers).toEqual([]);
    const q = sa.queue;
    expect(sa.queue).toBe(q);
  });

  it('releasing a destroyed SA keys no context just to free it (releaseSaKeys on lazy SK keys)', () => {
    const c = counting();
    const sa = new IkeSa(1, true, new Uint8Array(8), { address: '192.0.2.1', port: 500 }, { address: '192.0.2.2', port: 500 });
    const set = { encr: 20, keyBits: 128, prf: 5, ke: 31 };
    sa.keys = deriveIkeKeys(c.backend, set, { Ni: new Uint8Array(32), Nr: new Uint8Array(32), gir: new Uint8Array(32), spiI: new Uint8Array(8), spiR: new Uint8Array(8), initiator: true });
    const made = c.created();
    releaseSaKeys(sa);
    expect(c.created()).toBe(made);
    expect(sa.keys.out.encryption).toBeDefined();
    expect(c.live()).toBe(1);
    releaseSaKeys(sa);
    expect(c.live()).toBe(0);
  });
});

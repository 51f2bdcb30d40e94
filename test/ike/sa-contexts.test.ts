/**
 * An IKE SA's crypto contexts die with it (issue 11, "memory stays bounded"): every AEAD, cipher and MAC context
 * the two endpoints create for setups, IKE rekeys and deletes is disposed by the time the SAs are gone. Before,
 * destroySa left the SK payload contexts (RFC 7296 3.14) to the crypto backend's garbage-collection backstop: 4
 * per setup and delete here, and the exchange fuzzer's live heap grew with every discarded pair.
 */
import { describe, expect, it } from 'vitest';
import { createProvider } from '../../src/crypto/provider.js';
import type { CryptoBackend } from '../../src/crypto/types.js';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
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

function pair(backend: CryptoBackend, proposals: string, secretB = 'sa-contexts test psk 0123456789') {
  const conn = (me: 'a' | 'b') =>
    connection({
      name: 'gw', proposals,
      localAddrs: [me === 'a' ? '192.0.2.1' : '%any'], remoteAddrs: [me === 'a' ? '192.0.2.2' : '%any'],
      local: { id: `${me}.example` }, remote: { id: me === 'a' ? 'b.example' : 'a.example' },
      children: [child('c', { localTs: ['10.1.0.0/16'], remoteTs: ['10.2.0.0/16'], espProposals: 'aes128gcm16' })],
    });
  const findings: string[] = [];
  const h = new Harness({ finding: (k, w) => findings.push(`[${k}] ${w}`) }, {
    a: { conns: [conn('a')], creds: pskCredentials([{ ids: [], secret: 'sa-contexts test psk 0123456789' }]) },
    b: { conns: [conn('b')], creds: pskCredentials([{ ids: [], secret: secretB }]) },
  }, 1, backend);
  return { h, findings };
}

describe('crypto contexts of IKE SAs are disposed when the SAs go', () => {
  it.each(['aes128gcm16-prfsha256-x25519', 'aes256-sha256-x25519'])('%s: 5 setups, each with an IKE rekey, then a delete', (proposals) => {
    const c = counting();
    const { h, findings } = pair(c.backend, proposals);
    for (let i = 0; i < 5; i++) {
      h.a.initiate('gw', h.now);
      expect(h.settle()).toBeUndefined();
      const sa = h.a.listSas()[0];
      expect(sa?.sa.state).toBe('ESTABLISHED');
      expect(h.a.rekeyIke(sa!.sa.id, h.now)).toBe(true);
      expect(h.settle()).toBeUndefined();
      const now = h.a.listSas();
      expect(now).toHaveLength(1);
      expect(now[0]!.sa.id).not.toBe(sa!.sa.id);
      h.a.terminateIke(now[0]!.sa.id, h.now);
      expect(h.settle()).toBeUndefined();
      expect(h.a.listSas()).toHaveLength(0);
      expect(h.b.listSas()).toHaveLength(0);
    }
    expect(findings).toEqual([]);
    expect(c.created()).toBeGreaterThan(20);
    expect(c.live()).toBe(0);
  });

  it('a setup that fails authentication (wrong PSK) leaves no context behind', () => {
    const c = counting();
    const { h, findings } = pair(c.backend, 'aes128gcm16-prfsha256-x25519', 'another psk entirely 0123456789');
    h.a.initiate('gw', h.now);
    expect(h.settle()).toBeUndefined();
    expect(h.a.listSas()).toHaveLength(0);
    expect(h.b.listSas()).toHaveLength(0);
    expect(findings).toEqual([]);
    expect(c.created()).toBeGreaterThan(0);
    expect(c.live()).toBe(0);
  });
});

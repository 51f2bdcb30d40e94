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

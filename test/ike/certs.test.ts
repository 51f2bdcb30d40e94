/**
 * IKE_AUTH with certificates (RFC 7296 2.15, 3.6, 3.7; RFC 7427; RFC 4754) between two cygnet endpoints:
 *
 *   HDR, SK {IDi, CERT, CERTREQ, IDr, AUTH, SAi2, TSi, TSr}  -->  <--  HDR, SK {IDr, CERT, AUTH, SAr2, TSi, TSr}
 *
 * Chains of three (root -> intermediate -> host), each key type, and every refusal reaching both sides.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import { makePair, type Side } from './pair.js';
import type { IkeEvent } from '../../src/ike/events.js';
import type { Credentials } from '../../src/ike/config.js';
import { generateKey, issueCertificate, parseAuthKeyword, publicKeyOf, sameCertificate, signCrl, TrustStore, type Certificate, type PrivateKey } from '../../src/pki/index.js';

const NOW = Date.UTC(2026, 10, 22);
const DAY = 86_400_000;
const of = <T extends IkeEvent['type']>(s: Side, t: T) => s.events.filter((e): e is Extract<IkeEvent, { type: T }> => e.type === t);
let serial = 1;

interface Pki {
  root: Certificate;
  rootKey: PrivateKey;
  inter: Certificate;
  interKey: PrivateKey;
  host(cn: string, san: string[], type: 'rsa' | 'ecdsa' | 'ed25519', o?: { size?: number; notAfter?: number; notBefore?: number; flags?: ('serverAuth' | 'clientAuth' | 'ikeIntermediate')[] }): { cert: Certificate; key: PrivateKey };
}

function makePki(): Pki {
  const rootKey = generateKey({ type: 'ecdsa', size: 384 });
  const root = issueCertificate({ subject: 'C=CH, O=cygnet, CN=cygnet Root CA', publicKey: publicKeyOf(rootKey), signingKey: rootKey, serial: Uint8Array.of(serial++), notBefore: NOW - DAY, notAfter: NOW + 3650 * DAY, ca: true });
  const interKey = generateKey({ type: 'ecdsa', size: 256 });
  const inter = issueCertificate({ subject: 'C=CH, O=cygnet, CN=cygnet Intermediate CA', publicKey: publicKeyOf(interKey), issuer: root, signingKey: rootKey, serial: Uint8Array.of(serial++), notBefore: NOW - DAY, notAfter: NOW + 1000 * DAY, ca: true, pathLen: 0 });
  return {
    root, rootKey, inter, interKey,
    host(cn, san, type, o = {}) {
      const key = generateKey({ type, ...(type === 'rsa' ? { size: o.size ?? 2048 } : type === 'ecdsa' ? { size: 256 } : {}) });
      const cert = issueCertificate({ subject: `C=CH, O=cygnet, CN=${cn}`, publicKey: publicKeyOf(key), issuer: inter, signingKey: interKey, serial: Uint8Array.of(serial++), notBefore: o.notBefore ?? NOW - DAY, notAfter: o.notAfter ?? NOW + 365 * DAY, san, flags: o.flags ?? ['serverAuth', 'ikeIntermediate'] });
      return { cert, key };
    },
  };
}

function creds(pki: Pki, own: { cert: Certificate; key: PrivateKey }, crls: ReturnType<typeof signCrl>[] = []): Credentials {
  return { ...pskCredentials([]), privateKeyFor: (c) => (sameCertificate(c, own.cert) ? own.key : undefined), trust: new TrustStore([pki.root], crls) };
}

function pair(pki: Pki, a: { cert: Certificate; key: PrivateKey }, b: { cert: Certificate; key: PrivateKey }, o: { aId?: string; bId?: string; aRemoteId?: string; bRemoteId?: string; aAuth?: string; bAuth?: string; crlsA?: ReturnType<typeof signCrl>[]; crlsB?: ReturnType<typeof signCrl>[] } = {}) {
  const mk = (own: typeof a, localId: string | undefined, remoteId: string | undefined, auth: string | undefined, lts: string, rts: string, addr?: string) =>
    connection({
      name: 'gw', remoteAddrs: addr ? [addr] : ['%any'], sendCert: 'always',
      local: { auth: 'pubkey', ...(localId ? { id: localId } : {}), certs: [own.cert, pki.inter] },
      remote: { auth: 'pubkey', ...(remoteId ? { id: remoteId } : {}), ...(auth ? { keyword: parseAuthKeyword(auth)! } : {}) },
      children: [child('net', { localTs: [lts], remoteTs: [rts] })],
    });
  // The auth keyword applies to both sides: it selects our scheme (local) and constrains the peer's (remote).
  const withLocal = (c: ReturnType<typeof mk>, auth: string | undefined) => (auth ? { ...c, local: { ...c.local, keyword: parseAuthKeyword(auth)! } } : c);
  return makePair(
    { connections: [withLocal(mk(a, o.aId, o.aRemoteId, o.aAuth, '10.1.0.0/16', '10.0.0.0/8', '192.0.2.2'), o.aAuth)], credentials: creds(pki, a, o.crlsA) },
    { connections: [withLocal(mk(b, o.bId, o.bRemoteId, o.bAuth, '10.0.0.0/8', '10.1.0.0/16'), o.bAuth)], credentials: creds(pki, b, o.crlsB) },
    { settings: { epochOffsetMs: NOW } },
  );
}

function run(p: ReturnType<typeof pair>) {
  p.a.ep.initiate('gw', 0);
  p.sim.runUntil(() => (of(p.a, 'child-install').length > 0 && of(p.b, 'child-install').length > 0) || of(p.a, 'ike-down').length > 0, { maxTime: 60_000 });
}

let pki: Pki;
beforeAll(() => {
  pki = makePki();
});

describe('certificate authentication', () => {
  const cases: ['rsa' | 'ecdsa' | 'ed25519', number | undefined, string | undefined, RegExp][] = [
    ['ecdsa', undefined, undefined, /ECDSA/],
    ['rsa', 2048, undefined, /RSA/],
    ['rsa', 3072, 'rsa/pss', /PSS/],
    ['rsa', 4096, undefined, /RSA/],
    ['ed25519', undefined, undefined, /Ed25519|ED25519/i],
  ];
  for (const [type, size, auth, label] of cases) {
    it(`${type}${size ? ` ${size}` : ''}${auth ? ` ${auth}` : ''}: chain of three, IDs from the SAN, RFC 7427 signatures`, () => {
      const moon = pki.host('moon.example', ['moon.example'], type, size ? { size } : {});
      const sun = pki.host('sun.example', ['sun.example'], type, size ? { size } : {});
      const p = pair(pki, moon, sun, { aId: 'moon.example', bId: 'sun.example', aRemoteId: 'sun.example', bRemoteId: 'moon.example', ...(auth ? { aAuth: auth, bAuth: auth } : {}) });
      run(p);
      expect(of(p.a, 'ike-up')).toHaveLength(1);
      expect(of(p.b, 'ike-up')).toHaveLength(1);
      expect(of(p.a, 'child-install')).toHaveLength(1);
      const okLine = p.b.logs.find((l) => l.includes("authentication of 'moon.example' with"));
      expect(okLine).toMatch(label);
      expect(okLine).toMatch(/successful/);
    });
  }

  it('uses the certificate subject DN as identity when no id is configured', () => {
    const moon = pki.host('moon.example', ['moon.example'], 'ecdsa');
    const sun = pki.host('sun.example', ['sun.example'], 'ecdsa');
    const p = pair(pki, moon, sun);
    run(p);
    expect(of(p.b, 'ike-up')[0]?.sa.remoteId).toBe('C=CH, O=cygnet, CN=moon.example');
  });
});

describe('refusals name their cause on both sides', () => {
  function refused(p: ReturnType<typeof pair>, re: RegExp) {
    run(p);
    const down = [...of(p.a, 'ike-down'), ...of(p.b, 'ike-down')];
    expect(down.some((d) => d.reason === 'auth-failed')).toBe(true);
    const msgs = [...of(p.a, 'auth-failed'), ...of(p.b, 'auth-failed')].map((e) => e.message).join('\n');
    expect(msgs).toMatch(re);
    expect(p.a.ep.listSas().filter((s) => s.sa.state === 'ESTABLISHED')).toHaveLength(0);
    expect(p.b.ep.listSas().filter((s) => s.sa.state === 'ESTABLISHED')).toHaveLength(0);
  }
  it('expired', () => {
    const moon = pki.host('moon.example', ['moon.example'], 'ecdsa', { notBefore: NOW - 10 * DAY, notAfter: NOW - DAY });
    refused(pair(pki, moon, pki.host('sun.example', ['sun.example'], 'ecdsa'), { aId: 'moon.example' }), /EXPIRED/);
  });
  it('not yet valid', () => {
    const moon = pki.host('moon.example', ['moon.example'], 'ecdsa', { notBefore: NOW + DAY, notAfter: NOW + 10 * DAY });
    refused(pair(pki, moon, pki.host('sun.example', ['sun.example'], 'ecdsa'), { aId: 'moon.example' }), /NOT_YET_VALID/);
  });
  it('untrusted issuer', () => {
    const other = makePki();
    const moon = other.host('moon.example', ['moon.example'], 'ecdsa');
    const p = pair(pki, moon, pki.host('sun.example', ['sun.example'], 'ecdsa'), { aId: 'moon.example' });
    // A's certificate chains to a root B does not trust (A's own intermediate is sent, B only trusts pki.root).
    (p.a.ep as unknown as { conns: unknown }).conns = [connection({ name: 'gw', remoteAddrs: ['192.0.2.2'], sendCert: 'always', local: { auth: 'pubkey', id: 'moon.example', certs: [moon.cert, other.inter] }, remote: { auth: 'pubkey' }, children: [child('net', { localTs: ['10.1.0.0/16'], remoteTs: ['10.0.0.0/8'] })] })];
    refused(p, /UNTRUSTED_ISSUER/);
  });
  it('revoked (CRL)', () => {
    const moon = pki.host('moon.example', ['moon.example'], 'ecdsa');
    const crl = signCrl({ issuer: pki.inter, signingKey: pki.interKey, thisUpdate: NOW - DAY, nextUpdate: NOW + 7 * DAY, revoked: [{ serial: moon.cert.serial, date: NOW - DAY, reason: 'key-compromise' }], crlNumber: Uint8Array.of(1) });
    refused(pair(pki, moon, pki.host('sun.example', ['sun.example'], 'ecdsa'), { aId: 'moon.example', crlsB: [crl] }), /REVOKED/);
  });
  it('the peer ID is not in the certificate', () => {
    const moon = pki.host('moon.example', ['moon.example'], 'ecdsa');
    refused(pair(pki, moon, pki.host('sun.example', ['sun.example'], 'ecdsa'), { aId: 'mars.example' }), /mars\.example.*(not|contain)/);
  });
  it('wrong key type for auth = rsa', () => {
    const moon = pki.host('moon.example', ['moon.example'], 'ecdsa');
    refused(pair(pki, moon, pki.host('sun.example', ['sun.example'], 'rsa'), { aId: 'moon.example', bAuth: 'rsa' }), /ECDSA key, but the connection requires auth with RSA/);
  });
});

import { describe, expect, it } from 'vitest';
import {
  decodeSignatureHashes,
  encodeSignatureHashes,
  parseAuthKeyword,
  signAuth,
  verifyAuth,
  chooseDigitalSignatureScheme,
} from '../../src/pki/auth.js';
import { publicKeyOf } from '../../src/pki/keys.js';
import { decodeAlgorithmIdentifier } from '../../src/pki/sigalg.js';
import { isPkiError } from '../../src/pki/errors.js';
import { key } from './helpers.js';

const octets = new TextEncoder().encode('RealMessage1 | NonceRData | MACedIDForI');
const ALL = [2, 3, 4, 5];

describe('signAuth / verifyAuth round trips', () => {
  const cases: Array<[string, Parameters<typeof key>[0], Parameters<typeof signAuth>[2], number, string]> = [
    ['RSA legacy method 1', 'rsa2048', {}, 1, 'rsa-pkcs1/sha1'],
    ['RSA 2048 RFC 7427 PKCS#1', 'rsa2048', { peerHashes: ALL }, 14, 'rsa-pkcs1/sha256'],
    ['RSA 3072 RFC 7427 PKCS#1', 'rsa3072', { peerHashes: ALL }, 14, 'rsa-pkcs1/sha256'],
    ['RSA 4096 RFC 7427 PKCS#1 (SHA-384 as strongSwan)', 'rsa4096', { peerHashes: ALL }, 14, 'rsa-pkcs1/sha384'],
    ['RSA-PSS SHA-256', 'rsa2048', { peerHashes: ALL, scheme: 'rsa-pss' }, 14, 'rsa-pss/sha256'],
    ['RSA-PSS SHA-512 by config', 'rsa2048', { peerHashes: ALL, scheme: 'rsa-pss', hashes: ['sha512'] }, 14, 'rsa-pss/sha512'],
    ['RSA-PSS without peer hashes still method 14', 'rsa2048', { scheme: 'rsa-pss' }, 14, 'rsa-pss/sha256'],
    ['PKCS#1 SHA-384 from peer list', 'rsa2048', { peerHashes: [3] }, 14, 'rsa-pkcs1/sha384'],
    ['ECDSA P-256 method 9', 'ec256', {}, 9, 'ecdsa/sha256'],
    ['ECDSA P-384 method 10', 'ec384', {}, 10, 'ecdsa/sha384'],
    ['ECDSA P-521 method 11', 'ec521', {}, 11, 'ecdsa/sha512'],
    ['ECDSA P-256 RFC 7427', 'ec256', { peerHashes: ALL }, 14, 'ecdsa/sha256'],
    ['ECDSA P-384 RFC 7427', 'ec384', { peerHashes: ALL }, 14, 'ecdsa/sha384'],
    ['ECDSA P-256 RFC 7427 peer only SHA-512', 'ec256', { peerHashes: [4] }, 14, 'ecdsa/sha512'],
    ['Ed25519 RFC 7427 identity', 'ed25519', { peerHashes: ALL }, 14, 'ed25519/'],
    ['Ed25519 without peer hashes', 'ed25519', {}, 14, 'ed25519/'],
    ['forced method 9', 'ec256', { method: 9, peerHashes: ALL }, 9, 'ecdsa/sha256'],
    ['forced method 1', 'rsa2048', { method: 1, peerHashes: ALL }, 1, 'rsa-pkcs1/sha1'],
    ['no shared hash: legacy fallback', 'rsa2048', { peerHashes: [1] }, 1, 'rsa-pkcs1/sha1'],
  ];
  for (const [name, k, opts, method, scheme] of cases) {
    it(name, () => {
      const priv = key(k);
      const auth = signAuth(priv, octets, opts);
      expect(auth.method).toBe(method);
      expect(`${auth.scheme.kind}/${'hash' in auth.scheme ? auth.scheme.hash : ''}`).toBe(scheme);
      const pub = publicKeyOf(priv);
      expect(verifyAuth(pub, auth.method, auth.data, octets)).toMatchObject({ ok: true });
      // tampered octets and tampered signature both fail
      const bad = octets.slice();
      bad[0]! ^= 1;
      expect(verifyAuth(pub, auth.method, auth.data, bad).ok).toBe(false);
      const badSig = auth.data.slice();
      badSig[badSig.length - 3]! ^= 0x40;
      expect(verifyAuth(pub, auth.method, badSig, octets).ok).toBe(false);
    });
  }

  it('ECDSA legacy signatures are r|s of the fixed length (RFC 4754)', () => {
    expect(signAuth(key('ec256'), octets).data.length).toBe(64);
    expect(signAuth(key('ec384'), octets).data.length).toBe(96);
    expect(signAuth(key('ec521'), octets).data.length).toBe(132);
  });

  it('method 14 data is length | AlgorithmIdentifier | signature (RFC 7427 3)', () => {
    const a = signAuth(key('rsa2048'), octets, { peerHashes: ALL, scheme: 'rsa-pss' });
    const len = a.data[0]!;
    expect(decodeAlgorithmIdentifier(a.data.subarray(1, 1 + len))).toEqual({ kind: 'rsa-pss', hash: 'sha256', saltLength: 32 });
    expect(a.data.length - 1 - len).toBe(256);
    // RSASSA-PSS SHA-256, MGF1-SHA-256, salt 32: SEQUENCE of 65 content octets, 67 in all (0x43, RFC 7427 A.4.3).
    expect(len).toBe(0x43);
    expect(Buffer.from(a.data.subarray(1, 1 + len)).toString('hex')).toBe(
      '3041' + '06092a864886f70d01010a' + '3034' + 'a00f300d06096086480165030402010500' + 'a11c301a06092a864886f70d010108300d06096086480165030402010500' + 'a203020120',
    );
    const ecdsa = signAuth(key('ec256'), octets, { peerHashes: ALL });
    // ecdsa-with-SHA256 AlgorithmIdentifier (RFC 7427 A.3.1): 30 0a 06 08 2a 86 48 ce 3d 04 03 02
    expect(Buffer.from(ecdsa.data.subarray(0, 13)).toString('hex')).toBe('0c300a06082a8648ce3d040302');
    expect(ecdsa.data[13]).toBe(0x30); // DER Ecdsa-Sig-Value
    const ed = signAuth(key('ed25519'), octets, { peerHashes: ALL });
    expect(Buffer.from(ed.data.subarray(0, 8)).toString('hex')).toBe('07300506032b6570');
    const pk = signAuth(key('rsa2048'), octets, { peerHashes: ALL });
    // sha256WithRSAEncryption with NULL (RFC 7427 A.2.1): 30 0d 06 09 2a 86 48 86 f7 0d 01 01 0b 05 00
    expect(Buffer.from(pk.data.subarray(0, 16)).toString('hex')).toBe('0f300d06092a864886f70d01010b0500');
  });
});

describe('refusals', () => {
  const rsaPub = publicKeyOf(key('rsa2048'));
  const ecPub = publicKeyOf(key('ec256'));
  it('signature made by another key', () => {
    const a = signAuth(key('rsa2048b'), octets, { peerHashes: ALL });
    const r = verifyAuth(rsaPub, a.method, a.data, octets);
    expect(r).toMatchObject({ ok: false });
    expect(!r.ok && r.reason).toMatch(/SHA256 with RSA.*does not verify/);
  });
  it('method that does not fit the key type', () => {
    const a = signAuth(key('ec256'), octets);
    expect(verifyAuth(rsaPub, 9, a.data, octets)).toMatchObject({ ok: false, reason: expect.stringMatching(/ECDSA P-256.*RSA/) });
    const r = signAuth(key('rsa2048'), octets);
    expect(verifyAuth(ecPub, 1, r.data, octets)).toMatchObject({ ok: false, reason: expect.stringMatching(/method 1/) });
    expect(verifyAuth(publicKeyOf(key('ec384')), 9, a.data, octets)).toMatchObject({ ok: false });
    const rsa14 = signAuth(key('rsa2048'), octets, { peerHashes: ALL });
    expect(verifyAuth(ecPub, 14, rsa14.data, octets)).toMatchObject({ ok: false, reason: expect.stringMatching(/holds a ECDSA key/) });
  });
  it('malformed AUTH data', () => {
    expect(verifyAuth(rsaPub, 14, new Uint8Array(0), octets).ok).toBe(false);
    expect(verifyAuth(rsaPub, 14, Uint8Array.of(200, 1, 2), octets).ok).toBe(false);
    expect(verifyAuth(rsaPub, 14, Uint8Array.of(3, 1, 2, 3, 4), octets).ok).toBe(false);
    expect(verifyAuth(ecPub, 9, new Uint8Array(63), octets)).toMatchObject({ ok: false, reason: expect.stringMatching(/64/) });
    expect(verifyAuth(rsaPub, 2, new Uint8Array(10), octets)).toMatchObject({ ok: false, reason: expect.stringMatching(/not a signature method/) });
  });
  it('policy: rsa/pss required but PKCS#1 used; hash not accepted; key type', () => {
    const a = signAuth(key('rsa2048'), octets, { peerHashes: ALL });
    expect(verifyAuth(rsaPub, a.method, a.data, octets, { scheme: 'rsa-pss' })).toMatchObject({ ok: false, reason: expect.stringMatching(/RSASSA-PSS/) });
    expect(verifyAuth(rsaPub, a.method, a.data, octets, { hashes: ['sha512'] })).toMatchObject({ ok: false, reason: expect.stringMatching(/sha512/) });
    expect(verifyAuth(rsaPub, a.method, a.data, octets, { keyType: 'ecdsa' })).toMatchObject({ ok: false, reason: expect.stringMatching(/ECDSA/) });
    expect(verifyAuth(rsaPub, a.method, a.data, octets, parseAuthKeyword('rsa-3072')!)).toMatchObject({ ok: false, reason: expect.stringMatching(/2048-bit RSA key.*at least 3072/) });
    expect(verifyAuth(rsaPub, a.method, a.data, octets, parseAuthKeyword('ecdsa-ed25519')!)).toMatchObject({ ok: false, reason: expect.stringMatching(/accepts only ECDSA, ED25519/) });
    expect(verifyAuth(rsaPub, a.method, a.data, octets, parseAuthKeyword('rsa-2048-ecdsa-256')!)).toMatchObject({ ok: true });
  });
  it('cannot sign: Ed25519 when the peer lacks Identity; wrong forced method', () => {
    expect(() => signAuth(key('ed25519'), octets, { peerHashes: [2] })).toThrow(/identity/);
    expect(() => signAuth(key('ec256'), octets, { method: 10 })).toThrow(/P-384/);
    expect(() => signAuth(key('ec256'), octets, { method: 1 })).toThrow(/RSA key/);
    try {
      signAuth(key('rsa2048'), octets, { method: 14, peerHashes: [1], hashes: ['sha256'] });
      expect.unreachable();
    } catch (e) {
      expect(isPkiError(e, 'UNSUPPORTED')).toBe(true);
    }
  });
});

describe('SIGNATURE_HASH_ALGORITHMS', () => {
  it('encodes and decodes 2-octet ids', () => {
    expect(Buffer.from(encodeSignatureHashes()).toString('hex')).toBe('0002000300040005');
    expect(decodeSignatureHashes(Uint8Array.of(0, 2, 0, 4))).toEqual([2, 4]);
    expect(() => decodeSignatureHashes(Uint8Array.of(0, 2, 0))).toThrow(/odd/);
  });
  it('chooses the key preferred hash the peer supports', () => {
    expect(chooseDigitalSignatureScheme(key('rsa4096'), { peerHashes: [2] })).toBeUndefined();
    expect(chooseDigitalSignatureScheme(key('rsa4096'), { peerHashes: [2], hashes: ['sha256'] })).toEqual({ kind: 'rsa-pkcs1', hash: 'sha256' });
    expect(chooseDigitalSignatureScheme(key('ec384'), { peerHashes: [2, 3] })).toEqual({ kind: 'ecdsa', hash: 'sha384' });
  });
});

describe('parseAuthKeyword', () => {
  it('parses swanctl keywords', () => {
    expect(parseAuthKeyword('pubkey')).toEqual({});
    expect(parseAuthKeyword('rsa/pss')).toEqual({ keyType: 'rsa', scheme: 'rsa-pss' });
    expect(parseAuthKeyword('pubkey-sha384-sha256')).toEqual({ hashes: ['sha384', 'sha256'] });
    expect(parseAuthKeyword('ecdsa-sha256')).toEqual({ keyType: 'ecdsa', hashes: ['sha256'] });
    expect(parseAuthKeyword('rsa/pss-sha512')).toEqual({ keyType: 'rsa', scheme: 'rsa-pss', hashes: ['sha512'] });
    expect(parseAuthKeyword('ed25519')).toEqual({ keyType: 'ed25519' });
    expect(parseAuthKeyword('pubkey-ike:sha256')).toEqual({ hashes: ['sha256'], ikeOnly: true });
    expect(parseAuthKeyword('ike:rsa/pss-sha256')).toEqual({ keyType: 'rsa', scheme: 'rsa-pss', hashes: ['sha256'], ikeOnly: true });
    expect(parseAuthKeyword('rsa-2048-ecdsa-256-sha256')).toEqual({ keyTypes: ['rsa', 'ecdsa'], minKeyBits: { rsa: 2048, ecdsa: 256 }, hashes: ['sha256'] });
    expect(parseAuthKeyword('ecdsa-384')).toEqual({ keyType: 'ecdsa', minKeyBits: { ecdsa: 384 } });
    expect(parseAuthKeyword('ed25519-identity')).toEqual({ keyType: 'ed25519' });
    expect(() => parseAuthKeyword('pubkey-2048')).toThrow(/must follow a key type/);
    expect(parseAuthKeyword('psk')).toBeUndefined();
    expect(parseAuthKeyword('eap-mschapv2')).toBeUndefined();
    expect(() => parseAuthKeyword('pubkey-md5')).toThrow(/md5/);
  });
});

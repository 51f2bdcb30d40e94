/**
 * EAP-TLS key derivation (vectors/eap_tls.json): the RFC 5216 2.3 and RFC 9190 2.3 formulas checked against the
 * vectors, then the MSK cygnet's EAP-TLS produced in live TLS 1.2 and TLS 1.3 handshakes (node:tls exporter)
 * checked against the same formulas fed with the secrets from the key log.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/crypto/random.js';
import { EapPeer } from '../../src/eap/peer.js';
import { EapServer } from '../../src/eap/server.js';
import { converse } from '../../src/eap/testing.js';
import { eapTlsPlugin, type TlsVersion } from '../../src/eap-tls/index.js';
import { generateKey, issueCertificate, publicKeyOf } from '../../src/pki/index.js';
import { hex, loadVectors, str, toHex } from './helpers.js';

type Hash = 'sha256' | 'sha384';
const hmac = (h: Hash, key: Uint8Array, ...data: Uint8Array[]): Uint8Array => {
  const m = createHmac(h, key);
  for (const d of data) m.update(d);
  return new Uint8Array(m.digest());
};
const cat = (...p: Uint8Array[]): Uint8Array => Uint8Array.from(p.flatMap((x) => [...x]));
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** RFC 5246 5: PRF(secret, label, seed) = P_SHA256(secret, label || seed). */
function prf12(secret: Uint8Array, label: string, seed: Uint8Array, n: number): Uint8Array {
  const s = cat(ascii(label), seed);
  let a: Uint8Array = s;
  let out: Uint8Array = new Uint8Array(0);
  while (out.length < n) {
    a = hmac('sha256', secret, a);
    out = cat(out, hmac('sha256', secret, a, s));
  }
  return out.slice(0, n);
}
/** RFC 8446 7.1 HKDF-Expand-Label and 7.5 TLS-Exporter. */
function expandLabel(h: Hash, secret: Uint8Array, label: string, context: Uint8Array, n: number): Uint8Array {
  const full = ascii(`tls13 ${label}`);
  const info = cat(Uint8Array.of(n >> 8, n & 0xff, full.length), full, Uint8Array.of(context.length), context);
  let t: Uint8Array = new Uint8Array(0);
  let out: Uint8Array = new Uint8Array(0);
  for (let i = 1; out.length < n; i++) {
    t = hmac(h, secret, t, info, Uint8Array.of(i));
    out = cat(out, t);
  }
  return out.slice(0, n);
}
const digest = (h: Hash, d: Uint8Array): Uint8Array => new Uint8Array(createHash(h).update(d).digest());
function exporter13(h: Hash, secret: Uint8Array, label: string, context: Uint8Array, n: number): Uint8Array {
  const derived = expandLabel(h, secret, label, digest(h, new Uint8Array(0)), h === 'sha256' ? 32 : 48);
  return expandLabel(h, derived, 'exporter', digest(h, context), n);
}

const file = loadVectors('eap_tls.json');

describe('vectors: eap_tls.json', () => {
  for (const e of file.entries) {
    it(`${e.id} (${e.source})`, () => {
      const km = e.id.startsWith('rfc5216')
        ? prf12(hex(e.master_secret), 'client EAP encryption', cat(hex(e.client_random), hex(e.server_random)), 128)
        : exporter13(str(e, 'hash') as Hash, hex(e.exporter_master_secret), 'EXPORTER_EAP_TLS_Key_Material', Uint8Array.of(13), 128);
      expect(toHex(km)).toBe(str(e, 'key_material'));
    });
  }
});

const NOW = Date.now();
const caKey = generateKey({ type: 'ecdsa', size: 256 });
const ca = issueCertificate({ subject: 'CN=KAT CA', publicKey: publicKeyOf(caKey), signingKey: caKey, serial: randomBytes(8), notBefore: NOW - 60_000, notAfter: NOW + 3_600_000, ca: true });
const leaf = (san: string) => {
  const key = generateKey({ type: 'ecdsa', size: 256 });
  return { key, cert: issueCertificate({ subject: `CN=${san}`, publicKey: publicKeyOf(key), issuer: ca, signingKey: caKey, serial: randomBytes(8), notBefore: NOW - 60_000, notAfter: NOW + 3_600_000, san: [san] }) };
};
const gw = leaf('gw.example.org');
const user = leaf('user@example.org');

describe('EAP-TLS MSK in live handshakes equals RFC 5216 2.3 / RFC 9190 2.3 over the key-logged secrets', () => {
  for (const version of ['TLSv1.2', 'TLSv1.3'] as TlsVersion[]) {
    it(version, async () => {
      const lines: string[] = [];
      const keylog = (l: string): void => {
        lines.push(l);
      };
      const server = new EapServer({ ikeIdentity: 'user@example.org', ownIdentity: 'gw.example.org', methods: ['tls'], random: seededRandom(1), plugins: [eapTlsPlugin({ certs: [gw.cert], key: gw.key, cas: [ca], maxVersion: version, keylog })] });
      const peer = new EapPeer({ identity: 'user@example.org', serverIdentity: 'gw.example.org', methods: ['tls'], random: seededRandom(2), plugins: [eapTlsPlugin({ certs: [user.cert], key: user.key, cas: [ca], maxVersion: version })] });
      const c = await converse(server, peer);
      if (c.server.kind !== 'success' || c.peer?.kind !== 'success') throw new Error(`handshake failed: ${JSON.stringify(c.server)}`);
      const msk = c.server.msk;
      expect(msk).toEqual(c.peer.msk);
      const field = (name: string): string[] => {
        const l = lines.find((x) => x.startsWith(`${name} `));
        if (l === undefined) throw new Error(`no ${name} in the key log: ${lines.join(' | ')}`);
        return l.split(' ');
      };
      let expected: Uint8Array;
      if (version === 'TLSv1.2') {
        const [, clientRandom, master] = field('CLIENT_RANDOM');
        // server.random: the ServerHello (record 5 + handshake header 4 + version 2 octets in) of the server's first flight
        const first = c.packets.find(([w, p]) => w === 'server' && p[0] === 1 && p[4] === 13 && p.length > 10);
        if (first === undefined) throw new Error('no server TLS data');
        const p = first[1];
        const tls = p.subarray(((p[5] ?? 0) & 0x80) !== 0 ? 10 : 6);
        expect([tls[0], tls[5]]).toEqual([0x16, 0x02]);
        expected = prf12(hex(master), 'client EAP encryption', cat(hex(clientRandom), tls.subarray(11, 43)), 128).subarray(0, 64);
      } else {
        const [, , secret] = field('EXPORTER_SECRET');
        const s = hex(secret);
        expected = exporter13(s.length === 48 ? 'sha384' : 'sha256', s, 'EXPORTER_EAP_TLS_Key_Material', Uint8Array.of(13), 128).subarray(0, 64);
      }
      expect(toHex(msk ?? new Uint8Array(0))).toBe(toHex(expected));
    }, 20_000);
  }
});

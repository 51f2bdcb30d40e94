/**
 * Decoders under mutation: every parser either returns a value or throws a PkiError (never anything else), and
 * verifyAuth/validateChain never throw at all.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/pki/certificate.js';
import { parseCrl } from '../../src/pki/crl.js';
import { isPkiError } from '../../src/pki/errors.js';
import { loadPrivateKey, loadPublicKey, publicKeyOf } from '../../src/pki/keys.js';
import { parsePkcs12 } from '../../src/pki/pkcs12.js';
import { decodeAlgorithmIdentifier } from '../../src/pki/sigalg.js';
import { signAuth, verifyAuth, parseAuthKeyword, decodeSignatureHashes } from '../../src/pki/auth.js';
import { TrustStore, validateChain } from '../../src/pki/validate.js';
import { pemEncode } from '../../src/pki/der.js';
import { fixture, key } from './helpers.js';

function typedOnly(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!isPkiError(e)) throw new Error(`untyped error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
}

/** A mutation of `base`: flip bytes, truncate, or splice random bytes in. */
const mutated = (base: Uint8Array) =>
  fc.oneof(
    fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }).map((flips) => {
      const b = base.slice();
      for (const [i, x] of flips) b[i]! ^= x;
      return b;
    }),
    fc.nat(base.length - 1).map((n) => base.slice(0, n)),
    fc.tuple(fc.nat(base.length - 1), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([i, ins]) => new Uint8Array([...base.slice(0, i), ...ins, ...base.slice(i)])),
  );

const certDer = (() => {
  const pem = Buffer.from(fixture('swan/laptop.pem')).toString();
  return Uint8Array.from(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
})();
const crlDer = Uint8Array.from(Buffer.from(Buffer.from(fixture('swan/ca.crl')).toString().replace(/-----[^-]+-----|\s/g, ''), 'base64'));

describe('fuzz: decoders give a value or a PkiError', () => {
  it('parseCertificate', () => {
    fc.assert(fc.property(mutated(certDer), (b) => typedOnly(() => parseCertificate(b))), { numRuns: 1500 });
  });
  it('parseCrl', () => {
    fc.assert(fc.property(mutated(crlDer), (b) => typedOnly(() => parseCrl(b))), { numRuns: 1000 });
  });
  it('loadPrivateKey / loadPublicKey (DER and PEM-wrapped)', () => {
    const der = new Uint8Array(key('ec256').keyObject.export({ format: 'der', type: 'pkcs8' }));
    fc.assert(
      fc.property(mutated(der), fc.boolean(), (b, pem) => {
        const input = pem ? new TextEncoder().encode(pemEncode('PRIVATE KEY', b)) : b;
        typedOnly(() => loadPrivateKey(input));
        typedOnly(() => loadPublicKey(input));
      }),
      { numRuns: 800 },
    );
  });
  it('parsePkcs12', () => {
    const p12 = fixture('swan/laptop-3des.p12');
    fc.assert(fc.property(mutated(p12), (b) => typedOnly(() => parsePkcs12(b, 'secret'))), { numRuns: 300 });
  });
  it('decodeAlgorithmIdentifier, decodeSignatureHashes, parseAuthKeyword on arbitrary input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.string(), (b, s) => {
        typedOnly(() => decodeAlgorithmIdentifier(b));
        typedOnly(() => decodeSignatureHashes(b));
        typedOnly(() => parseAuthKeyword(s));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('fuzz: verifiers never throw', () => {
  const octets = Uint8Array.of(1, 2, 3, 4);
  const pub = publicKeyOf(key('rsa2048'));
  const pss = signAuth(key('rsa2048'), octets, { peerHashes: [2], scheme: 'rsa-pss' });
  it('verifyAuth on mutated RFC 7427 AUTH data and any method', () => {
    fc.assert(
      fc.property(mutated(pss.data), fc.integer({ min: 0, max: 255 }), (data, method) => {
        const r = verifyAuth(pub, method, data, octets);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 1500 },
    );
  });
  it('validateChain on certificates that still parse after mutation', () => {
    const store = new TrustStore([parseCertificate(Uint8Array.from(Buffer.from(Buffer.from(fixture('swan/ca.pem')).toString().replace(/-----[^-]+-----|\s/g, ''), 'base64')))]);
    fc.assert(
      fc.property(mutated(certDer), fc.integer({ min: 0, max: 2 ** 42 }), (b, now) => {
        let c;
        try {
          c = parseCertificate(b);
        } catch {
          return;
        }
        const r = validateChain(c, [], store, now);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 1000 },
    );
  });
});

/**
 * Key exchange on node:crypto. The private value always comes from the injected RandomSource: node lets us set it
 * for DH (setPrivateKey), ECDH (setPrivateKey) and X25519/X448 (a raw key imported as a JWK), so nothing here calls
 * the system RNG and a seeded source reproduces an exchange byte for byte. No ASN.1 (DER) key is built or parsed:
 * that path is OpenSSL 3's decoder framework and cost more than the curve arithmetic (issue 17).
 */
import {
  createDiffieHellman,
  createECDH,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  getCurves,
  type KeyObject,
} from 'node:crypto';
import { modpGroup, type ModpGroup } from '../modp.js';
import type { RandomSource } from '../random.js';
import type { KeyExchange } from '../types.js';
import { unsupported } from './checks.js';
import {
  checkEcpPeerLength,
  checkMontgomeryPeer,
  checkNotAllZero,
  drawEcpScalar,
  drawModpExponent,
  ECP_CURVES,
  groupLabel,
  invalidKe,
  leftPad,
  liveKey,
  MONTGOMERY_BYTES,
  validateModpPeer,
  type EcpCurve,
} from './kex-common.js';

const nodeCurves = new Set(getCurves());

export function nodeHasKeyExchange(group: number): boolean {
  if (modpGroup(group)) return true;
  const c = ECP_CURVES.get(group);
  if (c) return nodeCurves.has(c.nodeName);
  return MONTGOMERY_BYTES.has(group);
}

export function nodeCreateKeyExchange(group: number, random: RandomSource): KeyExchange {
  const m = modpGroup(group);
  if (m) return modpExchange(m, random);
  const c = ECP_CURVES.get(group);
  if (c && nodeCurves.has(c.nodeName)) return ecpExchange(c, random);
  const crv = JWK_CURVE.get(group);
  const n = MONTGOMERY_BYTES.get(group);
  if (crv !== undefined && n !== undefined) return montgomeryExchange(group, crv, n, random);
  throw unsupported('node', `key exchange ${groupLabel(group)}`);
}

function modpExchange(g: ModpGroup, random: RandomSource): KeyExchange {
  const what = `node ${groupLabel(g.id)}`;
  const priv = drawModpExponent(g, random);
  let dh: ReturnType<typeof createDiffieHellman> | undefined = createDiffieHellman(
    Buffer.from(g.prime, 'hex'),
    Buffer.from(g.generator, 'hex'),
  );
  dh.setPrivateKey(priv);
  // With a private key set, generateKeys() only computes g^x mod p; the KE data is padded to the prime length.
  const publicValue = leftPad(new Uint8Array(dh.generateKeys()), g.primeBytes);
  return {
    group: g.id,
    publicValue,
    computeSharedSecret(peerPublic) {
      const live = liveKey(what, dh);
      validateModpPeer(g, peerPublic);
      return leftPad(new Uint8Array(live.computeSecret(peerPublic)), g.primeBytes);
    },
    dispose() {
      priv.fill(0);
      dh = undefined;
    },
  };
}

function ecpExchange(c: EcpCurve, random: RandomSource): KeyExchange {
  const what = `node ${groupLabel(c.group)}`;
  const priv = drawEcpScalar(c, random);
  let ecdh: ReturnType<typeof createECDH> | undefined = createECDH(c.nodeName);
  ecdh.setPrivateKey(priv);
  // RFC 5903 section 7: the KE payload is x | y, the uncompressed point without its 0x04 octet.
  const publicValue = new Uint8Array(ecdh.getPublicKey()).subarray(1);
  return {
    group: c.group,
    publicValue,
    computeSharedSecret(peerPublic) {
      const live = liveKey(what, ecdh);
      checkEcpPeerLength(c, peerPublic);
      const point = new Uint8Array(1 + peerPublic.length);
      point[0] = 0x04;
      point.set(peerPublic, 1);
      let x: Buffer;
      try {
        // OpenSSL refuses a point that is not on the curve (EC_POINT_oct2point + EC_POINT_is_on_curve).
        x = live.computeSecret(point);
      } catch {
        throw invalidKe(c.group, 'is not a point on the curve');
      }
      // RFC 5903 section 7: the shared secret is the x coordinate alone, field-length.
      return leftPad(new Uint8Array(x), c.coordBytes);
    },
    dispose() {
      priv.fill(0);
      ecdh = undefined;
    },
  };
}

/** JWK curve names of RFC 8037 section 2 for the Montgomery groups of RFC 8031. */
const JWK_CURVE: ReadonlyMap<number, 'X25519' | 'X448'> = new Map([
  [31, 'X25519'],
  [32, 'X448'],
]);

/**
 * X25519/X448 through node's raw-key import. A JWK (RFC 8037 section 2) is the one node:crypto door to
 * EVP_PKEY_new_raw_private_key / _public_key: node reads `d` (or `x`) as the raw key, no ASN.1 decoder runs. The
 * DER (PKCS#8 / SPKI) import used before went through OpenSSL 3's decoder framework, ~380 us per private key and
 * ~80 us per public key, 54% of an in-process IKE setup (issue 17); this form costs one scalar multiplication to
 * import the private key (OpenSSL derives the public key then) and one to derive. For a private key node ignores
 * `x` (it must only be a string), so nothing is computed twice.
 */
function montgomeryExchange(group: number, crv: 'X25519' | 'X448', n: number, random: RandomSource): KeyExchange {
  const what = `node ${groupLabel(group)}`;
  // RFC 7748 section 6: the private key is n random bytes; clamping happens inside X25519()/X448().
  const raw = random.fill(new Uint8Array(n));
  const d = Buffer.from(raw.buffer, raw.byteOffset, n).toString('base64url');
  raw.fill(0);
  let priv: KeyObject | undefined = createPrivateKey({ key: { kty: 'OKP', crv, d, x: '' }, format: 'jwk' });
  const x = createPublicKey(priv).export({ format: 'jwk' }).x ?? '';
  const publicValue = new Uint8Array(Buffer.from(x, 'base64url'));
  return {
    group,
    publicValue,
    computeSharedSecret(peerPublic) {
      const key = liveKey(what, priv);
      checkMontgomeryPeer(group, peerPublic);
      let s: Buffer;
      try {
        const px = Buffer.from(peerPublic.buffer, peerPublic.byteOffset, peerPublic.length).toString('base64url');
        const pub = createPublicKey({ key: { kty: 'OKP', crv, x: px }, format: 'jwk' });
        s = diffieHellman({ privateKey: key, publicKey: pub });
      } catch {
        // OpenSSL fails the derivation exactly when the result is all zero (RFC 7748 section 6.1).
        throw invalidKe(group, 'gives an all-zero shared secret (low-order point, RFC 8031 section 2.3)');
      }
      const out = new Uint8Array(s);
      checkNotAllZero(group, out);
      return out;
    },
    dispose() {
      priv = undefined;
    },
  };
}

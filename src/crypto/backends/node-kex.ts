/**
 * Key exchange on node:crypto. The private value always comes from the injected RandomSource: node lets us set it
 * for DH (setPrivateKey), ECDH (setPrivateKey) and X25519/X448 (a raw key wrapped in PKCS#8), so nothing here calls
 * the system RNG and a seeded source reproduces an exchange byte for byte.
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
import { checkNotDisposed, unsupported } from './checks.js';
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
  if (MONTGOMERY_BYTES.has(group)) return montgomeryExchange(group, random);
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
      checkNotDisposed(what, dh === undefined);
      validateModpPeer(g, peerPublic);
      const s = leftPad(new Uint8Array(dh!.computeSecret(peerPublic)), g.primeBytes);
      return s;
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
      checkNotDisposed(what, ecdh === undefined);
      checkEcpPeerLength(c, peerPublic);
      const point = new Uint8Array(1 + peerPublic.length);
      point[0] = 0x04;
      point.set(peerPublic, 1);
      let x: Buffer;
      try {
        // OpenSSL refuses a point that is not on the curve (EC_POINT_oct2point + EC_POINT_is_on_curve).
        x = ecdh!.computeSecret(point);
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

// DER prefixes that wrap a raw X25519/X448 key as PKCS#8 / SubjectPublicKeyInfo (RFC 8410 section 7, OIDs
// 1.3.101.110 and 1.3.101.111), the only way node:crypto imports a raw private key of these curves.
const PKCS8_PREFIX: Record<number, string> = {
  31: '302e020100300506032b656e04220420',
  32: '3046020100300506032b656f043a0438',
};
const SPKI_PREFIX: Record<number, string> = {
  31: '302a300506032b656e032100',
  32: '3042300506032b656f033900',
};

function wrap(prefix: string, raw: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(prefix, 'hex'), raw]);
}

function montgomeryExchange(group: number, random: RandomSource): KeyExchange {
  const what = `node ${groupLabel(group)}`;
  const n = MONTGOMERY_BYTES.get(group)!;
  // RFC 7748 section 6: the private key is n random bytes; clamping happens inside X25519()/X448().
  const raw = random.fill(new Uint8Array(n));
  const der = wrap(PKCS8_PREFIX[group]!, raw);
  let priv: KeyObject | undefined = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  der.fill(0);
  raw.fill(0);
  const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' });
  const publicValue = new Uint8Array(spki.subarray(spki.length - n));
  return {
    group,
    publicValue,
    computeSharedSecret(peerPublic) {
      checkNotDisposed(what, priv === undefined);
      checkMontgomeryPeer(group, peerPublic);
      let s: Buffer;
      try {
        const pub = createPublicKey({ key: wrap(SPKI_PREFIX[group]!, peerPublic), format: 'der', type: 'spki' });
        s = diffieHellman({ privateKey: priv!, publicKey: pub });
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

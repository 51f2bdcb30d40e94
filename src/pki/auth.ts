/**
 * IKEv2 signature authentication (RFC 7296 2.15 and 3.8, RFC 4754, RFC 7427, RFC 8420).
 *
 * The caller computes the signed octets (InitiatorSignedOctets / ResponderSignedOctets, RFC 7296 2.15: RealMessage |
 * Nonce | prf(SK_p, RestOfIDPayload)); this module turns them into the AUTH payload's method + data and back.
 *
 *   method 1  RSA Digital Signature: RSASSA-PKCS1-v1_5 with SHA-1 (the hash every implementation uses for it)
 *   method 9  ECDSA with SHA-256 on P-256, method 10 SHA-384 on P-384, method 11 SHA-512 on P-521 (RFC 4754 7:
 *             signature is r | s, each as long as the curve's order)
 *   method 14 Digital Signature (RFC 7427 3): | ASN.1 length (1 octet) | AlgorithmIdentifier DER | signature |,
 *             ECDSA signatures DER-encoded (RFC 7427 3, RFC 3279), Ed25519 with the "Identity" hash (RFC 8420).
 *
 * Scheme choice follows strongSwan 5.9 so the two interoperate: when the peer sent SIGNATURE_HASH_ALGORITHMS
 * (RFC 7427 4), method 14 with the key's preferred hash that the peer supports (RSA <= 3072 bits: SHA-256, SHA-384,
 * SHA-512; larger: SHA-384, SHA-512; ECDSA by curve; Ed25519: Identity), RSA PKCS#1 v1.5 unless RSA-PSS is asked for
 * (`auth = rsa/pss`, strongSwan's charon.rsa_pss); otherwise the legacy method of the key type (1 or 9/10/11).
 */
import type { Certificate } from './certificate.js';
import { concatBytes } from './der.js';
import { PkiError } from './errors.js';
import type { KeyType, PrivateKey, PublicKey } from './keys.js';
import {
  decodeAlgorithmIdentifier,
  encodeAlgorithmIdentifier,
  HASH_LENGTH,
  schemeFitsKey,
  schemeName,
  signWithScheme,
  verifyWithScheme,
  type HashName,
  type SignatureScheme,
} from './sigalg.js';

/** IKEv2 Authentication Method numbers (IANA "IKEv2 Authentication Method"). */
export const SignatureAuthMethod = {
  RSA_DIGITAL_SIGNATURE: 1,
  ECDSA_SHA256_P256: 9,
  ECDSA_SHA384_P384: 10,
  ECDSA_SHA512_P521: 11,
  DIGITAL_SIGNATURE: 14,
} as const;
export type SignatureAuthMethodNumber = (typeof SignatureAuthMethod)[keyof typeof SignatureAuthMethod];

/** Hash Algorithm Identifiers of SIGNATURE_HASH_ALGORITHMS (RFC 7427 4, IANA; Identity from RFC 8420). */
export const SignatureHashAlgorithm = { SHA1: 1, SHA2_256: 2, SHA2_384: 3, SHA2_512: 4, IDENTITY: 5 } as const;

const HASH_TO_ID: Record<HashName, number> = { sha1: 1, sha256: 2, sha384: 3, sha512: 4 };
const ID_TO_HASH: Record<number, HashName> = { 1: 'sha1', 2: 'sha256', 3: 'sha384', 4: 'sha512' };

/**
 * What we announce in our SIGNATURE_HASH_ALGORITHMS notify (as strongSwan 5.9 does without SHA-1, which
 * RFC 8247 3.2 says MUST NOT be used for new signatures): SHA2-256, SHA2-384, SHA2-512, Identity.
 */
export const SUPPORTED_SIGNATURE_HASHES: readonly number[] = [2, 3, 4, 5];

/** Notify data of SIGNATURE_HASH_ALGORITHMS (16404): a list of 2-octet hash algorithm identifiers. */
export function encodeSignatureHashes(ids: readonly number[] = SUPPORTED_SIGNATURE_HASHES): Uint8Array {
  const out = new Uint8Array(ids.length * 2);
  ids.forEach((id, i) => {
    out[2 * i] = (id >> 8) & 0xff;
    out[2 * i + 1] = id & 0xff;
  });
  return out;
}

/** Parses SIGNATURE_HASH_ALGORITHMS notify data; an odd length is an error (RFC 7427 4). Unknown ids are kept. */
export function decodeSignatureHashes(data: Uint8Array): number[] {
  const r = parseSignatureHashes(data);
  if (!r.ok) throw new PkiError('BAD_ENCODING', r.reason);
  return r.ids;
}

/**
 * decodeSignatureHashes for peer input on the IKE path: never throws. RFC 7427 4 makes the data a list of 2-octet
 * Hash Algorithm Identifiers, so an odd length is malformed (the caller answers or fails per RFC 7296 2.21).
 */
export function parseSignatureHashes(data: Uint8Array): { readonly ok: true; readonly ids: number[] } | { readonly ok: false; readonly reason: string } {
  if (data.length % 2 !== 0) return { ok: false, reason: `SIGNATURE_HASH_ALGORITHMS data has odd length ${data.length}` };
  const ids: number[] = [];
  for (let i = 0; i < data.length; i += 2) ids.push((data[i]! << 8) | data[i + 1]!);
  return { ok: true, ids };
}

/** Constraints from a swanctl `auth` keyword (see parseAuthKeyword) and per-call choices. */
export interface SignatureAuthOptions {
  /** Force an AUTH method; 'auto' (default) chooses as described at the top of this file. */
  readonly method?: 'auto' | SignatureAuthMethodNumber;
  /** RSA padding for method 14: 'pkcs1' (default, as strongSwan) or 'rsa-pss'. */
  readonly scheme?: 'pkcs1' | 'rsa-pss';
  /** Hashes we are willing to use, in preference order (from `pubkey-sha384` ...); default: the key's order. */
  readonly hashes?: readonly HashName[];
  /** The peer's SIGNATURE_HASH_ALGORITHMS list; undefined when it sent none (then legacy methods are used). */
  readonly peerHashes?: readonly number[];
}

export interface SignatureAuth {
  readonly method: SignatureAuthMethodNumber;
  readonly data: Uint8Array;
  /** What was used, for logs ("RSASSA-PSS SHA256"). */
  readonly scheme: SignatureScheme;
}

/** The key's hash preference (strongSwan libstrongswan public_key.c signature_schemes_for_key). */
export function keyHashPreference(key: PrivateKey | PublicKey): HashName[] {
  if (key.type === 'rsa') return key.bits <= 3072 ? ['sha256', 'sha384', 'sha512'] : key.bits <= 7680 ? ['sha384', 'sha512'] : ['sha512'];
  if (key.type === 'ecdsa') return key.curve === 'P-256' ? ['sha256', 'sha384', 'sha512'] : key.curve === 'P-384' ? ['sha384', 'sha512'] : ['sha512'];
  return [];
}

function legacyMethod(key: PrivateKey | PublicKey): SignatureAuthMethodNumber | undefined {
  if (key.type === 'rsa' && !key.pssOnly) return SignatureAuthMethod.RSA_DIGITAL_SIGNATURE;
  if (key.type === 'ecdsa')
    return key.curve === 'P-256'
      ? SignatureAuthMethod.ECDSA_SHA256_P256
      : key.curve === 'P-384'
        ? SignatureAuthMethod.ECDSA_SHA384_P384
        : SignatureAuthMethod.ECDSA_SHA512_P521;
  return undefined;
}

const LEGACY_EC: Record<number, { curve: string; hash: HashName; len: number }> = {
  9: { curve: 'P-256', hash: 'sha256', len: 32 },
  10: { curve: 'P-384', hash: 'sha384', len: 48 },
  11: { curve: 'P-521', hash: 'sha512', len: 66 },
};

/**
 * Picks the RFC 7427 scheme for a key given the peer's hash list (undefined: the peer sent none, use our own
 * preference), or undefined if no hash both sides accept.
 */
export function chooseDigitalSignatureScheme(key: PrivateKey | PublicKey, opts: SignatureAuthOptions = {}): SignatureScheme | undefined {
  const peer = opts.peerHashes;
  if (key.type === 'ed25519') return peer === undefined || peer.includes(SignatureHashAlgorithm.IDENTITY) ? { kind: 'ed25519' } : undefined;
  const mine = keyHashPreference(key);
  // A configured list (`pubkey-sha512`) narrows and orders the choice; it may name hashes the key table does not.
  const candidates = opts.hashes && opts.hashes.length > 0 ? [...opts.hashes] : mine;
  const hash = candidates.find((h) => peer === undefined || peer.includes(HASH_TO_ID[h]));
  if (!hash) return undefined;
  if (key.type === 'ecdsa') return { kind: 'ecdsa', hash };
  return opts.scheme === 'rsa-pss' || key.pssOnly ? { kind: 'rsa-pss', hash, saltLength: HASH_LENGTH[hash] } : { kind: 'rsa-pkcs1', hash };
}

/** Builds AUTH payload data for signature authentication of `octets` with `key`. Throws PkiError if impossible. */
export function signAuth(key: PrivateKey, octets: Uint8Array, opts: SignatureAuthOptions = {}): SignatureAuth {
  const method = opts.method ?? 'auto';
  const wants14 = method === 14 || (method === 'auto' && (opts.peerHashes !== undefined || opts.scheme === 'rsa-pss' || key.type === 'ed25519' || key.pssOnly));
  if (wants14) {
    const scheme = chooseDigitalSignatureScheme(key, opts);
    if (scheme) {
      const algId = encodeAlgorithmIdentifier(scheme);
      const sig = signWithScheme(scheme, key, octets, 'der');
      return { method: 14, data: concatBytes(Uint8Array.of(algId.length), algId, sig), scheme };
    }
    if (method === 14 || opts.scheme === 'rsa-pss' || key.type === 'ed25519' || key.pssOnly) {
      const peer = opts.peerHashes?.map((id) => ID_TO_HASH[id] ?? (id === 5 ? 'identity' : `#${id}`)).join(', ') ?? 'none';
      throw new PkiError(
        'UNSUPPORTED',
        `no RFC 7427 signature scheme for a ${key.type.toUpperCase()} ${key.bits}-bit key that the peer accepts (peer hashes: ${peer}; ours: ${
          key.type === 'ed25519' ? 'identity' : (opts.hashes ?? keyHashPreference(key)).join(', ')
        })`,
      );
    }
    // strongSwan falls back to the legacy method when no hash is shared.
  }
  const legacy = method === 'auto' ? legacyMethod(key) : method;
  if (legacy === undefined) throw new PkiError('UNSUPPORTED', `a ${key.type.toUpperCase()} key can only sign with method 14 (RFC 7427)`);
  if (legacy === 1) {
    if (key.type !== 'rsa' || key.pssOnly) throw new PkiError('BAD_ARGUMENT', `AUTH method 1 needs an RSA key, this is ${key.type.toUpperCase()}`);
    const scheme: SignatureScheme = { kind: 'rsa-pkcs1', hash: 'sha1' };
    return { method: 1, data: signWithScheme(scheme, key, octets), scheme };
  }
  const ec = LEGACY_EC[legacy];
  if (!ec) throw new PkiError('BAD_ARGUMENT', `AUTH method ${legacy} is not a signature method`);
  if (key.type !== 'ecdsa' || key.curve !== ec.curve)
    throw new PkiError('BAD_ARGUMENT', `AUTH method ${legacy} needs an ECDSA ${ec.curve} key, this is ${key.type.toUpperCase()} ${key.curve ?? key.bits}`);
  const scheme: SignatureScheme = { kind: 'ecdsa', hash: ec.hash };
  return { method: legacy as SignatureAuthMethodNumber, data: signWithScheme(scheme, key, octets, 'ieee-p1363'), scheme };
}

export type VerifyAuthResult = { readonly ok: true; readonly scheme: SignatureScheme } | { readonly ok: false; readonly reason: string };

/** Constraints on what a peer may use, from the remote `auth` keyword (parseAuthKeyword). */
export interface VerifyAuthOptions {
  readonly keyType?: KeyType;
  /** Any of these key types (from `rsa-2048-ecdsa-256`). */
  readonly keyTypes?: readonly KeyType[];
  readonly minKeyBits?: Readonly<Partial<Record<KeyType, number>>>;
  readonly scheme?: 'pkcs1' | 'rsa-pss';
  /** Hashes accepted for method 14; default: any we support except SHA-1 is allowed too (strongSwan accepts it). */
  readonly hashes?: readonly HashName[];
}

/**
 * Verifies AUTH payload data against the signer's certificate (or bare public key). Never throws: a malformed
 * AUTH or a wrong signature is `{ ok: false, reason }` with a reason naming the subject and the scheme.
 */
export function verifyAuth(
  signer: Certificate | PublicKey,
  method: number,
  data: Uint8Array,
  octets: Uint8Array,
  opts: VerifyAuthOptions = {},
): VerifyAuthResult {
  const key = 'kind' in signer ? signer : signer.publicKey;
  const who = 'kind' in signer ? 'the public key' : `the certificate of '${signer.subject.text}'`;
  const fail = (reason: string): VerifyAuthResult => ({ ok: false, reason });
  if (opts.keyType && key.type !== opts.keyType)
    return fail(`${who} holds a ${key.type.toUpperCase()} key, but the connection requires auth with ${opts.keyType.toUpperCase()}`);
  if (opts.keyTypes && opts.keyTypes.length > 0 && !opts.keyTypes.includes(key.type))
    return fail(`${who} holds a ${key.type.toUpperCase()} key, but the connection accepts only ${opts.keyTypes.map((t) => t.toUpperCase()).join(', ')}`);
  const minBits = opts.minKeyBits?.[key.type];
  if (minBits !== undefined && key.bits < minBits)
    return fail(`${who} holds a ${key.bits}-bit ${key.type.toUpperCase()} key, but the connection requires at least ${minBits} bits`);
  let scheme: SignatureScheme;
  let sig: Uint8Array;
  let encoding: 'der' | 'ieee-p1363' = 'der';
  if (method === 1) {
    if (key.type !== 'rsa') return fail(`AUTH method 1 (RSA signature) but ${who} holds a ${key.type.toUpperCase()} key`);
    scheme = { kind: 'rsa-pkcs1', hash: 'sha1' };
    sig = data;
  } else if (method === 9 || method === 10 || method === 11) {
    const ec = LEGACY_EC[method]!;
    if (key.type !== 'ecdsa' || key.curve !== ec.curve)
      return fail(`AUTH method ${method} (ECDSA ${ec.curve}) but ${who} holds a ${key.type.toUpperCase()} ${key.curve ?? `${key.bits}-bit`} key`);
    if (data.length !== 2 * ec.len) return fail(`AUTH method ${method}: signature is ${data.length} octets, RFC 4754 requires ${2 * ec.len}`);
    scheme = { kind: 'ecdsa', hash: ec.hash };
    sig = data;
    encoding = 'ieee-p1363';
  } else if (method === 14) {
    const len = data[0];
    if (len === undefined || data.length < 1 + len) return fail('AUTH method 14: the AlgorithmIdentifier length runs past the payload');
    try {
      scheme = decodeAlgorithmIdentifier(data.subarray(1, 1 + len), 'AUTH signature algorithm');
    } catch (e) {
      return fail(`AUTH method 14: ${(e as Error).message}`);
    }
    sig = data.subarray(1 + len);
    if (!schemeFitsKey(scheme, key)) return fail(`the peer signed with ${schemeName(scheme)}, but ${who} holds a ${key.type.toUpperCase()} key`);
  } else {
    return fail(`AUTH method ${method} is not a signature method (1, 9, 10, 11 or 14)`);
  }
  if (opts.scheme === 'rsa-pss' && scheme.kind !== 'rsa-pss') return fail(`the peer signed with ${schemeName(scheme)}, but the connection requires RSASSA-PSS (auth = rsa/pss)`);
  if (opts.hashes && opts.hashes.length > 0 && scheme.kind !== 'ed25519' && !opts.hashes.includes(scheme.hash))
    return fail(`the peer signed with ${schemeName(scheme)}, but the connection accepts only ${opts.hashes.join(', ')}`);
  if (!verifyWithScheme(scheme, key, octets, sig, encoding))
    return fail(
      `AUTH signature (${schemeName(scheme)}, method ${method}) does not verify with ${who}: the peer signed with another key, ` +
        `or the signed octets differ (its ID payload, nonce or SK_p)`,
    );
  return { ok: true, scheme };
}

/** A swanctl `auth` value for public-key authentication, parsed. */
export interface PubkeyAuthKeyword {
  /** Required key type when exactly one is named (`rsa`, `ecdsa`, `ed25519`, `rsa/pss`); undefined for `pubkey`. */
  readonly keyType?: KeyType;
  /** All key types named (`rsa-2048-ecdsa-256` names two); absent when any key type is allowed. */
  readonly keyTypes?: readonly KeyType[];
  /** Minimum key strength per key type (`rsa-2048`, `ecdsa-384`). */
  readonly minKeyBits?: Readonly<Partial<Record<KeyType, number>>>;
  /** `rsa/pss` asks for RSASSA-PSS. */
  readonly scheme?: 'pkcs1' | 'rsa-pss';
  /** Hash constraints in order (`pubkey-sha384-sha256`); Ed25519 always uses Identity. */
  readonly hashes?: readonly HashName[];
  /** Written with the `ike:` prefix: constraints for the IKE AUTH signature only, not for the trust chain. */
  readonly ikeOnly?: boolean;
}

const KEYWORD_TYPES: Record<string, { type?: KeyType; pss?: boolean }> = {
  pubkey: {},
  rsa: { type: 'rsa' },
  'rsa/pss': { type: 'rsa', pss: true },
  ecdsa: { type: 'ecdsa' },
  ed25519: { type: 'ed25519' },
};
const KEYWORD_HASHES: Record<string, HashName> = { sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512', sha2_256: 'sha256', sha2_384: 'sha384', sha2_512: 'sha512' };

/**
 * Parses swanctl's public-key `auth` keywords (swanctl.conf "auth"): dash-separated tokens, each a key type
 * (`pubkey`, `rsa`, `rsa/pss`, `ecdsa`, `ed25519`), a minimum strength for the key type before it (`rsa-2048`),
 * or a hash (`sha256`, `sha384`, `sha512`, `sha1`, `identity`); a token may carry the `ike:` prefix (constraints
 * for the IKE signature only). Examples: `pubkey`, `rsa/pss-sha256`, `pubkey-sha384-sha256`, `ecdsa-384-sha384`,
 * `ike:rsa/pss-sha256`. Returns undefined for non-signature methods (`psk`, `eap-*`, `xauth`...), throws
 * PkiError for a malformed signature keyword.
 */
export function parseAuthKeyword(text: string): PubkeyAuthKeyword | undefined {
  const tokens = text.trim().toLowerCase().split('-');
  const first = tokens[0]!.replace(/^ike:/, '');
  if (!(first in KEYWORD_TYPES)) return undefined;
  const keyTypes: KeyType[] = [];
  const minKeyBits: Partial<Record<KeyType, number>> = {};
  const hashes: HashName[] = [];
  let anyKey = false;
  let pss = false;
  let ikeOnly = false;
  let last: KeyType | undefined;
  for (let tok of tokens) {
    if (tok.startsWith('ike:')) {
      ikeOnly = true;
      tok = tok.slice(4);
    }
    const kt = KEYWORD_TYPES[tok];
    if (kt) {
      if (kt.type) {
        if (!keyTypes.includes(kt.type)) keyTypes.push(kt.type);
      } else anyKey = true;
      if (kt.pss) pss = true;
      last = kt.type;
    } else if (/^\d+$/.test(tok)) {
      if (!last) throw new PkiError('BAD_ARGUMENT', `auth '${text}': key strength '${tok}' must follow a key type (rsa-2048, ecdsa-256)`);
      minKeyBits[last] = Number(tok);
    } else if (KEYWORD_HASHES[tok]) {
      hashes.push(KEYWORD_HASHES[tok]!);
    } else if (tok !== 'identity') {
      throw new PkiError('BAD_ARGUMENT', `auth '${text}': unknown signature constraint '${tok}' (key types rsa, rsa/pss, ecdsa, ed25519; hashes sha256, sha384, sha512, sha1, identity)`);
    }
  }
  const out: { -readonly [K in keyof PubkeyAuthKeyword]: PubkeyAuthKeyword[K] } = {};
  if (!anyKey && keyTypes.length === 1) out.keyType = keyTypes[0]!;
  if (!anyKey && keyTypes.length > 1) out.keyTypes = keyTypes;
  if (Object.keys(minKeyBits).length) out.minKeyBits = minKeyBits;
  if (pss) out.scheme = 'rsa-pss';
  if (hashes.length) out.hashes = hashes;
  if (ikeOnly) out.ikeOnly = true;
  return out;
}

/** A short label for logs: "RSA signature", "ECDSA-256 signature", "RFC 7427 signature (RSASSA-PSS SHA256)". */
export function describeAuth(method: number, scheme?: SignatureScheme): string {
  if (method === 1) return 'RSA signature';
  if (method === 9 || method === 10 || method === 11) return `ECDSA-${method === 9 ? 256 : method === 10 ? 384 : 521} signature`;
  return scheme ? `RFC 7427 signature (${schemeName(scheme)})` : 'RFC 7427 signature';
}


/**
 * The gateway's proposals (strongSwan syntax, parsed by src/crypto/proposals.ts) translated into what each
 * client's profile format can say. A client profile names ONE algorithm of each kind, so for each gateway
 * proposal in order we take, per transform type, the gateway's most preferred algorithm the client can express;
 * the first proposal where every type has one wins (the gateway, as responder, accepts any combination inside one
 * of its proposals, RFC 7296 3.3.6). The proposals skipped on the way are reported with the reason.
 *
 * Apple's names: the VPN payload's IKEv2 SecurityAssociationParameters (Apple's device-management schema,
 * mdm/profiles/com.apple.vpn.managed.yaml: EncryptionAlgorithm, IntegrityAlgorithm, DiffieHellmanGroup).
 * Windows' names: Set-VpnConnectionIPsecConfiguration's parameters (EncryptionMethod, IntegrityCheckMethod,
 * DHGroup, PfsGroup, CipherTransformConstants, AuthenticationTransformConstants).
 */
import { formatProposalString, type Proposal, type ProposalEncryption } from '../crypto/proposals.js';
import { ENCR, ESN, INTEG, KE, PRF, isAeadEncr, transformName } from '../crypto/transforms.js';

/** One gateway proposal with where it came from, for messages. */
export interface ProposalEntry {
  /** 1-based position in the connection's (expanded) proposal list. */
  readonly index: number;
  /** As the gateway's file wrote it, or `default` when it came from expanding the default. */
  readonly source: string;
  readonly proposal: Proposal;
}

export type Choice<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly why: string };

/** A proposal the client cannot express, and why. */
export interface Skipped {
  readonly entry: ProposalEntry;
  readonly why: string;
}

export interface Picked<T> {
  readonly entry: ProposalEntry;
  readonly value: T;
  /** Proposals before the one picked that the format cannot say. */
  readonly skipped: readonly Skipped[];
}

/** Text naming a proposal in messages: `proposal 2 (aes128ctr-sha256-ecp256)`. */
export function describeProposal(e: ProposalEntry): string {
  const text = formatProposalString(e.proposal);
  return e.source.toLowerCase() === 'default' ? `proposal ${e.index} (strongSwan's default: ${text})` : `proposal ${e.index} (${text})`;
}

/** The first proposal `map` can express; skipped ones are listed. Undefined with all reasons when none can. */
export function pickProposal<T>(entries: readonly ProposalEntry[], map: (p: Proposal) => Choice<T>): Picked<T> | { readonly none: readonly Skipped[] } {
  const skipped: Skipped[] = [];
  for (const entry of entries) {
    const c = map(entry.proposal);
    if (c.ok) return { entry, value: c.value, skipped };
    skipped.push({ entry, why: c.why });
  }
  return { none: skipped };
}

function first<T, R>(items: readonly T[], map: (t: T) => R | undefined): R | undefined {
  for (const t of items) {
    const r = map(t);
    if (r !== undefined) return r;
  }
  return undefined;
}

const encrName = (e: ProposalEncryption): string => transformName(1, e.id, e.keyBits);
const names = (type: 2 | 3 | 4, ids: readonly number[]): string => ids.map((i) => transformName(type, i)).join(', ');

/** The PRF strongSwan (and every client here) pairs with an integrity algorithm of the same hash. */
const PRF_OF_INTEG: ReadonlyMap<number, number> = new Map([
  [INTEG.HMAC_SHA1_96, PRF.HMAC_SHA1],
  [INTEG.HMAC_SHA2_256_128, PRF.HMAC_SHA2_256],
  [INTEG.HMAC_SHA2_384_192, PRF.HMAC_SHA2_384],
  [INTEG.HMAC_SHA2_512_256, PRF.HMAC_SHA2_512],
]);

/**
 * Integrity for an IKE proposal in a format that names one hash for integrity and PRF (both Apple and Windows
 * infer the PRF from the integrity algorithm): classic encryption needs an integrity algorithm whose PRF the
 * proposal also has; AEAD encryption has no integrity transform, so the hash comes from the PRF.
 */
function ikeHash<T>(p: Proposal, aead: boolean, byInteg: ReadonlyMap<number, T>, byPrf: ReadonlyMap<number, T>, client: string): Choice<T> {
  if (aead) {
    const v = first(p.prf, (id) => byPrf.get(id));
    return v !== undefined ? { ok: true, value: v } : { ok: false, why: `${client} has none of its PRFs (${names(2, p.prf)})` };
  }
  const v = first(p.integrity, (id) => {
    const prf = PRF_OF_INTEG.get(id);
    return prf !== undefined && p.prf.includes(prf) ? byInteg.get(id) : undefined;
  });
  return v !== undefined
    ? { ok: true, value: v }
    : { ok: false, why: `${client} has none of its integrity algorithms with the PRF of the same hash (${names(3, p.integrity)}; PRFs ${names(2, p.prf)})` };
}

// ---------------------------------------------------------------------------------------------------------
// Apple (iOS, iPadOS, macOS, tvOS, visionOS): the IKEv2 dictionary's SecurityAssociationParameters

export interface AppleSaParameters {
  readonly EncryptionAlgorithm: string;
  /** Left out for an AEAD CHILD SA (the cipher carries its own ICV). */
  readonly IntegrityAlgorithm?: string;
  readonly DiffieHellmanGroup: number;
}

function appleEncr(e: ProposalEncryption): string | undefined {
  switch (e.id) {
    case ENCR.DES3: return '3DES';
    // Apple's list has no AES-192 (CBC or GCM), no CTR/CCM and no GCM with 8- or 12-byte ICVs.
    case ENCR.AES_CBC: return e.keyBits === 128 ? 'AES-128' : e.keyBits === 256 ? 'AES-256' : undefined;
    case ENCR.AES_GCM_16: return e.keyBits === 128 ? 'AES-128-GCM' : e.keyBits === 256 ? 'AES-256-GCM' : undefined;
    case ENCR.CHACHA20_POLY1305: return 'ChaCha20Poly1305';
  }
  return undefined;
}

const APPLE_INTEG: ReadonlyMap<number, string> = new Map([
  [INTEG.HMAC_SHA1_96, 'SHA1-96'],
  [INTEG.HMAC_SHA2_256_128, 'SHA2-256'],
  [INTEG.HMAC_SHA2_384_192, 'SHA2-384'],
  [INTEG.HMAC_SHA2_512_256, 'SHA2-512'],
]);
const APPLE_PRF: ReadonlyMap<number, string> = new Map([
  [PRF.HMAC_SHA1, 'SHA1-96'],
  [PRF.HMAC_SHA2_256, 'SHA2-256'],
  [PRF.HMAC_SHA2_384, 'SHA2-384'],
  [PRF.HMAC_SHA2_512, 'SHA2-512'],
]);
/** Apple's DiffieHellmanGroup values are the IANA numbers of these groups. */
const APPLE_GROUPS: ReadonlySet<number> = new Set([
  KE.MODP_1024, KE.MODP_1536, KE.MODP_2048, KE.MODP_3072, KE.MODP_4096, KE.MODP_6144, KE.MODP_8192,
  KE.ECP_256, KE.ECP_384, KE.ECP_521, KE.CURVE_25519, KE.CURVE_448,
]);
const appleGroup = (id: number): number | undefined => (APPLE_GROUPS.has(id) ? id : undefined);

export function appleIke(p: Proposal): Choice<AppleSaParameters> {
  const encr = first(p.encryption, appleEncr);
  if (encr === undefined) return { ok: false, why: `Apple has none of its encryption algorithms (${p.encryption.map(encrName).join(', ')})` };
  const aead = p.encryption.some((e) => isAeadEncr(e.id));
  const integ = ikeHash(p, aead, APPLE_INTEG, APPLE_PRF, 'Apple');
  if (!integ.ok) return integ;
  const dh = first(p.ke, appleGroup);
  if (dh === undefined) return { ok: false, why: `Apple has none of its key exchange methods (${names(4, p.ke)})` };
  return { ok: true, value: { EncryptionAlgorithm: encr, IntegrityAlgorithm: integ.value, DiffieHellmanGroup: dh } };
}

/** The CHILD SA parameters and whether the gateway wants PFS (a KE method without KE_NONE in the proposal). */
export interface AppleChild {
  readonly params: Omit<AppleSaParameters, 'DiffieHellmanGroup'> & { readonly DiffieHellmanGroup?: number };
  readonly pfs: boolean;
}

export function appleEsp(p: Proposal): Choice<AppleChild> {
  if (!p.esn.includes(ESN.NONE)) return { ok: false, why: 'it requires extended sequence numbers, which Apple does not negotiate' };
  const encr = first(p.encryption, appleEncr);
  if (encr === undefined) return { ok: false, why: `Apple has none of its encryption algorithms (${p.encryption.map(encrName).join(', ')})` };
  const aead = p.encryption.some((e) => isAeadEncr(e.id));
  let integ: string | undefined;
  if (!aead) {
    integ = first(p.integrity, (id) => APPLE_INTEG.get(id));
    if (integ === undefined) return { ok: false, why: `Apple has none of its integrity algorithms (${names(3, p.integrity)})` };
  }
  // RFC 7296 3.3.3: KE in an ESP proposal is the PFS group of CREATE_CHILD_SA; KE_NONE among them makes PFS optional.
  const pfs = p.ke.length > 0 && !p.ke.includes(KE.NONE);
  let dh: number | undefined;
  if (pfs) {
    dh = first(p.ke, appleGroup);
    if (dh === undefined) return { ok: false, why: `it requires PFS with a group Apple does not have (${names(4, p.ke)})` };
  }
  return {
    ok: true,
    value: {
      params: { EncryptionAlgorithm: encr, ...(integ !== undefined ? { IntegrityAlgorithm: integ } : {}), ...(dh !== undefined ? { DiffieHellmanGroup: dh } : {}) },
      pfs,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Windows (10/11 built-in Agile VPN client): Set-VpnConnectionIPsecConfiguration

export interface WindowsIke {
  readonly EncryptionMethod: string;
  readonly IntegrityCheckMethod: string;
  readonly DHGroup: string;
}
export interface WindowsEsp {
  readonly CipherTransformConstants: string;
  readonly AuthenticationTransformConstants: string;
  readonly PfsGroup: string;
}

function windowsCipher(e: ProposalEncryption): string | undefined {
  const bits = e.keyBits === 128 || e.keyBits === 192 || e.keyBits === 256 ? e.keyBits : undefined;
  switch (e.id) {
    case ENCR.DES3: return 'DES3';
    case ENCR.AES_CBC: return bits !== undefined ? `AES${bits}` : undefined;
    // Windows' GCM is RFC 4106 with the 16-byte ICV only.
    case ENCR.AES_GCM_16: return bits !== undefined ? `GCMAES${bits}` : undefined;
  }
  return undefined;
}

const WINDOWS_IKE_INTEG: ReadonlyMap<number, string> = new Map([
  [INTEG.HMAC_SHA1_96, 'SHA1'],
  [INTEG.HMAC_SHA2_256_128, 'SHA256'],
  [INTEG.HMAC_SHA2_384_192, 'SHA384'],
]);
const WINDOWS_IKE_PRF: ReadonlyMap<number, string> = new Map([
  [PRF.HMAC_SHA1, 'SHA1'],
  [PRF.HMAC_SHA2_256, 'SHA256'],
  [PRF.HMAC_SHA2_384, 'SHA384'],
]);
/** DHGroup: Group1 is MODP-768, which cygnet does not implement, so it never appears. */
const WINDOWS_DH: ReadonlyMap<number, string> = new Map([
  [KE.MODP_1024, 'Group2'],
  [KE.MODP_2048, 'Group14'],
  [KE.ECP_256, 'ECP256'],
  [KE.ECP_384, 'ECP384'],
  [KE.MODP_2048_256, 'Group24'],
]);
const WINDOWS_PFS: ReadonlyMap<number, string> = new Map([
  [KE.MODP_1024, 'PFS2'],
  [KE.MODP_2048, 'PFS2048'],
  [KE.ECP_256, 'ECP256'],
  [KE.ECP_384, 'ECP384'],
  [KE.MODP_2048_256, 'PFS24'],
]);
const WINDOWS_ESP_INTEG: ReadonlyMap<number, string> = new Map([
  [INTEG.HMAC_SHA1_96, 'SHA196'],
  [INTEG.HMAC_SHA2_256_128, 'SHA256128'],
]);

export function windowsIke(p: Proposal): Choice<WindowsIke> {
  const encr = first(p.encryption, windowsCipher);
  if (encr === undefined) return { ok: false, why: `Windows has none of its encryption algorithms (${p.encryption.map(encrName).join(', ')})` };
  const aead = p.encryption.some((e) => isAeadEncr(e.id));
  const integ = ikeHash(p, aead, WINDOWS_IKE_INTEG, WINDOWS_IKE_PRF, 'Windows');
  if (!integ.ok) return integ;
  const dh = first(p.ke, (id) => WINDOWS_DH.get(id));
  if (dh === undefined) return { ok: false, why: `Windows has none of its key exchange methods (${names(4, p.ke)})` };
  return { ok: true, value: { EncryptionMethod: encr, IntegrityCheckMethod: integ.value, DHGroup: dh } };
}

export function windowsEsp(p: Proposal): Choice<WindowsEsp> {
  if (!p.esn.includes(ESN.NONE)) return { ok: false, why: 'it requires extended sequence numbers, which Windows does not negotiate' };
  const cipher = first(p.encryption, windowsCipher);
  if (cipher === undefined) return { ok: false, why: `Windows has none of its encryption algorithms (${p.encryption.map(encrName).join(', ')})` };
  // For AES-GCM both constants name the AEAD (it is cipher and integrity in one).
  const aead = cipher.startsWith('GCM');
  const auth = aead ? cipher : first(p.integrity, (id) => WINDOWS_ESP_INTEG.get(id));
  if (auth === undefined) return { ok: false, why: `Windows has none of its integrity algorithms (${names(3, p.integrity)})` };
  let pfs = 'None';
  if (p.ke.length > 0 && !p.ke.includes(KE.NONE)) {
    const g = first(p.ke, (id) => WINDOWS_PFS.get(id));
    if (g === undefined) return { ok: false, why: `it requires PFS with a group Windows does not have (${names(4, p.ke)})` };
    pfs = g;
  }
  return { ok: true, value: { CipherTransformConstants: cipher, AuthenticationTransformConstants: auth, PfsGroup: pfs } };
}

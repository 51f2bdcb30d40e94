/**
 * strongSwan's proposal syntax (swanctl.conf `proposals` / `esp_proposals`), parsed into typed proposals and
 * printed back.
 *
 * Syntax: proposals are separated by commas; each is a list of algorithm keywords separated by dashes, several
 * algorithms of one kind in preference order (`aes128-aes256-sha256-sha384-modp2048-ecp256`). The keywords and
 * aliases are strongSwan's (src/libstrongswan/crypto/proposal/proposal_keywords_static.txt), restricted to the
 * transforms in transforms.ts; the checks are those of strongSwan's proposal.c `check_proposal`:
 *  - IKE: an encryption algorithm, a PRF and a KE method are mandatory. Without a prf keyword the PRFs are derived
 *    from the integrity algorithms (sha256 -> prfsha256, aesxcbc -> prfaesxcbc). AEAD proposals have no
 *    integrity algorithm to derive from, so they need an explicit prf keyword. Classic encryption needs integrity.
 *  - ESP: a KE method means PFS on CREATE_CHILD_SA; no esn/noesn keyword means noesn.
 *  - AEAD and classic encryption cannot share a proposal (RFC 7296 3.3: combined-mode ciphers get their own).
 * Where strongSwan silently drops something, cygnet reports it instead so a config never means something other than
 * what it says: integrity keywords next to an AEAD, prf keywords in ESP proposals, esn keywords in IKE proposals.
 *
 * ML-KEM (mlkem512/768/1024, strongSwan 6's keywords for methods 35-37) as the IKE_SA_INIT key exchange is refused
 * unless ProposalOptions.ikeIntermediate says so: a KEM's initiator and responder send different values (RFC 9370
 * section 2.2) and an ML-KEM key does not fit beside the other IKE_SA_INIT payloads. It belongs in an additional
 * key exchange: strongSwan 6's `ke1_` ... `ke7_` prefixes (RFC 9370 Transform Types 6-12, ADDKE1-7), e.g.
 * `aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke2_mlkem1024`, carried in IKE_INTERMEDIATE exchanges (RFC 9242).
 * `ke<n>_none` offers NONE for ADDKEn, which makes that exchange optional (RFC 9370 2.2.1).
 *
 * `default` alone as one proposal expands to strongSwan's default proposals for the context (vici_config.c
 * add_default_proposals: IKE classic then AEAD; ESP AEAD then classic), restricted to what cygnet implements,
 * exactly as strongSwan restricts them to what its loaded plugins implement (proposal.c proposal_add_supported_ike).
 */
import { additionalKeName } from './addke.js';
import { CryptoError } from './errors.js';
import { isMlKemMethod } from './mlkem.js';
import { ENCR, ESN, INTEG, KE, PRF, isAeadEncr, transformName, type TransformTypeId } from './transforms.js';

export type ProposalProtocol = 'ike' | 'esp';

/** What the IKE core can negotiate beyond RFC 7296; every flag defaults to false. */
export interface ProposalOptions {
  /**
   * The IKE core implements IKE_INTERMEDIATE (RFC 9242) and multiple key exchanges (RFC 9370), so KEM methods
   * (ML-KEM, 35-37) may appear in proposals. Until it does they are refused with a ProposalError.
   */
  readonly ikeIntermediate?: boolean;
}

/** The refusal text for a KEM method in a proposal without ProposalOptions.ikeIntermediate. */
export const ML_KEM_NEEDS_INTERMEDIATE = 'ML-KEM needs IKE_INTERMEDIATE (RFC 9242), not yet supported';

export interface ProposalEncryption {
  readonly id: number;
  /** Key Length attribute in bits; absent for transforms without one (3DES, ChaCha20-Poly1305, NULL). */
  readonly keyBits?: number;
}

/** One proposal: per transform type, the algorithms in preference order (IANA ids from transforms.ts). */
export interface Proposal {
  readonly protocol: ProposalProtocol;
  readonly encryption: readonly ProposalEncryption[];
  readonly integrity: readonly number[];
  readonly prf: readonly number[];
  /** IKE: the KE methods of IKE_SA_INIT. ESP: the PFS groups of CREATE_CHILD_SA (0 = KE NONE, PFS optional). */
  readonly ke: readonly number[];
  /** ESP only: 0 = no ESN, 1 = ESN. Always empty for IKE. */
  readonly esn: readonly number[];
  /**
   * RFC 9370 additional key exchanges: `addke[n-1]` holds the methods offered for ADDKEn (Transform Type n+5) in
   * preference order, 0 (NONE) making it optional (2.2.1); an empty list means the type is not in the proposal.
   * Absent (not just empty) when the proposal has no `ke<n>_` keyword, so classic proposals compare as before.
   */
  readonly addke?: readonly (readonly number[])[];
}

/** The ADDKE lists of a proposal, seven of them (empty when absent). */
export function proposalAddke(p: Proposal): readonly (readonly number[])[] {
  return p.addke ?? EMPTY_ADDKE;
}

const EMPTY_ADDKE: readonly (readonly number[])[] = [[], [], [], [], [], [], []];

/**
 * A proposal string that does not parse. `keyword` is the offending keyword (or the whole proposal when the
 * problem is something missing), `proposalIndex` is 1-based, `column` is the 1-based character position of
 * `keyword` in the input string.
 */
export class ProposalError extends CryptoError {
  readonly keyword: string;
  readonly proposalIndex: number;
  readonly column: number;
  readonly reason: string;
  readonly suggestion: string | undefined;
  constructor(keyword: string, proposalIndex: number, column: number, reason: string, suggestion?: string) {
    const hint = suggestion === undefined ? '' : `; did you mean '${suggestion}'?`;
    super(
      'INVALID_PROPOSAL',
      `invalid proposal: '${keyword}' (proposal ${proposalIndex}, column ${column}): ${reason}${hint}`,
    );
    this.name = 'ProposalError';
    this.keyword = keyword;
    this.proposalIndex = proposalIndex;
    this.column = column;
    this.reason = reason;
    this.suggestion = suggestion;
  }
}

interface Token {
  readonly type: TransformTypeId;
  readonly id: number;
  readonly keyBits?: number;
}

/** keyword -> transform, in strongSwan's table order (which also decides ties when suggesting a keyword). */
const KEYWORDS: ReadonlyMap<string, Token> = (() => {
  const m = new Map<string, Token>();
  const enc = (k: string, id: number, keyBits?: number) =>
    m.set(k, keyBits === undefined ? { type: 1, id } : { type: 1, id, keyBits });
  enc('null', ENCR.NULL);
  enc('3des', ENCR.DES3);
  enc('aes', ENCR.AES_CBC, 128);
  for (const bits of [128, 192, 256]) enc(`aes${bits}`, ENCR.AES_CBC, bits);
  for (const bits of [128, 192, 256]) enc(`aes${bits}ctr`, ENCR.AES_CTR, bits);
  for (const [mode, ids] of [
    ['ccm', [ENCR.AES_CCM_8, ENCR.AES_CCM_12, ENCR.AES_CCM_16]],
    ['gcm', [ENCR.AES_GCM_8, ENCR.AES_GCM_12, ENCR.AES_GCM_16]],
  ] as const) {
    for (const bits of [128, 192, 256]) {
      // ICV length in bytes (8/12/16) or in bits (64/96/128); no suffix means the 16-byte ICV.
      enc(`aes${bits}${mode}8`, ids[0], bits);
      enc(`aes${bits}${mode}64`, ids[0], bits);
      enc(`aes${bits}${mode}12`, ids[1], bits);
      enc(`aes${bits}${mode}96`, ids[1], bits);
      enc(`aes${bits}${mode}16`, ids[2], bits);
      enc(`aes${bits}${mode}128`, ids[2], bits);
      enc(`aes${bits}${mode}`, ids[2], bits);
    }
  }
  enc('chacha20poly1305', ENCR.CHACHA20_POLY1305);
  const integ = (k: string, id: number) => m.set(k, { type: 3, id });
  integ('sha', INTEG.HMAC_SHA1_96);
  integ('sha1', INTEG.HMAC_SHA1_96);
  integ('sha256', INTEG.HMAC_SHA2_256_128);
  integ('sha2_256', INTEG.HMAC_SHA2_256_128);
  integ('sha384', INTEG.HMAC_SHA2_384_192);
  integ('sha2_384', INTEG.HMAC_SHA2_384_192);
  integ('sha512', INTEG.HMAC_SHA2_512_256);
  integ('sha2_512', INTEG.HMAC_SHA2_512_256);
  integ('aesxcbc', INTEG.AES_XCBC_96);
  integ('aescmac', INTEG.AES_CMAC_96);
  const prf = (k: string, id: number) => m.set(k, { type: 2, id });
  prf('prfsha1', PRF.HMAC_SHA1);
  prf('prfsha256', PRF.HMAC_SHA2_256);
  prf('prfsha384', PRF.HMAC_SHA2_384);
  prf('prfsha512', PRF.HMAC_SHA2_512);
  prf('prfaesxcbc', PRF.AES128_XCBC);
  prf('prfaescmac', PRF.AES128_CMAC);
  const ke = (k: string, id: number) => m.set(k, { type: 4, id });
  ke('none', KE.NONE);
  ke('modpnone', KE.NONE);
  ke('modp1024', KE.MODP_1024);
  ke('modp1536', KE.MODP_1536);
  ke('modp2048', KE.MODP_2048);
  ke('modp3072', KE.MODP_3072);
  ke('modp4096', KE.MODP_4096);
  ke('modp6144', KE.MODP_6144);
  ke('modp8192', KE.MODP_8192);
  ke('ecp256', KE.ECP_256);
  ke('ecp384', KE.ECP_384);
  ke('ecp521', KE.ECP_521);
  ke('modp1024s160', KE.MODP_1024_160);
  ke('modp2048s224', KE.MODP_2048_224);
  ke('modp2048s256', KE.MODP_2048_256);
  ke('ecp224bp', KE.ECP_224_BP);
  ke('ecp256bp', KE.ECP_256_BP);
  ke('ecp384bp', KE.ECP_384_BP);
  ke('ecp512bp', KE.ECP_512_BP);
  ke('curve25519', KE.CURVE_25519);
  ke('x25519', KE.CURVE_25519);
  ke('curve448', KE.CURVE_448);
  ke('x448', KE.CURVE_448);
  ke('mlkem512', KE.ML_KEM_512);
  ke('mlkem768', KE.ML_KEM_768);
  ke('mlkem1024', KE.ML_KEM_1024);
  m.set('noesn', { type: 5, id: ESN.NONE });
  m.set('esn', { type: 5, id: ESN.ESN });
  return m;
})();

/**
 * strongSwan keywords for algorithms cygnet does not implement: recognised so the error can say "not supported"
 * instead of "unknown keyword".
 */
const UNSUPPORTED_KEYWORDS: ReadonlySet<string> = new Set([
  'des', 'blowfish', 'blowfish128', 'blowfish192', 'blowfish256', 'cast128',
  'camellia', 'camellia128', 'camellia192', 'camellia256', 'camellia128ctr', 'camellia192ctr', 'camellia256ctr',
  'serpent', 'serpent128', 'serpent192', 'serpent256', 'twofish', 'twofish128', 'twofish192', 'twofish256',
  'aes128gmac', 'aes192gmac', 'aes256gmac', 'chacha20poly1305compat',
  'sha1_160', 'sha256_96', 'sha2_256_96', 'md5', 'md5_128', 'camelliaxcbc', 'prfmd5', 'prfcamelliaxcbc',
  'modpnull', 'modp768', 'ecp192', 'ecp224',
  'ntru112', 'ntru128', 'ntru192', 'ntru256', 'kyber1', 'kyber3', 'kyber5',
]);

function isCamelliaCcm(k: string): boolean {
  return /^camellia(128|192|256)ccm(8|64|12|96|16|128)$/.test(k);
}

/** Canonical keyword printed for each transform. */
function encrKeyword(e: ProposalEncryption): string {
  const bits = e.keyBits ?? 0;
  switch (e.id) {
    case ENCR.NULL: return 'null';
    case ENCR.DES3: return '3des';
    case ENCR.AES_CBC: return `aes${bits}`;
    case ENCR.AES_CTR: return `aes${bits}ctr`;
    case ENCR.AES_CCM_8: return `aes${bits}ccm8`;
    case ENCR.AES_CCM_12: return `aes${bits}ccm12`;
    case ENCR.AES_CCM_16: return `aes${bits}ccm16`;
    case ENCR.AES_GCM_8: return `aes${bits}gcm8`;
    case ENCR.AES_GCM_12: return `aes${bits}gcm12`;
    case ENCR.AES_GCM_16: return `aes${bits}gcm16`;
    case ENCR.CHACHA20_POLY1305: return 'chacha20poly1305';
  }
  throw new CryptoError('INVALID_PROPOSAL', `no proposal keyword for encryption transform ${e.id}`);
}

const CANONICAL: ReadonlyMap<string, string> = (() => {
  // type:id -> first keyword of that transform in table order, skipping the short aliases
  const m = new Map<string, string>();
  const skip = new Set(['sha', 'sha2_256', 'sha2_384', 'sha2_512', 'x25519', 'x448', 'modpnone']);
  for (const [k, t] of KEYWORDS) {
    if (t.type === 1 || skip.has(k)) continue;
    const key = `${t.type}:${t.id}`;
    if (!m.has(key)) m.set(key, k);
  }
  return m;
})();

function keywordFor(type: TransformTypeId, id: number): string {
  const k = CANONICAL.get(`${type}:${id}`);
  if (k === undefined) {
    const name = transformName(type, id);
    throw new CryptoError('INVALID_PROPOSAL', `no proposal keyword for ${name} (type ${type}, id ${id})`);
  }
  return k;
}

/** strongSwan derives an IKE proposal's PRFs from its integrity algorithms when no prf keyword is given. */
const INTEG_TO_PRF: ReadonlyMap<number, number> = new Map([
  [INTEG.HMAC_SHA1_96, PRF.HMAC_SHA1],
  [INTEG.HMAC_SHA2_256_128, PRF.HMAC_SHA2_256],
  [INTEG.HMAC_SHA2_384_192, PRF.HMAC_SHA2_384],
  [INTEG.HMAC_SHA2_512_256, PRF.HMAC_SHA2_512],
  [INTEG.AES_XCBC_96, PRF.AES128_XCBC],
  [INTEG.AES_CMAC_96, PRF.AES128_CMAC],
]);

/** Levenshtein distance, for suggesting the nearest keyword. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function validInContext(t: Token, protocol: ProposalProtocol): boolean {
  if (protocol === 'ike') return t.type !== 5 && !(t.type === 1 && t.id === ENCR.NULL);
  return t.type !== 2;
}

/**
 * The valid keyword (in this context) nearest to `word`: the shortest keyword that `word` begins (a truncated
 * keyword such as `chacha20`), else the one at the smallest edit distance; ties go to the earlier keyword in
 * strongSwan's table.
 */
export function suggestKeyword(word: string, protocol: ProposalProtocol): string {
  if (word.length >= 3) {
    let prefixed: string | undefined;
    for (const [k, t] of KEYWORDS) {
      if (validInContext(t, protocol) && k.startsWith(word) && (prefixed === undefined || k.length < prefixed.length)) {
        prefixed = k;
      }
    }
    if (prefixed !== undefined) return prefixed;
  }
  let best = 'default';
  let bestDist = editDistance(word, best);
  for (const [k, t] of KEYWORDS) {
    if (!validInContext(t, protocol)) continue;
    const d = editDistance(word, k);
    if (d < bestDist) {
      best = k;
      bestDist = d;
    }
  }
  return best;
}

interface Located {
  readonly text: string;
  /** 0-based offset in the whole input. */
  readonly offset: number;
}

/** Splits `text` at `sep`, trimming blanks around each piece (as strongSwan's enumerator_create_token does). */
function split(text: string, sep: string, base: number): Located[] {
  const out: Located[] = [];
  let start = 0;
  for (;;) {
    const end = text.indexOf(sep, start);
    const raw = end < 0 ? text.slice(start) : text.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    out.push({ text: raw.trim(), offset: base + start + lead });
    if (end < 0) return out;
    start = end + 1;
  }
}

const PROTO_NAME: Record<ProposalProtocol, string> = { ike: 'IKE', esp: 'ESP' };

/** RFC 7296 3.3.1: "# of Transforms" is one octet. */
const MAX_TRANSFORMS = 255;

/** strongSwan's prefixes for RFC 9370 additional key exchanges (ke1_mlkem768 ... ke7_...). */
const ADDITIONAL_KE_PREFIX = /^ke([0-9]+)_(.*)$/;

function parseOne(part: Located, index: number, protocol: ProposalProtocol, options: ProposalOptions): Proposal {
  const err = (at: Located, reason: string, suggestion?: string) =>
    new ProposalError(at.text, index, at.offset + 1, reason, suggestion);
  if (part.text === '') throw err(part, 'empty proposal');

  const encryption: ProposalEncryption[] = [];
  const integrity: number[] = [];
  const prf: number[] = [];
  const ke: number[] = [];
  const esn: number[] = [];
  let firstAead: Located | undefined;
  let firstClassic: Located | undefined;
  let firstInteg: Located | undefined;
  let nullEncr: Located | undefined;
  const addke: number[][] = [[], [], [], [], [], [], []];
  let hasAddke = false;

  for (const tok of split(part.text, '-', part.offset)) {
    const word = tok.text.toLowerCase();
    if (word === '') throw err(tok, "empty keyword (two '-' in a row, or one at an end)");
    if (word === 'default') throw err(tok, "'default' must stand alone as a proposal (write 'x-y-z,default')");
    const add = ADDITIONAL_KE_PREFIX.exec(word);
    if (add) {
      // RFC 9370 section 3: ADDKE1 ... ADDKE7 (Transform Types 6-12), strongSwan 6's ke1_ ... ke7_ keywords.
      const n = Number(add[1]);
      if (!(n >= 1 && n <= 7)) throw err(tok, `RFC 9370 defines additional key exchanges ke1_ to ke7_, not ke${add[1]}_`);
      const method = add[2] ?? '';
      const t = KEYWORDS.get(method);
      if (t === undefined || t.type !== 4) {
        throw err(tok, `'${method}' after 'ke${n}_' is not a key exchange method`, method === '' ? undefined : `ke${n}_${suggestKeyword(method, protocol)}`);
      }
      const list = addke[n - 1]!;
      if (!list.includes(t.id)) list.push(t.id);
      hasAddke = true;
      continue;
    }
    const t = KEYWORDS.get(word);
    if (t === undefined) {
      if (UNSUPPORTED_KEYWORDS.has(word) || isCamelliaCcm(word)) {
        throw err(tok, 'a strongSwan keyword for an algorithm cygnet does not implement');
      }
      throw err(tok, `unknown keyword in ${PROTO_NAME[protocol]} proposal`, suggestKeyword(word, protocol));
    }
    switch (t.type) {
      case 1: {
        if (protocol === 'ike' && t.id === ENCR.NULL) {
          throw err(tok, 'ENCR_NULL is not allowed in IKE proposals (RFC 7296 section 3.3.2)');
        }
        if (isAeadEncr(t.id)) firstAead ??= tok;
        else firstClassic ??= tok;
        if (t.id === ENCR.NULL) nullEncr ??= tok;
        if (!encryption.some((e) => e.id === t.id && e.keyBits === t.keyBits)) {
          encryption.push(t.keyBits === undefined ? { id: t.id } : { id: t.id, keyBits: t.keyBits });
        }
        if (firstAead !== undefined && firstClassic !== undefined) {
          const [a, b] = firstAead.offset < firstClassic.offset ? [firstAead, firstClassic] : [firstClassic, firstAead];
          throw err(b, `AEAD and classic encryption cannot be mixed in one proposal ('${a.text}' is ` +
            `${a === firstAead ? 'AEAD' : 'classic'}); put them in separate proposals separated by ','`);
        }
        break;
      }
      case 2:
        if (protocol === 'esp') {
          throw err(tok, 'prf keywords are only valid in IKE proposals (ESP negotiates no PRF)');
        }
        if (!prf.includes(t.id)) prf.push(t.id);
        break;
      case 3:
        firstInteg ??= tok;
        if (!integrity.includes(t.id)) integrity.push(t.id);
        break;
      case 4:
        if (isMlKemMethod(t.id) && options.ikeIntermediate !== true) throw err(tok, ML_KEM_NEEDS_INTERMEDIATE);
        // strongSwan drops KE NONE from IKE proposals; in ESP it means "PFS optional".
        if (protocol === 'ike' && t.id === KE.NONE) break;
        if (!ke.includes(t.id)) ke.push(t.id);
        break;
      case 5:
        if (protocol === 'ike') {
          throw err(tok, 'esn/noesn are only valid in ESP proposals (IKE SAs have no sequence numbers)');
        }
        if (!esn.includes(t.id)) esn.push(t.id);
        break;
    }
  }

  const aead = firstAead !== undefined;
  if (encryption.length === 0) throw err(part, `no encryption algorithm in ${PROTO_NAME[protocol]} proposal`);
  if (aead && firstInteg !== undefined) {
    throw err(firstInteg, `integrity algorithm next to AEAD '${firstAead!.text}': AEAD transforms carry their own ` +
      "ICV (RFC 7296 3.3); drop it or use a separate classic proposal");
  }
  if (protocol === 'ike') {
    if (!aead && integrity.length === 0) {
      throw err(part, `no integrity algorithm: classic encryption '${firstClassic!.text}' needs one in IKE proposals`);
    }
    if (prf.length === 0) {
      if (aead) {
        throw err(part, 'no PRF: AEAD IKE proposals need a prf keyword (e.g. prfsha256), none is derived from AEAD');
      }
      for (const i of integrity) {
        const p = INTEG_TO_PRF.get(i);
        if (p !== undefined && !prf.includes(p)) prf.push(p);
      }
    }
    if (ke.length === 0) throw err(part, 'no key exchange method: IKE proposals need one (e.g. x25519, modp2048)');
  } else {
    if (nullEncr !== undefined && integrity.length === 0) {
      throw err(nullEncr, 'ENCR_NULL without an integrity algorithm protects nothing (RFC 4303 section 3.2)');
    }
    if (esn.length === 0) esn.push(ESN.NONE);
  }
  if (hasAddke && protocol === 'esp' && !ke.some((g) => g !== 0)) {
    // RFC 9370 2.2.4: a CHILD SA's additional key exchanges follow the key exchange of CREATE_CHILD_SA (SK(0)) in
    // IKE_FOLLOWUP_KE exchanges; cygnet runs them only with that PFS exchange, as strongSwan 6's syntax reads
    // (e.g. aes256gcm16-x25519-ke1_mlkem768). The CHILD SA of IKE_AUTH has neither (RFC 7296 1.2).
    throw err(part, 'additional key exchanges (ke<n>_) in an ESP proposal need a key exchange method for PFS as well (e.g. x25519-ke1_mlkem768)');
  }
  const count = encryption.length + integrity.length + prf.length + ke.length + esn.length + addke.reduce((a, l) => a + l.length, 0);
  if (count > MAX_TRANSFORMS) throw err(part, `${count} transforms, more than the ${MAX_TRANSFORMS} a proposal holds`);
  return hasAddke ? { protocol, encryption, integrity, prf, ke, esn, addke } : { protocol, encryption, integrity, prf, ke, esn };
}

const DEFAULTS: Record<ProposalProtocol, readonly string[]> = {
  // IKE (proposal_add_supported_ike): >=128-bit-strength algorithms first, then weaker ones; MODP 1024/1536 and
  // the RFC 5114 groups are excluded, MODP 2048 comes last. Brainpool is left out: no cygnet backend has it.
  ike: [
    'aes128-aes192-aes256-sha256-sha384-sha512-sha1-aesxcbc-aescmac-' +
      'prfsha256-prfsha384-prfsha512-prfaesxcbc-prfaescmac-prfsha1-' +
      'ecp256-ecp384-ecp521-curve25519-curve448-modp3072-modp4096-modp6144-modp8192-modp2048',
    'aes128gcm16-aes192gcm16-aes256gcm16-chacha20poly1305-aes128gcm12-aes192gcm12-aes256gcm12-' +
      'aes128gcm8-aes192gcm8-aes256gcm8-' +
      'prfsha256-prfsha384-prfsha512-prfaesxcbc-prfaescmac-prfsha1-' +
      'ecp256-ecp384-ecp521-curve25519-curve448-modp3072-modp4096-modp6144-modp8192-modp2048',
  ],
  // ESP (proposal_create_default_aead / proposal_create_default): AEAD preferred (RFC 8221 makes GCM mandatory).
  esp: [
    'aes128gcm16-aes192gcm16-aes256gcm16',
    'aes128-aes192-aes256-sha256-sha384-sha512-sha1-aesxcbc',
  ],
};

/** The proposals `default` stands for in the given context. */
export function defaultProposals(protocol: ProposalProtocol): Proposal[] {
  return DEFAULTS[protocol].map((text, i) => parseOne({ text, offset: 0 }, i + 1, protocol, {}));
}

/**
 * Parses a comma-separated list of proposals (`aes256gcm16-prfsha384-x25519,default`). Keywords are matched
 * case-insensitively and may be surrounded by blanks. Throws ProposalError.
 */
export function parseProposals(text: string, protocol: ProposalProtocol, options: ProposalOptions = {}): Proposal[] {
  if (typeof text !== 'string') {
    throw new ProposalError(String(text), 1, 1, 'proposal list must be a string');
  }
  const out: Proposal[] = [];
  split(text, ',', 0).forEach((part, i) => {
    if (part.text.toLowerCase() === 'default') out.push(...defaultProposals(protocol));
    else out.push(parseOne(part, i + 1, protocol, options));
  });
  return out;
}

/** Parses exactly one proposal (no commas, no `default`). Throws ProposalError. */
export function parseProposal(text: string, protocol: ProposalProtocol, options: ProposalOptions = {}): Proposal {
  const list = parseProposals(text, protocol, options);
  if (list.length !== 1 || text.includes(',') || text.trim().toLowerCase() === 'default') {
    throw new ProposalError(text, 1, 1, 'expected a single proposal (no commas, not default)');
  }
  return list[0]!;
}

/**
 * Prints a proposal in strongSwan syntax with canonical keywords: encryption, integrity, prf, KE, then ESN (left
 * out when it is the default noesn). `parseProposal(formatProposalString(p), p.protocol)` equals `p`.
 */
export function formatProposalString(p: Proposal): string {
  const words: string[] = [];
  for (const e of p.encryption) words.push(encrKeyword(e));
  for (const i of p.integrity) words.push(keywordFor(3, i));
  for (const f of p.prf) words.push(keywordFor(2, f));
  for (const k of p.ke) words.push(keywordFor(4, k));
  proposalAddke(p).forEach((ids, i) => {
    for (const id of ids) words.push(`ke${i + 1}_${id === 0 ? 'none' : keywordFor(4, id)}`);
  });
  if (!(p.esn.length === 1 && p.esn[0] === ESN.NONE)) for (const s of p.esn) words.push(keywordFor(5, s));
  return words.join('-');
}

/** A list of proposals in strongSwan syntax, comma-separated. */
export function formatProposalsString(list: readonly Proposal[]): string {
  return list.map(formatProposalString).join(',');
}

/**
 * A proposal the way strongSwan logs it (`%P`): `IKE:AES_CBC_128/AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/
 * MODP_2048`, `ESP:AES_GCM_16_128/NO_EXT_SEQ`, so "received proposals" lines can be compared with a peer's log.
 */
export function formatProposalLog(p: Proposal): string {
  const names: string[] = [];
  for (const e of p.encryption) names.push(transformName(1, e.id, e.keyBits));
  for (const i of p.integrity) names.push(transformName(3, i));
  for (const f of p.prf) names.push(transformName(2, f));
  for (const k of p.ke) names.push(transformName(4, k));
  proposalAddke(p).forEach((ids, i) => {
    for (const id of ids) names.push(additionalKeName(i + 6, id));
  });
  for (const s of p.esn) names.push(transformName(5, s));
  return `${PROTO_NAME[p.protocol]}:${names.join('/')}`;
}

/** One transform as carried in an SA payload Transform substructure (RFC 7296 3.3.2). */
export interface WireTransform {
  readonly type: TransformTypeId;
  readonly id: number;
  /** Value of the Key Length attribute (type 14), in bits, when the transform carries one. */
  readonly keyBits?: number;
}

/**
 * The transforms of a proposal in SA payload order (ENCR, PRF, INTEG, KE, ESN: the Transform Type order RFC 7296
 * 3.3 uses in its examples), each type in preference order.
 */
export function proposalTransforms(p: Proposal): WireTransform[] {
  const out: WireTransform[] = [];
  for (const e of p.encryption) {
    out.push(e.keyBits === undefined ? { type: 1, id: e.id } : { type: 1, id: e.id, keyBits: e.keyBits });
  }
  for (const id of p.prf) out.push({ type: 2, id });
  for (const id of p.integrity) out.push({ type: 3, id });
  for (const id of p.ke) out.push({ type: 4, id });
  for (const id of p.esn) out.push({ type: 5, id });
  return out;
}

/**
 * Groups received transforms back into a Proposal (for selection and for logging what a peer offered). No policy
 * checks here: a peer's proposal is judged by the selection code, not by the config rules of parseProposals.
 */
export function proposalFromTransforms(protocol: ProposalProtocol, transforms: readonly WireTransform[]): Proposal {
  const encryption: ProposalEncryption[] = [];
  const integrity: number[] = [];
  const prf: number[] = [];
  const ke: number[] = [];
  const esn: number[] = [];
  for (const t of transforms) {
    switch (t.type) {
      case 1: encryption.push(t.keyBits === undefined ? { id: t.id } : { id: t.id, keyBits: t.keyBits }); break;
      case 2: prf.push(t.id); break;
      case 3: integrity.push(t.id); break;
      case 4: ke.push(t.id); break;
      case 5: esn.push(t.id); break;
    }
  }
  return { protocol, encryption, integrity, prf, ke, esn };
}

/** Every keyword cygnet accepts, with what it stands for (for docs, completion and tests). */
export function proposalKeywords(): ReadonlyMap<string, Readonly<WireTransform>> {
  return KEYWORDS;
}

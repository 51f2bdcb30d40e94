import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoError } from './errors.js';
import {
  ProposalError,
  defaultProposals,
  formatProposalLog,
  formatProposalString,
  formatProposalsString,
  parseProposal,
  parseProposals,
  proposalFromTransforms,
  proposalKeywords,
  proposalTransforms,
  suggestKeyword,
  type Proposal,
  type ProposalProtocol,
} from './proposals.js';
import { ENCR, ESN, INTEG, KE, PRF } from './transforms.js';

/** What each keyword means, transcribed from strongSwan's proposal_keywords_static.txt (cygnet's subset). */
const EXPECTED: Record<string, [type: number, id: number, keyBits?: number]> = {
  null: [1, 11], '3des': [1, 3],
  aes: [1, 12, 128], aes128: [1, 12, 128], aes192: [1, 12, 192], aes256: [1, 12, 256],
  aes128ctr: [1, 13, 128], aes192ctr: [1, 13, 192], aes256ctr: [1, 13, 256],
  chacha20poly1305: [1, 28],
  sha: [3, 2], sha1: [3, 2], sha256: [3, 12], sha2_256: [3, 12], sha384: [3, 13], sha2_384: [3, 13],
  sha512: [3, 14], sha2_512: [3, 14], aesxcbc: [3, 5], aescmac: [3, 8],
  prfsha1: [2, 2], prfsha256: [2, 5], prfsha384: [2, 6], prfsha512: [2, 7], prfaesxcbc: [2, 4], prfaescmac: [2, 8],
  none: [4, 0], modpnone: [4, 0],
  modp1024: [4, 2], modp1536: [4, 5], modp2048: [4, 14], modp3072: [4, 15], modp4096: [4, 16], modp6144: [4, 17],
  modp8192: [4, 18], ecp256: [4, 19], ecp384: [4, 20], ecp521: [4, 21],
  modp1024s160: [4, 22], modp2048s224: [4, 23], modp2048s256: [4, 24],
  ecp224bp: [4, 27], ecp256bp: [4, 28], ecp384bp: [4, 29], ecp512bp: [4, 30],
  curve25519: [4, 31], x25519: [4, 31], curve448: [4, 32], x448: [4, 32],
  // strongSwan 6 proposal_keywords_static.txt; IANA Transform Type 4 ids 35-37 (draft-ietf-ipsecme-ikev2-mlkem)
  mlkem512: [4, 35], mlkem768: [4, 36], mlkem1024: [4, 37],
  noesn: [5, 0], esn: [5, 1],
};
for (const bits of [128, 192, 256]) {
  for (const [mode, i8, i12, i16] of [['gcm', 18, 19, 20], ['ccm', 14, 15, 16]] as const) {
    EXPECTED[`aes${bits}${mode}8`] = [1, i8, bits];
    EXPECTED[`aes${bits}${mode}64`] = [1, i8, bits];
    EXPECTED[`aes${bits}${mode}12`] = [1, i12, bits];
    EXPECTED[`aes${bits}${mode}96`] = [1, i12, bits];
    EXPECTED[`aes${bits}${mode}16`] = [1, i16, bits];
    EXPECTED[`aes${bits}${mode}128`] = [1, i16, bits];
    EXPECTED[`aes${bits}${mode}`] = [1, i16, bits];
  }
}

function enc(id: number, keyBits?: number) {
  return keyBits === undefined ? { id } : { id, keyBits };
}

function errorOf(text: string, protocol: ProposalProtocol): ProposalError {
  try {
    parseProposals(text, protocol);
  } catch (e) {
    expect(e).toBeInstanceOf(ProposalError);
    expect(e).toBeInstanceOf(CryptoError);
    expect((e as ProposalError).code).toBe('INVALID_PROPOSAL');
    return e as ProposalError;
  }
  throw new Error(`'${text}' parsed without error`);
}

describe('keywords', () => {
  it('has exactly the expected keyword set', () => {
    expect([...proposalKeywords().keys()].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s', (word, [type, id, keyBits]) => {
    expect(proposalKeywords().get(word)).toEqual(keyBits === undefined ? { type, id } : { type, id, keyBits });
    // and it parses in the context where it is valid, completed to a minimal valid proposal
    const isAead = type === 1 && [14, 15, 16, 18, 19, 20, 28].includes(id);
    if (type === 1) {
      const esp = parseProposal(isAead ? word : `${word}-sha256`, 'esp');
      expect(esp.encryption).toEqual([enc(id, keyBits)]);
      if (id !== ENCR.NULL) {
        const ike = parseProposal(isAead ? `${word}-prfsha256-x25519` : `${word}-sha256-x25519`, 'ike');
        expect(ike.encryption).toEqual([enc(id, keyBits)]);
      }
    } else if (type === 2) {
      expect(parseProposal(`aes128gcm16-${word}-x25519`, 'ike').prf).toEqual([id]);
    } else if (type === 3) {
      expect(parseProposal(`aes128-${word}`, 'esp').integrity).toEqual([id]);
      expect(parseProposal(`aes128-${word}-ecp256`, 'ike').integrity).toEqual([id]);
    } else if (type === 4) {
      // ML-KEM parses only once the IKE core says it can carry it (mlkem.test.ts in this folder covers the refusal)
      const opts = word.startsWith('mlkem') ? { ikeIntermediate: true } : {};
      expect(parseProposal(`aes128gcm16-${word}`, 'esp', opts).ke).toEqual([id]);
      if (id !== 0) expect(parseProposal(`aes128gcm16-prfsha256-${word}`, 'ike', opts).ke).toEqual([id]);
    } else {
      expect(parseProposal(`aes128gcm16-${word}`, 'esp').esn).toEqual([id]);
    }
  });

  it('matches keywords case-insensitively and ignores blanks around them', () => {
    expect(parseProposals(' AES256-Sha256 - MODP2048 , aes128GCM16-prfSHA256-X25519 ', 'ike')).toEqual(
      parseProposals('aes256-sha256-modp2048,aes128gcm16-prfsha256-x25519', 'ike'),
    );
  });
});

describe('IKE proposals', () => {
  it('parses an AEAD proposal', () => {
    expect(parseProposal('aes128gcm16-prfsha256-x25519', 'ike')).toEqual({
      protocol: 'ike', encryption: [enc(ENCR.AES_GCM_16, 128)], integrity: [], prf: [PRF.HMAC_SHA2_256],
      ke: [KE.CURVE_25519], esn: [],
    });
    expect(parseProposal('chacha20poly1305-prfsha512-curve25519', 'ike')).toEqual({
      protocol: 'ike', encryption: [enc(ENCR.CHACHA20_POLY1305)], integrity: [], prf: [PRF.HMAC_SHA2_512],
      ke: [KE.CURVE_25519], esn: [],
    });
    expect(parseProposal('aes256gcm16-prfsha384-ecp384', 'ike')).toMatchObject({
      encryption: [enc(ENCR.AES_GCM_16, 256)], prf: [PRF.HMAC_SHA2_384], ke: [KE.ECP_384],
    });
  });

  it('derives the PRF from the integrity algorithm when no prf keyword is given', () => {
    expect(parseProposal('aes256-sha256-modp2048', 'ike')).toEqual({
      protocol: 'ike', encryption: [enc(ENCR.AES_CBC, 256)], integrity: [INTEG.HMAC_SHA2_256_128],
      prf: [PRF.HMAC_SHA2_256], ke: [KE.MODP_2048], esn: [],
    });
    expect(parseProposal('aes128-sha1-modp1024', 'ike')).toMatchObject({
      integrity: [INTEG.HMAC_SHA1_96], prf: [PRF.HMAC_SHA1], ke: [KE.MODP_1024],
    });
    expect(parseProposal('aes128-sha512-sha384-aesxcbc-aescmac-ecp256', 'ike').prf).toEqual([
      PRF.HMAC_SHA2_512, PRF.HMAC_SHA2_384, PRF.AES128_XCBC, PRF.AES128_CMAC,
    ]);
    // an explicit prf keyword wins over derivation
    expect(parseProposal('aes128-sha256-prfsha512-ecp256', 'ike').prf).toEqual([PRF.HMAC_SHA2_512]);
  });

  it('keeps several algorithms of a kind in preference order, whatever the keyword order', () => {
    const a = parseProposal('aes128-aes256-sha256-sha384-modp2048-ecp256', 'ike');
    expect(a).toEqual({
      protocol: 'ike', encryption: [enc(ENCR.AES_CBC, 128), enc(ENCR.AES_CBC, 256)],
      integrity: [INTEG.HMAC_SHA2_256_128, INTEG.HMAC_SHA2_384_192], prf: [PRF.HMAC_SHA2_256, PRF.HMAC_SHA2_384],
      ke: [KE.MODP_2048, KE.ECP_256], esn: [],
    });
    expect(parseProposal('modp2048-sha256-aes128-ecp256-aes256-sha384', 'ike')).toEqual(a);
  });

  it('folds repeated keywords and aliases into one transform', () => {
    expect(parseProposal('aes-aes128-sha-sha1-x25519-curve25519', 'ike')).toMatchObject({
      encryption: [enc(ENCR.AES_CBC, 128)], integrity: [INTEG.HMAC_SHA1_96], ke: [KE.CURVE_25519],
    });
  });

  it('drops KE none from IKE proposals as strongSwan does', () => {
    expect(parseProposal('aes128-sha256-none-ecp256', 'ike').ke).toEqual([KE.ECP_256]);
  });
});

describe('ESP proposals', () => {
  it('parses AEAD and classic proposals with default noesn', () => {
    expect(parseProposal('aes128gcm16', 'esp')).toEqual({
      protocol: 'esp', encryption: [enc(ENCR.AES_GCM_16, 128)], integrity: [], prf: [], ke: [], esn: [ESN.NONE],
    });
    expect(parseProposal('aes256-sha256', 'esp')).toEqual({
      protocol: 'esp', encryption: [enc(ENCR.AES_CBC, 256)], integrity: [INTEG.HMAC_SHA2_256_128], prf: [], ke: [],
      esn: [ESN.NONE],
    });
  });
  it('takes a KE method as the PFS group', () => {
    expect(parseProposal('aes256-sha256-ecp384', 'esp')).toMatchObject({ ke: [KE.ECP_384], prf: [] });
    expect(parseProposal('aes128gcm16-modp2048-none', 'esp').ke).toEqual([KE.MODP_2048, KE.NONE]);
  });
  it('parses esn and noesn', () => {
    expect(parseProposal('aes128gcm16-esn', 'esp').esn).toEqual([ESN.ESN]);
    expect(parseProposal('aes128-sha256-noesn', 'esp').esn).toEqual([ESN.NONE]);
    expect(parseProposal('aes128-sha256-modp2048-esn', 'esp')).toMatchObject({
      encryption: [enc(ENCR.AES_CBC, 128)], integrity: [INTEG.HMAC_SHA2_256_128], ke: [KE.MODP_2048], esn: [ESN.ESN],
    });
    expect(parseProposal('aes128gcm16-esn-noesn', 'esp').esn).toEqual([ESN.ESN, ESN.NONE]);
  });
  it('accepts classic encryption without integrity (as strongSwan does) and NULL with integrity', () => {
    expect(parseProposal('aes128ctr', 'esp').integrity).toEqual([]);
    expect(parseProposal('null-sha256', 'esp').encryption).toEqual([enc(ENCR.NULL)]);
  });
});

describe('default', () => {
  it('expands to strongSwan defaults for IKE: classic first, then AEAD', () => {
    const [classic, aead, ...rest] = parseProposals('default', 'ike');
    expect(rest).toEqual([]);
    expect(classic!.encryption).toEqual([enc(12, 128), enc(12, 192), enc(12, 256)]);
    expect(classic!.integrity).toEqual([12, 13, 14, 2, 5, 8]);
    expect(aead!.encryption.slice(0, 4)).toEqual([enc(20, 128), enc(20, 192), enc(20, 256), enc(28)]);
    expect(aead!.integrity).toEqual([]);
    for (const p of [classic!, aead!]) {
      expect(p.prf).toEqual([5, 6, 7, 4, 8, 2]);
      // no weak groups: no MODP 1024/1536, no RFC 5114 groups; MODP 2048 last
      expect(p.ke).toEqual([19, 20, 21, 31, 32, 15, 16, 17, 18, 14]);
    }
  });
  it('expands to strongSwan defaults for ESP: AEAD first, then classic', () => {
    expect(formatProposalsString(parseProposals('default', 'esp'))).toBe(
      'aes128gcm16-aes192gcm16-aes256gcm16,aes128-aes192-aes256-sha256-sha384-sha512-sha1-aesxcbc',
    );
    expect(parseProposals('DEFAULT', 'esp')).toEqual(defaultProposals('esp'));
  });
  it('combines with explicit proposals', () => {
    const list = parseProposals('aes256gcm16-prfsha384-x25519,default', 'ike');
    expect(list).toHaveLength(3);
    expect(list[0]).toEqual(parseProposal('aes256gcm16-prfsha384-x25519', 'ike'));
    expect(list.slice(1)).toEqual(defaultProposals('ike'));
    expect(parseProposals('default,aes128-sha256', 'esp')).toHaveLength(3);
  });
});

describe('printing', () => {
  it('prints canonical keywords', () => {
    expect(formatProposalString(parseProposal('aes128gcm128-prfsha256-x25519', 'ike'))).toBe(
      'aes128gcm16-prfsha256-curve25519',
    );
    expect(formatProposalString(parseProposal('aes-sha-modp2048', 'ike'))).toBe('aes128-sha1-prfsha1-modp2048');
    expect(formatProposalString(parseProposal('aes256-sha2_256-ecp384', 'esp'))).toBe('aes256-sha256-ecp384');
    expect(formatProposalString(parseProposal('aes128gcm16-esn', 'esp'))).toBe('aes128gcm16-esn');
    expect(formatProposalString(parseProposal('aes128gcm16-noesn-esn', 'esp'))).toBe('aes128gcm16-noesn-esn');
    expect(formatProposalString(parseProposal('3des-sha1-modpnone', 'esp'))).toBe('3des-sha1-none');
  });
  it('prints strongSwan log lines', () => {
    expect(formatProposalLog(parseProposal('aes128gcm16-prfsha256-x25519', 'ike'))).toBe(
      'IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519',
    );
    expect(formatProposalLog(parseProposal('aes256-sha256', 'esp'))).toBe('ESP:AES_CBC_256/HMAC_SHA2_256_128/NO_EXT_SEQ');
  });
  it('round-trips every keyword and the defaults', () => {
    for (const p of [...defaultProposals('ike'), ...defaultProposals('esp')]) {
      expect(parseProposal(formatProposalString(p), p.protocol)).toEqual(p);
    }
    const all = [...proposalKeywords()];
    const espText = all.filter(([, t]) => t.type !== 2 && !(t.type === 1 && [14, 15, 16, 18, 19, 20, 28].includes(t.id)))
      .map(([k]) => k).join('-');
    const esp = parseProposal(espText, 'esp', { ikeIntermediate: true });
    expect(parseProposal(formatProposalString(esp), 'esp', { ikeIntermediate: true })).toEqual(esp);
  });
  it('round-trips random valid proposals (property)', () => {
    const aeadWords = Object.entries(EXPECTED).filter(([, [t, id]]) => t === 1 && [14, 15, 16, 18, 19, 20, 28].includes(id)).map(([k]) => k);
    const classicWords = Object.entries(EXPECTED).filter(([, [t, id]]) => t === 1 && [3, 12, 13].includes(id)).map(([k]) => k);
    const words = (type: number) => Object.entries(EXPECTED).filter(([, [t]]) => t === type).map(([k]) => k);
    const some = (list: string[], min: number) => fc.array(fc.constantFrom(...list), { minLength: min, maxLength: 4 });
    const ike = fc.oneof(
      fc.tuple(some(aeadWords, 1), fc.constant([] as string[]), some(words(2), 1), some(words(4).filter((w) => !w.includes('none')), 1)),
      fc.tuple(some(classicWords, 1), some(words(3), 1), some(words(2), 0), some(words(4).filter((w) => !w.includes('none')), 1)),
    );
    const esp = fc.oneof(
      fc.tuple(some(aeadWords, 1), fc.constant([] as string[]), some(words(4), 0), some(words(5), 0)),
      fc.tuple(some(classicWords, 1), some(words(3), 0), some(words(4), 0), some(words(5), 0)),
    );
    // keyword order within a proposal does not matter, so shuffle the words of all kinds together
    const shuffled = (parts: fc.Arbitrary<string[][]>) =>
      parts.chain((ps) => fc.shuffledSubarray(ps.flat(), { minLength: ps.flat().length }));
    const check = (protocol: ProposalProtocol) => (words: string[]) => {
      const p: Proposal = parseProposal(words.join('-'), protocol, { ikeIntermediate: true });
      expect(parseProposal(formatProposalString(p), protocol, { ikeIntermediate: true })).toEqual(p);
    };
    fc.assert(fc.property(shuffled(ike), check('ike')), { numRuns: 300 });
    fc.assert(fc.property(shuffled(esp), check('esp')), { numRuns: 300 });
  });
});

describe('SA payload transforms', () => {
  it('lists transforms in ENCR, PRF, INTEG, KE, ESN order with Key Length only where it applies', () => {
    const p = parseProposal('aes128-aes256-sha256-modp2048', 'ike');
    expect(proposalTransforms(p)).toEqual([
      { type: 1, id: 12, keyBits: 128 }, { type: 1, id: 12, keyBits: 256 }, { type: 2, id: 5 }, { type: 3, id: 12 },
      { type: 4, id: 14 },
    ]);
    expect(proposalTransforms(parseProposal('chacha20poly1305-esn', 'esp'))).toEqual([
      { type: 1, id: 28 }, { type: 5, id: 1 },
    ]);
  });
  it('groups transforms back into the same proposal', () => {
    for (const p of [...defaultProposals('ike'), ...defaultProposals('esp'), parseProposal('aes128-sha256-ecp256-esn-noesn', 'esp')]) {
      expect(proposalFromTransforms(p.protocol, proposalTransforms(p))).toEqual(p);
    }
  });
});

describe('errors name the keyword, the proposal and the column', () => {
  it('unknown keyword, with the nearest valid keyword', () => {
    const e = errorOf('aes128gcm16-prfsha256-x25519,aes129-sha256-modp2048', 'ike');
    expect(e).toMatchObject({ keyword: 'aes129', proposalIndex: 2, column: 30, suggestion: 'aes128' });
    expect(e.message).toBe(
      "invalid proposal: 'aes129' (proposal 2, column 30): unknown keyword in IKE proposal; did you mean 'aes128'?",
    );
    expect(errorOf('aes128-sha265', 'esp')).toMatchObject({ keyword: 'sha265', column: 8, suggestion: 'sha256' });
    expect(errorOf('aes128gcm16-prfsha256-x2559', 'ike').message).toMatch(/'x2559'.*column 23.*did you mean 'x25519'\?/);
    expect(errorOf('aes128gcm16-prfsha256-curve25519-modp2049', 'ike').suggestion).toBe('modp2048');
    expect(errorOf('chacha20-prfsha256-x25519', 'ike').suggestion).toBe('chacha20poly1305');
  });
  it('suggestions stay within the context', () => {
    expect(suggestKeyword('prfsha256', 'esp')).not.toMatch(/^prf/);
    expect(suggestKeyword('esm', 'ike')).not.toBe('esn');
    expect(suggestKeyword('esm', 'esp')).toBe('esn');
    expect(suggestKeyword('defalt', 'ike')).toBe('default');
  });
  it('keywords of algorithms cygnet does not implement', () => {
    const e = errorOf('aes128-md5-modp2048', 'ike');
    expect(e).toMatchObject({ keyword: 'md5', proposalIndex: 1, column: 8 });
    expect(e.message).toMatch(/'md5'.*not implement/);
    expect(errorOf('des-sha1', 'esp').keyword).toBe('des');
    expect(errorOf('camellia128ccm16', 'esp').keyword).toBe('camellia128ccm16');
  });
  it('AEAD mixed with classic encryption', () => {
    const e = errorOf('aes128gcm16-aes256-sha256', 'esp');
    expect(e).toMatchObject({ keyword: 'aes256', proposalIndex: 1, column: 13 });
    expect(e.message).toMatch(/AEAD and classic encryption cannot be mixed.*'aes128gcm16' is AEAD/);
    expect(errorOf('aes256-sha256-aes128gcm16', 'esp').message).toMatch(/'aes128gcm16'.*'aes256' is classic/);
  });
  it('AEAD with an integrity algorithm', () => {
    const e = errorOf('aes128gcm16-sha256-prfsha256-x25519', 'ike');
    expect(e).toMatchObject({ keyword: 'sha256', column: 13 });
    expect(e.message).toMatch(/integrity algorithm next to AEAD 'aes128gcm16'/);
    expect(errorOf('chacha20poly1305-sha1', 'esp').keyword).toBe('sha1');
  });
  it('missing encryption', () => {
    const e = errorOf('aes128-sha256,  sha256-modp2048', 'esp');
    expect(e).toMatchObject({ keyword: 'sha256-modp2048', proposalIndex: 2, column: 17 });
    expect(e.message).toMatch(/no encryption algorithm in ESP proposal/);
    expect(errorOf('prfsha256-x25519', 'ike').message).toMatch(/no encryption algorithm in IKE proposal/);
  });
  it('missing KE in IKE', () => {
    const e = errorOf('aes128gcm16-prfsha256', 'ike');
    expect(e).toMatchObject({ keyword: 'aes128gcm16-prfsha256', proposalIndex: 1, column: 1 });
    expect(e.message).toMatch(/no key exchange method/);
    expect(errorOf('aes128-sha256-none', 'ike').message).toMatch(/no key exchange method/);
  });
  it('missing PRF for AEAD in IKE, missing integrity for classic in IKE', () => {
    expect(errorOf('aes128gcm16-x25519', 'ike').message).toMatch(/no PRF: AEAD IKE proposals need a prf keyword/);
    expect(errorOf('aes128-x25519', 'ike').message).toMatch(/no integrity algorithm: classic encryption 'aes128'/);
    expect(errorOf('aes128-prfsha256-x25519', 'ike').message).toMatch(/no integrity algorithm/);
  });
  it('prf keyword in ESP, esn keyword in IKE, NULL in IKE, NULL without integrity', () => {
    const e = errorOf('aes128gcm16-prfsha256', 'esp');
    expect(e).toMatchObject({ keyword: 'prfsha256', column: 13 });
    expect(e.message).toMatch(/prf keywords are only valid in IKE proposals/);
    expect(errorOf('aes128gcm16-prfsha256-x25519-esn', 'ike')).toMatchObject({ keyword: 'esn', column: 30 });
    expect(errorOf('null-sha256-x25519', 'ike').message).toMatch(/ENCR_NULL is not allowed in IKE.*RFC 7296/);
    expect(errorOf('null', 'esp').message).toMatch(/ENCR_NULL without an integrity algorithm/);
  });
  it('empty keywords and proposals, misplaced default', () => {
    expect(errorOf('aes128--sha256', 'esp')).toMatchObject({ keyword: '', column: 8 });
    expect(errorOf('aes128-sha256-', 'esp').message).toMatch(/empty keyword/);
    expect(errorOf('aes128gcm16,,aes128-sha256', 'esp')).toMatchObject({ proposalIndex: 2, column: 13 });
    expect(errorOf('', 'esp').message).toMatch(/empty proposal/);
    expect(errorOf('aes128gcm16-default', 'esp')).toMatchObject({ keyword: 'default', column: 13 });
    expect(() => parseProposal('aes128gcm16,aes256gcm16', 'esp')).toThrow(ProposalError);
    expect(() => parseProposal('default', 'esp')).toThrow(/single proposal/);
  });
  it('returns a typed error, never another exception, for arbitrary input (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), fc.constantFrom<ProposalProtocol>('ike', 'esp'), (s, proto) => {
      try {
        parseProposals(s, proto);
      } catch (e) {
        expect(e).toBeInstanceOf(ProposalError);
      }
    }), { numRuns: 500 });
    fc.assert(fc.property(
      fc.array(fc.constantFrom(...Object.keys(EXPECTED), 'default', 'x', ''), { maxLength: 8 }),
      fc.constantFrom<ProposalProtocol>('ike', 'esp'),
      (ws, proto) => {
        try {
          for (const p of parseProposals(ws.join('-'), proto)) {
            expect(parseProposal(formatProposalString(p), proto)).toEqual(p);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(ProposalError);
        }
      },
    ), { numRuns: 500 });
    expect(() => parseProposals(undefined as unknown as string, 'ike')).toThrow(ProposalError);
  });
});

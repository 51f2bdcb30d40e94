import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nobleBackend } from './backends/noble.js';
import { nodeBackend } from './backends/node.js';
import { CryptoError } from './errors.js';
import { createKemInitiator, isKemExchange, kemRespond } from './kem.js';
import {
  decapsulationKeyProblem,
  encapsulationKeyProblem,
  ML_KEM_PARAMS,
  mlKemParams,
} from './mlkem.js';
import {
  ML_KEM_NEEDS_INTERMEDIATE,
  ProposalError,
  formatProposalLog,
  formatProposalString,
  parseProposal,
  parseProposals,
} from './proposals.js';
import { createProvider } from './provider.js';
import { seededRandom } from './random.js';
import { KE, keTransform } from './transforms.js';

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

function codeOf(fn: () => unknown): string {
  const e = caught(fn);
  expect(e).toBeInstanceOf(CryptoError);
  return (e as CryptoError).code;
}

const METHODS = [KE.ML_KEM_512, KE.ML_KEM_768, KE.ML_KEM_1024];

describe('ML-KEM parameter sets (FIPS 203 section 8)', () => {
  it('has the Table 3 sizes, and transforms.ts agrees', () => {
    const sizes = METHODS.map((m) => {
      const p = mlKemParams(m)!;
      return [p.name, p.ekBytes, p.dkBytes, p.ctBytes, p.ssBytes];
    });
    expect(sizes).toEqual([
      ['ML-KEM-512', 800, 1632, 768, 32],
      ['ML-KEM-768', 1184, 2400, 1088, 32],
      ['ML-KEM-1024', 1568, 3168, 1568, 32],
    ]);
    for (const m of METHODS) {
      const t = keTransform(m);
      expect([t.publicBytes, t.responderBytes]).toEqual([mlKemParams(m)!.ekBytes, mlKemParams(m)!.ctBytes]);
    }
    expect(mlKemParams(KE.CURVE_25519)).toBeUndefined();
  });
});

describe('proposal keywords mlkem512/768/1024 (strongSwan 6)', () => {
  it('are refused without ikeIntermediate, naming the keyword and its column', () => {
    for (const [text, protocol, word, column] of [
      ['aes256gcm16-prfsha384-mlkem768', 'ike', 'mlkem768', 23],
      ['aes256-sha256-x25519-mlkem1024', 'ike', 'mlkem1024', 22],
      ['aes128gcm16-mlkem512', 'esp', 'mlkem512', 13],
      ['aes128-sha256-modp2048,aes256gcm16-prfsha256-MLKEM768', 'ike', 'MLKEM768', 46],
    ] as const) {
      const e = caught(() => parseProposals(text, protocol));
      expect(e).toBeInstanceOf(ProposalError);
      const pe = e as ProposalError;
      expect(pe.code).toBe('INVALID_PROPOSAL');
      expect([pe.keyword, pe.column, pe.reason]).toEqual([word, column, ML_KEM_NEEDS_INTERMEDIATE]);
      expect(pe.message).toContain('ML-KEM needs IKE_INTERMEDIATE (RFC 9242), not yet supported');
    }
  });

  it('parse to methods 35/36/37 with ikeIntermediate, print back and log as strongSwan does', () => {
    const opts = { ikeIntermediate: true };
    const p = parseProposal('aes256gcm16-prfsha384-x25519-mlkem768-mlkem512-mlkem1024', 'ike', opts);
    expect(p.ke).toEqual([31, 36, 35, 37]);
    expect(formatProposalString(p)).toBe('aes256gcm16-prfsha384-curve25519-mlkem768-mlkem512-mlkem1024');
    expect(formatProposalLog(p)).toBe('IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519/ML_KEM_768/ML_KEM_512/ML_KEM_1024');
    expect(parseProposal('aes128gcm16-mlkem768', 'esp', opts).ke).toEqual([36]);
  });

  it('parses strongSwan 6 additional key exchanges (ke1_ ... ke7_, RFC 9370 ADDKE1-7) and prints them back', () => {
    const p = parseProposal('aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke2_mlkem1024', 'ike');
    expect(p.ke).toEqual([31]);
    expect(p.addke).toEqual([[36], [37], [], [], [], [], []]);
    expect(formatProposalString(p)).toBe('aes256gcm16-prfsha384-curve25519-ke1_mlkem768-ke2_mlkem1024');
    expect(parseProposal(formatProposalString(p), 'ike')).toEqual(p);
    expect(formatProposalLog(p)).toBe('IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768/KE2_ML_KEM_1024');
    // ke1_none: NONE (0) for ADDKE1 makes the exchange optional (RFC 9370 2.2.1)
    const opt = parseProposal('aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke1_none', 'ike');
    expect(opt.addke?.[0]).toEqual([36, 0]);
    expect(formatProposalString(opt)).toBe('aes256gcm16-prfsha384-curve25519-ke1_mlkem768-ke1_none');
    expect(formatProposalLog(opt)).toBe('IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768/KE1_NONE');
    // a classic proposal keeps its shape (no addke key at all)
    expect('addke' in parseProposal('aes256gcm16-prfsha384-x25519', 'ike')).toBe(false);
  });

  it('refuses bad additional key exchange keywords, naming keyword and column', () => {
    const bad = (text: string, protocol: 'ike' | 'esp' = 'ike') => caught(() => parseProposals(text, protocol)) as ProposalError;
    const n8 = bad('aes256gcm16-prfsha256-x25519-ke8_mlkem768');
    expect(n8).toBeInstanceOf(ProposalError);
    expect([n8.keyword, n8.column]).toEqual(['ke8_mlkem768', 30]);
    expect(n8.reason).toMatch(/ke1_ to ke7_, not ke8_/);
    const typo = bad('aes256gcm16-prfsha256-x25519-ke1_mlkem769');
    expect(typo.reason).toMatch(/'mlkem769' after 'ke1_' is not a key exchange method/);
    expect(typo.suggestion).toBe('ke1_mlkem768');
    expect(bad('aes256gcm16-prfsha256-x25519-ke1_aes128').reason).toMatch(/not a key exchange method/);
    // RFC 9370 2.2.4: ESP proposals carry them for PFS in CREATE_CHILD_SA (IKE_FOLLOWUP_KE), after a PFS group
    expect(parseProposals('aes128gcm16-x25519-ke1_mlkem768', 'esp')[0]?.addke?.[0]).toEqual([36]);
    expect(bad('aes128gcm16-ke1_mlkem768', 'esp').reason).toMatch(/need a key exchange method for PFS as well/);
  });

  it('leaves the defaults without ML-KEM (strongSwan 6 does not add it to default either)', () => {
    for (const p of parseProposals('default', 'ike')) expect(p.ke.some((k) => k >= 35 && k <= 37)).toBe(false);
  });
});

describe('FIPS 203 input checks', () => {
  const p = ML_KEM_PARAMS.get(36)!;
  const { publicValue: ek } = createKemInitiator(nobleBackend, 36, seededRandom(1));

  it('pass a generated ek, and find a coefficient >= q wherever it is', () => {
    expect(encapsulationKeyProblem(p, ek)).toBeNull();
    for (const index of [0, 1, 255, 256, 767]) {
      const bad = ek.slice();
      // coefficient `index` lives in bytes 3*(index>>1) .. +2: even ones in the low 12 bits, odd ones in the high.
      const at = 3 * (index >> 1);
      if (index % 2 === 0) {
        bad[at] = 0xff;
        bad[at + 1] = (bad[at + 1]! & 0xf0) | 0x0f; // 4095
      } else {
        bad[at + 1] = (bad[at + 1]! & 0x0f) | 0x10;
        bad[at + 2] = 0xd0; // 0xd01 = 3329 = q itself
      }
      expect(encapsulationKeyProblem(p, bad)).toBe(
        `has coefficient ${index} of t-hat = ${index % 2 === 0 ? 4095 : 3329}, not below q = 3329 (FIPS 203 section 7.2 modulus check)`,
      );
    }
    // rho (the last 32 bytes) is any value
    const rho = ek.slice();
    rho.fill(0xff, p.ekBytes - 32);
    expect(encapsulationKeyProblem(p, rho)).toBeNull();
    expect(encapsulationKeyProblem(p, ek.subarray(1))).toMatch(/is 1183 bytes, must be 1184/);
  });

  it('check dk length and its H(ek)', () => {
    const kem = nobleBackend.kem!(36);
    const { dk } = kem.keyGen(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));
    expect(decapsulationKeyProblem(p, dk)).toBeNull();
    const bad = dk.slice();
    bad[768 * 3 + 40]! ^= 1;
    expect(decapsulationKeyProblem(p, bad)).toMatch(/hash check/);
    expect(decapsulationKeyProblem(p, dk.subarray(0, 2399))).toMatch(/is 2399 bytes, must be 2400/);
  });
});

describe('KEM roles (RFC 9370 section 2.2)', () => {
  it.each(METHODS)('method %i: initiator sends ek, responder answers c, both get the same 32 bytes', (m) => {
    const p = mlKemParams(m)!;
    const i = createKemInitiator(nobleBackend, m, seededRandom(m));
    expect([i.kind, i.role, i.group, i.publicValue.length, i.peerValueBytes]).toEqual(['kem', 'initiator', m, p.ekBytes, p.ctBytes]);
    const r = kemRespond(nobleBackend, m, i.publicValue, seededRandom(m + 100));
    expect([r.role, r.publicValue.length, r.peerValueBytes]).toEqual(['responder', p.ctBytes, p.ekBytes]);
    const kI = i.computeSharedSecret(r.publicValue);
    const kR = r.computeSharedSecret(i.publicValue);
    expect(kI.length).toBe(32);
    expect(Buffer.from(kI).equals(Buffer.from(kR))).toBe(true);
    expect(isKemExchange(i) && isKemExchange(r)).toBe(true);
    // a second decapsulation gives the same key (dk is not consumed)
    expect(Buffer.from(i.computeSharedSecret(r.publicValue)).equals(Buffer.from(kI))).toBe(true);
  });

  it('is reproducible from the RandomSource, and different sources give different keys', () => {
    const a = createKemInitiator(nobleBackend, 36, seededRandom(7)).publicValue;
    const b = createKemInitiator(nobleBackend, 36, seededRandom(7)).publicValue;
    const c = createKemInitiator(nobleBackend, 36, seededRandom(8)).publicValue;
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });

  it('an altered ciphertext is implicitly rejected: a different key, no error (FIPS 203 Algorithm 18)', () => {
    const i = createKemInitiator(nobleBackend, 36, seededRandom(3));
    const r = kemRespond(nobleBackend, 36, i.publicValue, seededRandom(4));
    const c = r.publicValue.slice();
    c[100]! ^= 0x01;
    const k = i.computeSharedSecret(c);
    expect(k.length).toBe(32);
    expect(Buffer.from(k).equals(Buffer.from(r.computeSharedSecret(i.publicValue)))).toBe(false);
  });

  it('refuses a malformed ek or c with INVALID_KE_VALUE naming the parameter set and what is wrong', () => {
    const i = createKemInitiator(nobleBackend, 36, seededRandom(5));
    const e1 = caught(() => kemRespond(nobleBackend, 36, i.publicValue.subarray(0, 800), seededRandom(1))) as CryptoError;
    expect([e1.code, e1.message]).toEqual(['INVALID_KE_VALUE',
      "ML-KEM-768 (method 36): initiator's encapsulation key is 800 bytes, must be 1184 (FIPS 203 section 7.2 type check)"]);
    const bad = i.publicValue.slice();
    bad[0] = 0xff;
    bad[1] = 0xff;
    const e2 = caught(() => kemRespond(nobleBackend, 36, bad, seededRandom(1))) as CryptoError;
    expect(e2.code).toBe('INVALID_KE_VALUE');
    expect(e2.message).toMatch(/^ML-KEM-768 \(method 36\): initiator's encapsulation key has coefficient 0 of t-hat = 4095/);
    const e3 = caught(() => i.computeSharedSecret(new Uint8Array(1087))) as CryptoError;
    expect([e3.code, e3.message]).toEqual(['INVALID_KE_VALUE',
      "ML-KEM-768 (method 36): responder's ciphertext is 1087 bytes, must be 1088 (FIPS 203 section 7.3 type check)"]);
    const r = kemRespond(nobleBackend, 36, i.publicValue, seededRandom(6));
    expect(codeOf(() => r.computeSharedSecret(createKemInitiator(nobleBackend, 36, seededRandom(9)).publicValue)))
      .toBe('INVALID_KE_VALUE');
    expect(codeOf(() => i.computeSharedSecret('x' as unknown as Uint8Array))).toBe('INVALID_KE_VALUE');
  });

  it('never crashes on arbitrary peer input: a 32-byte key or INVALID_KE_VALUE (property)', () => {
    const i = createKemInitiator(nobleBackend, 35, seededRandom(11));
    const lengths = fc.oneof(fc.constantFrom(768, 800, 0, 1, 767, 769), fc.integer({ min: 0, max: 2000 }));
    fc.assert(fc.property(lengths.chain((n) => fc.uint8Array({ minLength: n, maxLength: n })), (bytes) => {
      for (const f of [() => i.computeSharedSecret(bytes), () => kemRespond(nobleBackend, 35, bytes, seededRandom(1))]) {
        try {
          const out = f();
          expect('length' in out ? out.length : out.publicValue.length).toBeGreaterThan(0);
        } catch (e) {
          expect(e).toBeInstanceOf(CryptoError);
          expect((e as CryptoError).code).toBe('INVALID_KE_VALUE');
        }
      }
    }), { numRuns: 150 });
  });

  it('refuses use after dispose', () => {
    const i = createKemInitiator(nobleBackend, 35, seededRandom(12));
    const r = kemRespond(nobleBackend, 35, i.publicValue, seededRandom(13));
    i.dispose();
    r.dispose();
    expect(codeOf(() => i.computeSharedSecret(r.publicValue))).toBe('DISPOSED');
    expect(codeOf(() => r.computeSharedSecret(i.publicValue))).toBe('DISPOSED');
  });
});

describe('backends and the provider', () => {
  it('noble has ML-KEM; node:crypto on Node 20 has none', () => {
    expect(METHODS.map((m) => nobleBackend.hasKem!(m))).toEqual([true, true, true]);
    expect(nobleBackend.hasKem!(31)).toBe(false);
    expect(nodeBackend.hasKem?.(36) ?? false).toBe(false);
    expect(codeOf(() => createKemInitiator(nodeBackend, 36, seededRandom(1)))).toBe('UNSUPPORTED_ALGORITHM');
    expect(codeOf(() => createKemInitiator(nobleBackend, 31, seededRandom(1)))).toBe('UNSUPPORTED_ALGORITHM');
  });

  it('does not offer a KEM as a Diffie-Hellman group, and says why', () => {
    expect(nobleBackend.hasKeyExchange(36)).toBe(false);
    const e = caught(() => nobleBackend.createKeyExchange(36, seededRandom(1))) as CryptoError;
    expect(e.code).toBe('UNSUPPORTED_ALGORITHM');
    expect(e.message).toMatch(/ML-KEM method 36 through createKeyExchange \(a KEM: use kem\.ts/);
  });

  it('the auto provider sends ML-KEM to noble', () => {
    const provider = createProvider({ backends: [nodeBackend, nobleBackend] });
    expect(provider.hasKem!(37)).toBe(true);
    const i = createKemInitiator(provider, 37, seededRandom(2));
    const r = kemRespond(provider, 37, i.publicValue, seededRandom(3));
    expect(Buffer.from(i.computeSharedSecret(r.publicValue)).equals(Buffer.from(r.computeSharedSecret(i.publicValue))))
      .toBe(true);
    expect(createProvider({ backends: [nodeBackend] }).hasKem!(37)).toBe(false);
    expect(codeOf(() => createProvider({ backends: [nodeBackend] }).kem!(37))).toBe('UNSUPPORTED_ALGORITHM');
  });
});

/**
 * From a negotiated transform set and a finished key exchange to working keys:
 *   IKE SA:   SKEYSEED and SK_d, SK_ai/ar, SK_ei/er, SK_pi/pr (RFC 7296 2.14), wrapped as SK payload keys.
 *   CHILD SA: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) (RFC 7296 2.17), split into per-direction keys.
 *   With RFC 9370 2.2.4 additional key exchanges (IKE_FOLLOWUP_KE), SK(1) ... SK(n) follow Nr in both.
 */
import type { CryptoBackend } from '../crypto/types.js';
import { createPrf, prfPlus, type Prf } from '../crypto/prf.js';
import { concatBytes } from '../crypto/bytes.js';
import { computeSKEYSEED, computeRekeySKEYSEED, deriveChildSaKeymat, deriveIkeSaKeys } from '../crypto/kdf.js';
import { createEncryption, createIntegrity, encrKeymatBytes, integKeyBytes, prfKeyBytes, type EncryptionContext, type IntegrityContext } from '../crypto/suite.js';
import { INTEG, type TransformSet } from '../crypto/transforms.js';
import type { SkKeys } from './codec/types.js';
import { internSet } from './intern.js';

export interface IkeSaKeys {
  readonly prf: Prf;
  readonly SK_d: Uint8Array;
  readonly SK_pi: Uint8Array;
  readonly SK_pr: Uint8Array;
  /** Keys for messages we send (SK_ei/SK_ai when we are the original initiator). */
  readonly out: SkKeys;
  /** Keys for messages we receive. */
  readonly in: SkKeys;
  /** The raw SK_e/SK_a keys, kept only when asked for (key export for capture decryption). */
  readonly raw?: { readonly SK_ei: Uint8Array; readonly SK_er: Uint8Array; readonly SK_ai: Uint8Array; readonly SK_ar: Uint8Array };
}

function integId(set: TransformSet): number {
  return set.integ ?? INTEG.NONE;
}

/**
 * SK payload keys for one direction (RFC 7296 3.14), keyed on first use and released when the SA goes idle
 * (releaseSkContexts): an established IKE SA sends or receives a message every few minutes at most (DPD, rekey),
 * while a keyed cipher context costs ~5 KB outside the heap (two EVP contexts and their key schedules), so 100k
 * held SAs would keep ~1 GB of contexts for nothing (issue 17). A prototype with getters, no per-SA closures.
 */
export class LazySkKeys implements SkKeys {
  private enc: EncryptionContext | undefined;
  private mac: IntegrityContext | undefined;

  constructor(
    private readonly crypto: CryptoBackend,
    private readonly set: TransformSet,
    /** The SA's one key buffer; this direction's `SK_e | SK_a` starts at `offset`. */
    private readonly material: Uint8Array,
    private readonly offset: number,
    private readonly encrBytes: number,
    private readonly integBytes: number,
  ) {}

  get encryption(): EncryptionContext {
    if (this.enc === undefined) this.enc = createEncryption(this.set.encr, this.set.keyBits, this.material.subarray(this.offset, this.offset + this.encrBytes), this.crypto);
    return this.enc;
  }

  get integrity(): IntegrityContext | undefined {
    const id = integId(this.set);
    if (id === INTEG.NONE) return undefined;
    if (this.mac === undefined) this.mac = createIntegrity(id, this.material.subarray(this.offset + this.encrBytes, this.offset + this.encrBytes + this.integBytes), this.crypto);
    return this.mac;
  }

  /** Whether a keyed context is held now (tests, the bench). */
  get live(): boolean {
    return this.enc !== undefined || this.mac !== undefined;
  }

  /** Frees the keyed contexts (their key schedules are wiped by dispose); the next use keys them again. */
  release(): void {
    this.enc?.dispose();
    this.mac?.dispose();
    this.enc = undefined;
    this.mac = undefined;
  }
}

/** Releases the SK contexts of both directions where they are lazy (keys restored from elsewhere may not be). */
export function releaseSkContexts(keys: IkeSaKeys): void {
  if (keys instanceof CompactIkeSaKeys) keys.release();
  else {
    if (keys.out instanceof LazySkKeys) keys.out.release();
    if (keys.in instanceof LazySkKeys) keys.in.release();
  }
}

/**
 * The IKE SA keys in one buffer, `SK_d | SK_pi | SK_pr | SK_ei | SK_ai | SK_er | SK_ar` (RFC 7296 2.14's keys in
 * another order), read through views made on access: one allocation per SA instead of seven buffers and their
 * typed-array objects (issue 17: 100k SAs in one process). The per-direction SK keys are made on use too and
 * dropped with their contexts by release() (two objects, ~180 bytes, per idle SA).
 */
class CompactIkeSaKeys implements IkeSaKeys {
  private o: LazySkKeys | undefined;
  private i: LazySkKeys | undefined;

  constructor(
    readonly prf: Prf,
    private readonly material: Uint8Array,
    private readonly p: number,
    private readonly e: number,
    private readonly a: number,
    private readonly crypto: CryptoBackend,
    private readonly set: TransformSet,
    private readonly initiator: boolean,
    private readonly exported: boolean,
  ) {}

  /** This direction's keys: initiator-to-responder (SK_ei | SK_ai) come first. */
  private sk(i2r: boolean): LazySkKeys {
    return new LazySkKeys(this.crypto, this.set, this.material, 3 * this.p + (i2r ? 0 : this.e + this.a), this.e, this.a);
  }

  get out(): LazySkKeys {
    return (this.o ??= this.sk(this.initiator));
  }

  get in(): LazySkKeys {
    return (this.i ??= this.sk(!this.initiator));
  }

  /** Frees both directions' keyed contexts and the objects holding them; the next use makes and keys them again. */
  release(): void {
    this.o?.release();
    this.i?.release();
    this.o = undefined;
    this.i = undefined;
  }

  get SK_d(): Uint8Array {
    return this.material.subarray(0, this.p);
  }

  get SK_pi(): Uint8Array {
    return this.material.subarray(this.p, 2 * this.p);
  }

  get SK_pr(): Uint8Array {
    return this.material.subarray(2 * this.p, 3 * this.p);
  }

  get raw(): IkeSaKeys['raw'] {
    if (!this.exported) return undefined;
    const o = 3 * this.p;
    const ea = (this.material.length - o) / 2;
    const e = this.e;
    return { SK_ei: this.material.subarray(o, o + e), SK_ai: this.material.subarray(o + e, o + ea), SK_er: this.material.subarray(o + ea, o + ea + e), SK_ar: this.material.subarray(o + ea + e, o + 2 * ea) };
  }
}

/**
 * Derives the IKE SA keys. `SKEYSEED` is computed from g^ir for a new SA, or with `rekey` from the old SA's SK_d
 * and PRF (RFC 7296 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)).
 */
export function deriveIkeKeys(
  crypto: CryptoBackend,
  set: TransformSet,
  args: {
    Ni: Uint8Array;
    Nr: Uint8Array;
    gir: Uint8Array;
    spiI: Uint8Array;
    spiR: Uint8Array;
    initiator: boolean;
    rekey?: { prf: Prf; SK_d: Uint8Array };
    /**
     * RFC 9370 2.2.4, IKE SA rekey with additional key exchanges: SK(1) ... SK(n) of the IKE_FOLLOWUP_KE
     * exchanges, so SKEYSEED = prf(SK_d (old), SK(0) | Ni | Nr | SK(1) | ... | SK(n)) with SK(0) = `gir`.
     */
    additional?: readonly Uint8Array[];
    exportKeys?: boolean;
  },
): IkeSaKeys {
  if (set.prf === undefined) throw new Error('IKE transform set without PRF');
  const prf = createPrf(set.prf, crypto);
  const extra = args.additional ?? [];
  const SKEYSEED = args.rekey
    ? extra.length > 0
      ? args.rekey.prf.compute(args.rekey.SK_d, [args.gir, args.Ni, args.Nr, ...extra])
      : computeRekeySKEYSEED(args.rekey.prf, args.rekey.SK_d, args.gir, args.Ni, args.Nr)
    : computeSKEYSEED(prf, args.Ni, args.Nr, args.gir);
  const e = encrKeymatBytes(set.encr, set.keyBits);
  const a = set.integ === undefined || set.integ === INTEG.NONE ? 0 : integKeyBytes(set.integ);
  const p = prfKeyBytes(set.prf);
  const k = deriveIkeSaKeys(prf, SKEYSEED, args.Ni, args.Nr, args.spiI, args.spiR, { encrKey: e, integKey: a, prfKey: p });
  SKEYSEED.fill(0);
  const parts = [k.SK_d, k.SK_pi, k.SK_pr, k.SK_ei, k.SK_ai, k.SK_er, k.SK_ar];
  const material = new Uint8Array(3 * p + 2 * (e + a));
  let off = 0;
  for (const x of parts) {
    material.set(x, off);
    off += x.length;
    x.fill(0);
  }
  // The SK contexts keep the set for keying on use: a shared one (sa-compact.ts also interns sa.set).
  return new CompactIkeSaKeys(prf, material, p, e, a, crypto, internSet(set), args.initiator, args.exportKeys === true);
}

export interface ChildKeys {
  readonly inbound: { encrKey: Uint8Array; integKey: Uint8Array };
  readonly outbound: { encrKey: Uint8Array; integKey: Uint8Array };
}

/**
 * RFC 7296 2.17: the keys for the initiator-to-responder SA come first (encryption then integrity), then the
 * responder-to-initiator SA. `initiator` is the role in the exchange that created this CHILD SA.
 */
export function deriveChildKeys(
  prf: Prf,
  SK_d: Uint8Array,
  set: TransformSet,
  args: { Ni: Uint8Array; Nr: Uint8Array; gir?: Uint8Array; additional?: readonly Uint8Array[]; initiator: boolean },
): ChildKeys {
  const e = encrKeymatBytes(set.encr, set.keyBits);
  const a = set.integ === undefined || set.integ === INTEG.NONE ? 0 : integKeyBytes(set.integ);
  const extra = args.additional ?? [];
  // RFC 9370 2.2.4: with additional key exchanges KEYMAT = prf+(SK_d, SK(0) | Ni | Nr | SK(1) | ... | SK(n)).
  const keymat =
    extra.length > 0
      ? prfPlus(prf, SK_d, concatBytes([...(args.gir ? [args.gir] : []), args.Ni, args.Nr, ...extra]), 2 * (e + a))
      : deriveChildSaKeymat(prf, SK_d, args.Ni, args.Nr, 2 * (e + a), args.gir);
  const i2r = { encrKey: keymat.slice(0, e), integKey: keymat.slice(e, e + a) };
  const r2i = { encrKey: keymat.slice(e + a, 2 * e + a), integKey: keymat.slice(2 * e + a, 2 * (e + a)) };
  keymat.fill(0);
  return args.initiator ? { outbound: i2r, inbound: r2i } : { outbound: r2i, inbound: i2r };
}

/**
 * Per-exchange payload rules as data (RFC 7296 1.2 - 1.5, 2.6, 3.14; the shape of strongSwan's message.c tables):
 * which payload types may appear in each message, how many times, and whether inside SK or in the clear.
 * Unknown non-critical payloads are always allowed (RFC 7296 2.5) and not counted.
 *
 * These are structural checks only; semantic ones (e.g. COOKIE must come first, which notify means what) belong
 * to the exchange tasks.
 */
import { exchangeTypeName, payloadTypeName } from './names.js';
import { codecError, ExchangeType, ok, PayloadType, payloadTypeOf, type Payload, type Result } from './types.js';

const MANY = Number.POSITIVE_INFINITY;

export interface PayloadRule {
  readonly type: number;
  readonly min: number;
  readonly max: number;
}

/** One acceptable shape of a message: counts per type, plus groups that must appear all together or not at all. */
export interface MessageShape {
  readonly name: string;
  readonly payloads: readonly PayloadRule[];
  readonly together?: readonly (readonly number[])[];
}

export interface ExchangeRules {
  /** True when the payloads travel inside SK (everything after IKE_SA_INIT, RFC 7296 1.2). */
  readonly encrypted: boolean;
  /** The message is valid if it fits any of these shapes (at least one); errors are reported against the first. */
  readonly shapes: readonly [MessageShape, ...MessageShape[]];
}

const r = (type: number, min: number, max: number): PayloadRule => ({ type, min, max });
const { SA, KE, IDi, IDr, CERT, CERTREQ, AUTH, NONCE, NOTIFY, DELETE, VENDOR, TSi, TSr, CP, EAP } = PayloadType;

/** RFC 7296 1.2: HDR, SAi1, KEi, Ni  -->  (a COOKIE retry adds N(COOKIE) first, 2.6). */
const IKE_SA_INIT_REQUEST: ExchangeRules = {
  encrypted: false,
  shapes: [{ name: 'IKE_SA_INIT request', payloads: [r(NOTIFY, 0, MANY), r(SA, 1, 1), r(KE, 1, 1), r(NONCE, 1, 1), r(VENDOR, 0, MANY)] }],
};

/**
 * RFC 7296 1.2:  <--  HDR, SAr1, KEr, Nr, [CERTREQ]
 * or, 1.3 / 2.6 / 1.2: <-- HDR, N(COOKIE) | N(INVALID_KE_PAYLOAD) | N(NO_PROPOSAL_CHOSEN): notifies alone are legal.
 */
const IKE_SA_INIT_RESPONSE: ExchangeRules = {
  encrypted: false,
  shapes: [
    {
      name: 'IKE_SA_INIT response',
      payloads: [r(SA, 1, 1), r(KE, 1, 1), r(NONCE, 1, 1), r(NOTIFY, 0, MANY), r(CERTREQ, 0, MANY), r(VENDOR, 0, MANY)],
    },
    { name: 'IKE_SA_INIT error/cookie response', payloads: [r(NOTIFY, 1, MANY), r(VENDOR, 0, MANY)] },
  ],
};

/**
 * RFC 7296 1.2: HDR, SK {IDi, [CERT,] [CERTREQ,] [IDr,] AUTH, SAi2, TSi, TSr}  -->
 * AUTH and IDi are optional here because EAP rounds (2.16) carry only EAP (and AUTH in the last one);
 * SA, TSi and TSr come together or not at all (childless, RFC 6023).
 */
const IKE_AUTH_REQUEST: ExchangeRules = {
  encrypted: true,
  shapes: [
    {
      name: 'IKE_AUTH request',
      payloads: [
        r(IDi, 0, 1),
        r(CERT, 0, 16),
        r(CERTREQ, 0, 16),
        r(IDr, 0, 1),
        r(AUTH, 0, 1),
        r(EAP, 0, 1),
        r(SA, 0, 1),
        r(TSi, 0, 1),
        r(TSr, 0, 1),
        r(CP, 0, 1),
        r(NOTIFY, 0, MANY),
        r(VENDOR, 0, MANY),
      ],
      together: [[SA, TSi, TSr]],
    },
  ],
};

/** RFC 7296 1.2: <-- HDR, SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr}, or only N (AUTHENTICATION_FAILED, 2.21.2). */
const IKE_AUTH_RESPONSE: ExchangeRules = {
  encrypted: true,
  shapes: [
    {
      name: 'IKE_AUTH response',
      payloads: [
        r(IDr, 0, 1),
        r(CERT, 0, 16),
        r(AUTH, 0, 1),
        r(EAP, 0, 1),
        r(SA, 0, 1),
        r(TSi, 0, 1),
        r(TSr, 0, 1),
        r(CP, 0, 1),
        r(NOTIFY, 0, MANY),
        r(VENDOR, 0, MANY),
      ],
      together: [[SA, TSi, TSr]],
    },
  ],
};

/**
 * RFC 7296 1.3: HDR, SK {[N(REKEY_SA)], SA, Ni, [KEi], [TSi, TSr]}  -->  (TS absent when rekeying the IKE SA).
 */
const CREATE_CHILD_SA_REQUEST: ExchangeRules = {
  encrypted: true,
  shapes: [
    {
      name: 'CREATE_CHILD_SA request',
      payloads: [r(SA, 1, 1), r(NONCE, 1, 1), r(KE, 0, 1), r(TSi, 0, 1), r(TSr, 0, 1), r(NOTIFY, 0, MANY), r(VENDOR, 0, MANY)],
      together: [[TSi, TSr]],
    },
  ],
};

/** RFC 7296 1.3: <-- HDR, SK {SA, Nr, [KEr], [TSi, TSr]}, or only N (NO_PROPOSAL_CHOSEN, TEMPORARY_FAILURE...). */
const CREATE_CHILD_SA_RESPONSE: ExchangeRules = {
  encrypted: true,
  shapes: [
    {
      name: 'CREATE_CHILD_SA response',
      payloads: [r(SA, 0, 1), r(NONCE, 0, 1), r(KE, 0, 1), r(TSi, 0, 1), r(TSr, 0, 1), r(NOTIFY, 0, MANY), r(VENDOR, 0, MANY)],
      together: [
        [SA, NONCE],
        [TSi, TSr],
      ],
    },
  ],
};

/** RFC 7296 1.4: HDR, SK {[N,] [D,] [CP,] ...}  -->  (empty is a liveness check, 1.4). */
const INFORMATIONAL_ANY: ExchangeRules = {
  encrypted: true,
  shapes: [{ name: 'INFORMATIONAL', payloads: [r(NOTIFY, 0, MANY), r(DELETE, 0, MANY), r(CP, 0, 1), r(VENDOR, 0, MANY)] }],
};

/** The table: exchange type -> [request rules, response rules]. */
export const EXCHANGE_RULES: ReadonlyMap<number, readonly [ExchangeRules, ExchangeRules]> = new Map([
  [ExchangeType.IKE_SA_INIT, [IKE_SA_INIT_REQUEST, IKE_SA_INIT_RESPONSE] as const],
  [ExchangeType.IKE_AUTH, [IKE_AUTH_REQUEST, IKE_AUTH_RESPONSE] as const],
  [ExchangeType.CREATE_CHILD_SA, [CREATE_CHILD_SA_REQUEST, CREATE_CHILD_SA_RESPONSE] as const],
  [ExchangeType.INFORMATIONAL, [INFORMATIONAL_ANY, INFORMATIONAL_ANY] as const],
]);

/** True when the exchange's payloads must travel inside SK (undefined for an exchange we do not know). */
export function requiresEncryption(exchangeType: number): boolean | undefined {
  return EXCHANGE_RULES.get(exchangeType)?.[0].encrypted;
}

function checkShape(shape: MessageShape, payloads: readonly Payload[]): Result<void> {
  const counts = new Map<number, number>();
  for (const [i, p] of payloads.entries()) {
    if (p.type === 'unknown') continue;
    const n = (counts.get(p.type) ?? 0) + 1;
    counts.set(p.type, n);
    const rule = shape.payloads.find((x) => x.type === p.type);
    if (!rule) return codecError('INVALID_SYNTAX', `${payloadTypeName(p.type)} is not allowed in ${shape.name}`, i, p.type);
    if (n > rule.max) return codecError('INVALID_SYNTAX', `more than ${rule.max} ${payloadTypeName(p.type)} in ${shape.name}`, i, p.type);
  }
  for (const rule of shape.payloads) {
    if ((counts.get(rule.type) ?? 0) < rule.min) {
      return codecError('INVALID_SYNTAX', `${shape.name} lacks ${payloadTypeName(rule.type)}`, payloads.length, rule.type);
    }
  }
  for (const group of shape.together ?? []) {
    const present = group.filter((t) => counts.has(t));
    const missing = group.find((t) => !counts.has(t));
    if (present.length > 0 && missing !== undefined) {
      return codecError(
        'INVALID_SYNTAX',
        `${shape.name} has ${present.map(payloadTypeName).join(', ')} but lacks ${payloadTypeName(missing)}`,
        payloads.length,
        missing,
      );
    }
  }
  return ok(undefined);
}

/**
 * Checks the payloads of one message against the exchange's rules. `encrypted` says whether `payloads` came from
 * inside SK (true) or the plaintext chain (false). For an exchange that is encrypted the plaintext chain must be
 * empty (and the caller checks that SK is present); for IKE_SA_INIT nothing may be encrypted.
 * On failure: INVALID_SYNTAX naming the payload; `offset` is the index of the offending payload in `payloads`
 * (payloads.length for a missing one) and `payloadType` is set.
 * Exchanges not in the table (e.g. IKE_INTERMEDIATE) are not checked here.
 */
export function checkPayloadRules(exchangeType: number, isResponse: boolean, payloads: readonly Payload[], encrypted: boolean): Result<void> {
  const rules = EXCHANGE_RULES.get(exchangeType);
  if (!rules) return ok(undefined);
  const er = rules[isResponse ? 1 : 0];
  if (er.encrypted !== encrypted) {
    const i = payloads.findIndex((p) => p.type !== 'unknown');
    const misplaced = payloads[i];
    // i is -1 when every payload is unknown (allowed anywhere, RFC 7296 2.5): nothing is misplaced.
    if (misplaced === undefined) return ok(undefined);
    const t = payloadTypeOf(misplaced);
    const where = encrypted ? 'inside SK' : 'unencrypted';
    return codecError('INVALID_SYNTAX', `${payloadTypeName(t)} ${where} in ${exchangeTypeName(exchangeType)}`, i, t);
  }
  // Errors name what the first shape lacks; the others are alternatives (e.g. an error-only response).
  const [primary] = er.shapes;
  const res = checkShape(primary, payloads);
  if (res.ok) return res;
  for (const shape of er.shapes) {
    if (shape !== primary && checkShape(shape, payloads).ok) return ok(undefined);
  }
  return res;
}

/**
 * The payload types any shape of this exchange and direction allows; undefined for exchanges without rules. The
 * endpoint ignores others (RFC 7296 is silent on a known payload an exchange does not use; strongSwan and cygnet
 * ignore it, logging it) instead of rejecting the whole message.
 */
export function allowedPayloadTypes(exchangeType: number, isResponse: boolean): ReadonlySet<number> | undefined {
  const rules = EXCHANGE_RULES.get(exchangeType);
  if (!rules) return undefined;
  return new Set(rules[isResponse ? 1 : 0].shapes.flatMap((shape) => shape.payloads.map((r) => r.type)));
}

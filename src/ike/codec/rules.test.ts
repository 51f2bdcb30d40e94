/** Per-exchange payload rules (RFC 7296 1.2 - 1.5), messages written in RFC notation. */
import { describe, expect, it } from 'vitest';
import { checkPayloadRules, requiresEncryption } from './rules.js';
import { ExchangeType, NotifyType, PayloadType, type Payload } from './types.js';

const e = new Uint8Array(0);
const SA: Payload = { type: PayloadType.SA, critical: false, proposals: [{ num: 1, protocol: 1, spi: e, transforms: [] }] };
const KE: Payload = { type: PayloadType.KE, critical: false, group: 31, data: new Uint8Array(32) };
const N_ONCE: Payload = { type: PayloadType.NONCE, critical: false, data: new Uint8Array(32) };
const n = (notifyType: number): Payload => ({ type: PayloadType.NOTIFY, critical: false, protocol: 0, spi: e, notifyType, data: e });
const IDi: Payload = { type: PayloadType.IDi, critical: false, idType: 2, data: e };
const IDr: Payload = { type: PayloadType.IDr, critical: false, idType: 2, data: e };
const AUTH: Payload = { type: PayloadType.AUTH, critical: false, method: 2, data: e };
const TSi: Payload = { type: PayloadType.TSi, critical: false, selectors: [] };
const TSr: Payload = { type: PayloadType.TSr, critical: false, selectors: [] };
const D: Payload = { type: PayloadType.DELETE, critical: false, protocol: 1, spiSize: 0, spis: [] };
const V: Payload = { type: PayloadType.VENDOR, critical: false, data: e };
const UNKNOWN: Payload = { type: 'unknown', payloadType: 200, critical: false, body: e };

const { IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL } = ExchangeType;

function okay(x: number, resp: boolean, ps: Payload[], enc: boolean) {
  expect(checkPayloadRules(x, resp, ps, enc)).toEqual({ ok: true, value: undefined });
}
function bad(x: number, resp: boolean, ps: Payload[], enc: boolean, payloadType: number, msg: RegExp) {
  const r = checkPayloadRules(x, resp, ps, enc);
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(r.error.code).toBe('INVALID_SYNTAX');
    expect(r.error.payloadType).toBe(payloadType);
    expect(r.error.message).toMatch(msg);
  }
}

describe('IKE_SA_INIT', () => {
  it('HDR, SAi1, KEi, Ni, N(NAT_DETECTION_*), V -->', () => {
    okay(IKE_SA_INIT, false, [SA, KE, N_ONCE, n(NotifyType.NAT_DETECTION_SOURCE_IP), n(NotifyType.NAT_DETECTION_DESTINATION_IP), V, UNKNOWN], false);
    okay(IKE_SA_INIT, false, [n(NotifyType.COOKIE), SA, KE, N_ONCE], false);
  });
  it('a request without KE, or with two SAs, or with AUTH, is INVALID_SYNTAX naming the payload', () => {
    bad(IKE_SA_INIT, false, [SA, N_ONCE], false, PayloadType.KE, /lacks KE/);
    bad(IKE_SA_INIT, false, [SA, SA, KE, N_ONCE], false, PayloadType.SA, /more than 1 SA/);
    bad(IKE_SA_INIT, false, [SA, KE, N_ONCE, AUTH], false, PayloadType.AUTH, /AUTH is not allowed/);
    bad(IKE_SA_INIT, false, [SA, KE, N_ONCE], true, PayloadType.SA, /inside SK/);
  });
  it('<-- HDR, SAr1, KEr, Nr, [CERTREQ] and the notify-only responses (COOKIE, INVALID_KE_PAYLOAD, NO_PROPOSAL_CHOSEN)', () => {
    okay(IKE_SA_INIT, true, [SA, KE, N_ONCE, { type: PayloadType.CERTREQ, critical: false, encoding: 4, data: e }], false);
    okay(IKE_SA_INIT, true, [n(NotifyType.COOKIE)], false);
    okay(IKE_SA_INIT, true, [n(NotifyType.INVALID_KE_PAYLOAD)], false);
    okay(IKE_SA_INIT, true, [n(NotifyType.NO_PROPOSAL_CHOSEN), V], false);
    bad(IKE_SA_INIT, true, [], false, PayloadType.SA, /lacks SA/);
    bad(IKE_SA_INIT, true, [SA, N_ONCE], false, PayloadType.KE, /lacks KE/);
  });
});

describe('IKE_AUTH', () => {
  it('HDR, SK {IDi, [IDr,] AUTH, SAi2, TSi, TSr, N(INITIAL_CONTACT)} -->', () => {
    okay(IKE_AUTH, false, [IDi, IDr, AUTH, n(NotifyType.INITIAL_CONTACT), SA, TSi, TSr], true);
    okay(IKE_AUTH, false, [], false); // nothing in the clear
  });
  it('<-- HDR, SK {IDr, AUTH, SAr2, TSi, TSr} or SK {N(AUTHENTICATION_FAILED)}', () => {
    okay(IKE_AUTH, true, [IDr, AUTH, SA, TSi, TSr], true);
    okay(IKE_AUTH, true, [n(NotifyType.AUTHENTICATION_FAILED)], true);
    okay(IKE_AUTH, true, [IDr, AUTH, n(NotifyType.TS_UNACCEPTABLE)], true); // IKE SA up, no CHILD SA
  });
  it('payloads in the clear, IDi in a response, SA without TS, two AUTHs', () => {
    bad(IKE_AUTH, false, [IDi, AUTH], false, PayloadType.IDi, /unencrypted/);
    bad(IKE_AUTH, true, [IDi, AUTH], true, PayloadType.IDi, /IDi is not allowed in IKE_AUTH response/);
    bad(IKE_AUTH, false, [IDi, AUTH, SA, TSi], true, PayloadType.TSr, /lacks TSr/);
    bad(IKE_AUTH, false, [IDi, AUTH, AUTH], true, PayloadType.AUTH, /more than 1 AUTH/);
  });
});

describe('CREATE_CHILD_SA and INFORMATIONAL', () => {
  it('HDR, SK {SA, Ni, [KEi], TSi, TSr} --> and <-- HDR, SK {SA, Nr, [KEr], TSi, TSr} or SK {N}', () => {
    okay(CREATE_CHILD_SA, false, [n(NotifyType.REKEY_SA), SA, N_ONCE, KE, TSi, TSr], true);
    okay(CREATE_CHILD_SA, false, [SA, N_ONCE, KE], true); // IKE SA rekey
    okay(CREATE_CHILD_SA, true, [SA, N_ONCE, TSi, TSr], true);
    okay(CREATE_CHILD_SA, true, [n(NotifyType.NO_PROPOSAL_CHOSEN)], true);
    bad(CREATE_CHILD_SA, false, [SA, TSi, TSr], true, PayloadType.NONCE, /lacks Nonce/);
    bad(CREATE_CHILD_SA, true, [SA, TSi, TSr], true, PayloadType.NONCE, /lacks Nonce/);
  });
  it('HDR, SK {[N,] [D,] [CP]} both ways; empty is a liveness check', () => {
    okay(INFORMATIONAL, false, [], true);
    okay(INFORMATIONAL, false, [D, D, n(NotifyType.INVALID_SYNTAX)], true);
    okay(INFORMATIONAL, true, [D], true);
    bad(INFORMATIONAL, false, [SA], true, PayloadType.SA, /SA is not allowed in INFORMATIONAL/);
  });
  it('exchanges outside the table are not checked; requiresEncryption', () => {
    okay(250, false, [SA], true);
    expect(requiresEncryption(IKE_SA_INIT)).toBe(false);
    expect(requiresEncryption(IKE_AUTH)).toBe(true);
    expect(requiresEncryption(250)).toBeUndefined();
  });
});

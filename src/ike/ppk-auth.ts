/**
 * RFC 8784 (post-quantum preshared keys) wired into IKE_SA_INIT and IKE_AUTH; the pure parts (key mixing, notify
 * data, decisions) are in ppk.ts. The exchanges call these few functions and stay small:
 *
 *   IKE_SA_INIT:  HDR, SAi1, KEi, Ni, N(USE_PPK)  -->  <--  HDR, SAr1, KEr, Nr, N(USE_PPK)
 *   IKE_AUTH:     HDR, SK {IDi, ..., AUTH, SAi2, TSi, TSr, N(PPK_IDENTITY), [N(NO_PPK_AUTH)]}  -->
 *                                                 <--  HDR, SK {IDr, ..., AUTH, SAr2, TSi, TSr, [N(PPK_IDENTITY)]}
 *
 * AUTH is computed with the PPK-mixed SK_pi/SK_pr; NO_PPK_AUTH carries the AUTH payload's content computed with
 * the unmixed ones (section 3), so a responder without this PPK may still accept the initiator when policy allows.
 * The mixed SK_d then keys every CHILD SA and IKE SA rekey of this SA (section 3: the PPK is used once, here).
 */
import { AuthMethod, NotifyType, PayloadType, type AuthPayload, type Payload } from './codec/types.js';
import type { IkeConnectionConfig } from './config.js';
import type { EndpointContext } from './context.js';
import type { KeyedIkeSa } from './ike-sa.js';
import type { IkeSaKeys } from './keys.js';
import { buildOurAuth } from './auth-methods.js';
import { hasNotify, notifies, notify } from './payload-util.js';
import { decideInitiatorPpk, decideResponderPpk, decodePpkIdentity, encodePpkIdentity, mixPpk, PPK_ID_FIXED, PpkError } from './ppk.js';

/** Whether a connection asks for a PPK at all (swanctl `ppk_id` or `ppk_required`). */
export function ppkConfigured(conn: IkeConnectionConfig): boolean {
  return conn.ppkId !== undefined || conn.ppkRequired === true;
}

/** The IKE SA keys with SK_d, SK_pi, SK_pr replaced by their PPK-mixed values (RFC 8784 3); SK_e/SK_a stay. */
export function ppkMixedKeys(keys: IkeSaKeys, ppk: Uint8Array): IkeSaKeys {
  const m = mixPpk(keys.prf, ppk, keys);
  const raw = keys.raw;
  return { prf: keys.prf, SK_d: m.SK_d, SK_pi: m.SK_pi, SK_pr: m.SK_pr, out: keys.out, in: keys.in, ...(raw ? { raw } : {}) };
}

const text = (b: Uint8Array): string => new TextDecoder('utf-8', { fatal: false }).decode(b);
const octets = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Initiator, IKE_SA_INIT request: N(USE_PPK) when the connection has a PPK (RFC 8784 3). */
export function usePpkRequest(sa: { usePpkSent: boolean }, conn: IkeConnectionConfig): Payload[] {
  if (!ppkConfigured(conn)) return [];
  sa.usePpkSent = true;
  return [notify(NotifyType.USE_PPK)];
}

/**
 * Responder, IKE_SA_INIT response: N(USE_PPK) when the initiator sent one and we have PPKs (the connection names
 * one, requires one, or the secrets hold any: the initiator's PPK_ID picks it in IKE_AUTH).
 */
export function usePpkResponse(ctx: EndpointContext, sa: { usePpkSent: boolean }, conn: IkeConnectionConfig, req: readonly Payload[]): Payload[] {
  if (!hasNotify(req, NotifyType.USE_PPK) || !(ppkConfigured(conn) || ctx.credentials.hasPpk?.() === true)) return [];
  sa.usePpkSent = true;
  return [notify(NotifyType.USE_PPK)];
}

/** The initiator's PPK state between its IKE_AUTH request and the response. */
export interface InitiatorPpk {
  /** The keys before mixing, to fall back to when the responder authenticated us with NO_PPK_AUTH. */
  readonly unmixed: IkeSaKeys;
  readonly id: string;
}

/**
 * Initiator, building the first IKE_AUTH request (RFC 8784 3): with USE_PPK exchanged and our PPK found, NO_PPK_AUTH
 * (unless ppk_required; computed with the unmixed SK_pi) is built first, then sa.keys become the mixed keys so the
 * AUTH built next uses them. Returns the notifies to add, or why the SA cannot go on.
 */
export function initiatorPpkRequest(
  ctx: EndpointContext,
  sa: KeyedIkeSa,
  conn: IkeConnectionConfig,
  eap: boolean,
): { ok: true; payloads: Payload[]; state: InitiatorPpk | undefined } | { ok: false; message: string } {
  if (!ppkConfigured(conn)) return { ok: true, payloads: [], state: undefined };
  const required = conn.ppkRequired === true;
  if (!sa.peerUsePpk) {
    if (required) return { ok: false, message: `connection '${conn.name}' requires a PPK (ppk_required), but the peer did not send USE_PPK (RFC 8784 3: no post-quantum preshared key support or none configured there)` };
    ctx.log('ike', 1, sa, `peer did not send USE_PPK: not using PPK '${conn.ppkId ?? ''}' (RFC 8784 3), authenticating without it`);
    return { ok: true, payloads: [], state: undefined };
  }
  const id = conn.ppkId;
  const ppk = id !== undefined ? ctx.credentials.ppk?.(octets(id)) : undefined;
  if (id === undefined || ppk === undefined) {
    const why = id === undefined ? 'the connection has no ppk_id' : `no PPK with id '${id}' in the secrets (secrets.ppk<suffix> { id = ${id} })`;
    if (required) return { ok: false, message: `connection '${conn.name}' requires a PPK (ppk_required), but ${why}` };
    ctx.log('ike', 1, sa, `${why}: authenticating without a PPK`);
    return { ok: true, payloads: [], state: undefined };
  }
  const payloads: Payload[] = [notify(NotifyType.PPK_IDENTITY, encodePpkIdentity({ type: PPK_ID_FIXED, id: octets(id) }))];
  const unmixed = sa.keys;
  // RFC 8784 3: NO_PPK_AUTH only when we could live without the PPK; with EAP our AUTH comes later (RFC 7296 2.16).
  if (!required && !eap) {
    const classic = buildOurAuth(ctx, sa, conn, conn.remote.id);
    if (!classic.ok) return classic;
    payloads.push(notify(NotifyType.NO_PPK_AUTH, classic.auth.data));
  }
  sa.keys = ppkMixedKeys(unmixed, ppk);
  ctx.log('ike', 1, sa, `using PPK '${id}' (RFC 8784)${required ? ', required' : ', NO_PPK_AUTH as fallback'}`);
  return { ok: true, payloads, state: { unmixed, id } };
}

/**
 * Initiator, the IKE_AUTH response (RFC 8784 3): PPK_IDENTITY there says the responder used the PPK (keep the mixed
 * keys), its absence that it authenticated our NO_PPK_AUTH (back to the unmixed keys), unless we require the PPK.
 * Called before the responder's AUTH is checked, which then uses the keys chosen here.
 */
export function initiatorPpkResponse(ctx: EndpointContext, sa: KeyedIkeSa, conn: IkeConnectionConfig, resp: readonly Payload[], state: InitiatorPpk | undefined): { ok: true } | { ok: false; message: string } {
  if (!state) return { ok: true };
  const d = decideInitiatorPpk({ negotiated: true, required: conn.ppkRequired === true, responderSentPpkIdentity: hasNotify(resp, NotifyType.PPK_IDENTITY) });
  if (d.kind === 'fail') return { ok: false, message: `${d.reason} (PPK '${state.id}')` };
  if (d.kind === 'ppk') {
    sa.ppkId = state.id;
    ctx.log('ike', 0, sa, `PPK '${state.id}' used (RFC 8784): SK_d, SK_pi and SK_pr include it`);
  } else {
    sa.keys = state.unmixed;
    ctx.log('ike', 0, sa, `peer did not use PPK '${state.id}' and accepted NO_PPK_AUTH: this IKE_SA has no post-quantum preshared key (RFC 8784 3)`);
  }
  return { ok: true };
}

/**
 * RFC 8784 3: NO_PPK_AUTH carries the Authentication Data computed with the unmixed SK_pi; the authentication method
 * is the AUTH payload's (strongSwan, which implements RFC 8784 since 5.7, sends and expects exactly this).
 */
function authFromNotify(data: Uint8Array, method: number): AuthPayload | undefined {
  if (data.length === 0) return undefined;
  return { type: PayloadType.AUTH, critical: false, method, data: data.slice() };
}

/**
 * Responder, the first IKE_AUTH request, once the connection is chosen (RFC 8784 3): which keys verify the
 * initiator and which AUTH to verify. On 'ppk' sa.keys become the mixed keys (our AUTH, CHILD keys and rekeys use
 * them); with NO_PPK_AUTH accepted, the AUTH to verify is the one it carries. `reply` goes into our response.
 */
export function responderPpk(
  ctx: EndpointContext,
  sa: KeyedIkeSa,
  conn: IkeConnectionConfig,
  req: readonly Payload[],
): { ok: true; auth: AuthPayload | undefined; reply: Payload[] } | { ok: false; message: string } {
  const negotiated = sa.usePpkSent && sa.peerUsePpk;
  const required = conn.ppkRequired === true;
  const idNotify = notifies(req, NotifyType.PPK_IDENTITY)[0];
  const noPpk = notifies(req, NotifyType.NO_PPK_AUTH)[0];
  if (!negotiated && !required) return { ok: true, auth: undefined, reply: [] };
  let peerPpkId: Uint8Array | undefined;
  if (negotiated && idNotify) {
    try {
      peerPpkId = decodePpkIdentity(idNotify.data).id;
    } catch (e) {
      if (e instanceof PpkError) return { ok: false, message: `invalid PPK_IDENTITY notify in IKE_AUTH from ${sa.remote.address}: ${e.message}` };
      throw e;
    }
  }
  const d = decideResponderPpk({ negotiated, required, peerPpkId, noPpkAuthPresent: noPpk !== undefined, lookup: (id) => ctx.credentials.ppk?.(id) });
  const where = `connection '${conn.name}'`;
  switch (d.kind) {
    case 'fail':
      return { ok: false, message: `${where}: ${d.reason} (RFC 8784 3)${required ? '; ppk_required = yes' : ''}` };
    case 'classic':
      return { ok: true, auth: undefined, reply: [] };
    case 'no-ppk-auth': {
      const authP = req.find((x): x is AuthPayload => x.type === PayloadType.AUTH);
      const auth = noPpk ? authFromNotify(noPpk.data, authP?.method ?? AuthMethod.SHARED_KEY_MESSAGE_INTEGRITY_CODE) : undefined;
      if (!auth) return { ok: false, message: `${where}: NO_PPK_AUTH notify from ${sa.remote.address} carries no authentication data (RFC 8784 3)` };
      ctx.log('ike', 0, sa, `${where}: PPK '${text(peerPpkId ?? new Uint8Array(0))}' unknown here, authenticating the peer with NO_PPK_AUTH: this IKE_SA has no post-quantum preshared key (RFC 8784 3)`);
      return { ok: true, auth, reply: [] };
    }
    case 'ppk': {
      const id = text(peerPpkId ?? new Uint8Array(0));
      sa.keys = ppkMixedKeys(sa.keys, d.ppk);
      sa.ppkId = id;
      ctx.log('ike', 0, sa, `PPK '${id}' used (RFC 8784): SK_d, SK_pi and SK_pr include it`);
      // RFC 8784 3: the responder confirms with an empty PPK_IDENTITY notify.
      return { ok: true, auth: undefined, reply: [notify(NotifyType.PPK_IDENTITY)] };
    }
  }
}

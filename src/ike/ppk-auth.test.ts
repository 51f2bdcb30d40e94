/** ppk-auth.ts's bad-input paths (RFC 8784 3): a malformed PPK_IDENTITY or an empty NO_PPK_AUTH is a clear refusal. */
import { describe, expect, it } from 'vitest';
import { NotifyType, PayloadType, type Payload } from './codec/types.js';
import { connection, pskCredentials, withPpks } from './config-builder.js';
import type { EndpointContext } from './context.js';
import type { KeyedIkeSa } from './ike-sa.js';
import { notify } from './payload-util.js';
import { initiatorPpkResponse, responderPpk, usePpkRequest, usePpkResponse } from './ppk-auth.js';

const creds = withPpks(pskCredentials([]), [{ id: 'pq1', secret: 'k'.repeat(32) }]);
const logs: string[] = [];
const ctx = { credentials: creds, log: (_g: string, _l: number, _sa: unknown, m: string) => logs.push(m) } as unknown as EndpointContext;
const sa = (o: Partial<KeyedIkeSa> = {}) => ({ usePpkSent: true, peerUsePpk: true, remote: { address: '192.0.2.1', port: 4500 }, ...o }) as unknown as KeyedIkeSa;
const auth: Payload = { type: PayloadType.AUTH, critical: false, method: 2, data: new Uint8Array(32) };
const optional = connection({ name: 'gw' });
const required = connection({ name: 'gw', ppkRequired: true });

describe('PPK wiring: bad input and decisions without key material', () => {
  it('a PPK_IDENTITY with an unknown ID type or no ID is refused, naming the peer and the cause', () => {
    for (const [data, why] of [[Uint8Array.of(7, 0x61), /PPK ID type 7 is neither PPK_ID_OPAQUE/], [Uint8Array.of(2), /empty PPK ID/], [new Uint8Array(0), /type octet is missing/]] as const) {
      const r = responderPpk(ctx, sa(), optional, [auth, notify(NotifyType.PPK_IDENTITY, data)]);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.message).toMatch(/invalid PPK_IDENTITY notify in IKE_AUTH from 192\.0\.2\.1/);
        expect(r.message).toMatch(why);
      }
    }
  });

  it('an unknown PPK ID with an empty NO_PPK_AUTH is refused; with data it is the AUTH to verify', () => {
    const id = notify(NotifyType.PPK_IDENTITY, Uint8Array.of(2, ...new TextEncoder().encode('other')));
    const empty = responderPpk(ctx, sa(), optional, [auth, id, notify(NotifyType.NO_PPK_AUTH)]);
    expect(empty.ok ? '' : empty.message).toMatch(/NO_PPK_AUTH notify from 192\.0\.2\.1 carries no authentication data/);
    const good = responderPpk(ctx, sa(), optional, [auth, id, notify(NotifyType.NO_PPK_AUTH, Uint8Array.of(1, 2, 3))]);
    expect(good.ok && good.auth ? [...good.auth.data, good.auth.method] : undefined).toEqual([1, 2, 3, 2]);
    expect(good.ok ? good.reply : undefined).toEqual([]);
  });

  it('required without USE_PPK, or without PPK_IDENTITY, is refused naming the connection', () => {
    const a = responderPpk(ctx, sa({ peerUsePpk: false }), required, [auth]);
    expect(a.ok ? '' : a.message).toBe("connection 'gw': PPK required but the initiator did not send USE_PPK (RFC 8784 3); ppk_required = yes");
    const b = responderPpk(ctx, sa(), required, [auth]);
    expect(b.ok ? '' : b.message).toMatch(/PPK required but the initiator sent no PPK_IDENTITY/);
    // Not negotiated, not required: classic RFC 7296 authentication.
    const c = responderPpk(ctx, sa({ peerUsePpk: false }), optional, [auth]);
    expect(c).toEqual({ ok: true, auth: undefined, reply: [] });
  });

  it('USE_PPK: the initiator sends it only with ppk_id/ppk_required; the responder only when asked and holding PPKs', () => {
    const s = { usePpkSent: false };
    expect(usePpkRequest(s, optional)).toEqual([]);
    expect(usePpkRequest(s, connection({ name: 'gw', ppkId: 'pq1' })).map((p) => p.type === PayloadType.NOTIFY && p.notifyType)).toEqual([NotifyType.USE_PPK]);
    expect(s.usePpkSent).toBe(true);
    const r = { usePpkSent: false };
    expect(usePpkResponse(ctx, r, optional, [])).toEqual([]);
    expect(usePpkResponse(ctx, r, optional, [notify(NotifyType.USE_PPK)])).toHaveLength(1);
    const none = { ...ctx, credentials: pskCredentials([]) } as EndpointContext;
    expect(usePpkResponse(none, { usePpkSent: false }, optional, [notify(NotifyType.USE_PPK)])).toEqual([]);
  });

  it('the initiator with ppk_required refuses a response without PPK_IDENTITY, naming the PPK', () => {
    const r = initiatorPpkResponse(ctx, sa(), required, [auth], { unmixed: {} as never, id: 'pq1' });
    expect(r.ok ? '' : r.message).toBe("PPK required but the responder did not use it (no PPK_IDENTITY in IKE_AUTH response) (PPK 'pq1')");
  });
});

/**
 * RFC 8784 post-quantum preshared keys between two cygnet endpoints in the simulator (issue 18):
 *
 *   HDR, SAi1, KEi, Ni, N(USE_PPK)  -->  <--  HDR, SAr1, KEr, Nr, N(USE_PPK)
 *   HDR, SK {IDi, AUTH, SAi2, TSi, TSr, N(PPK_IDENTITY), [N(NO_PPK_AUTH)]}  -->  <--  HDR, SK {IDr, AUTH, ..., N(PPK_IDENTITY)}
 *
 * required and optional on both sides, required on one side only, mismatched PPK IDs (NO_PPK_AUTH fallback), a
 * wrong PPK value, the mixed SK_d in CHILD keys and rekeys, and the PPK ID (never the key) in the SA info.
 */
import { describe, expect, it } from 'vitest';
import { child, connection, pskCredentials, withPpks } from '../../src/ike/config-builder.js';
import type { Credentials } from '../../src/ike/config.js';
import type { IkeEvent } from '../../src/ike/events.js';
import { NotifyType } from '../../src/ike/codec/types.js';
import { decodeMessage } from '../../src/ike/codec/index.js';
import { makePair, runAsync, type Side } from './pair.js';
import { eapSecretLookup } from '../../src/eap/index.js';
import { localEapProvider } from '../../src/ike/eap-provider.js';
import { seededRandom } from '../../src/crypto/random.js';
import { generateKey, issueCertificate, publicKeyOf, sameCertificate, TrustStore, type Certificate, type PrivateKey } from '../../src/pki/index.js';
import { viciIkeSa } from '../../src/vici/adapt.js';
import { listSaEvent } from '../../src/vici/commands.js';
import { decodeMessage as decodeVici, encodeMessage as encodeVici } from '../../src/vici/message.js';
import { formatListSa } from '../../src/vici/format.js';

const psk = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'v+NkxY9LLZvwj4qCC2o/gGrWDF2d21jL' }]);
const PPK = 'pq-0123456789abcdef0123456789abcdef';
const of = <T extends IkeEvent['type']>(s: Side, t: T) => s.events.filter((e): e is Extract<IkeEvent, { type: T }> => e.type === t);
const ike = (b: Uint8Array) => (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 0 ? b.subarray(4) : b);

interface PpkSide {
  ppkId?: string;
  ppkRequired?: boolean;
  ppks?: { id: string; secret: string }[];
}

function run(i: PpkSide, r: PpkSide, seed = 1, proposals?: string) {
  const creds = (s: PpkSide): Credentials => (s.ppks ? withPpks(psk, s.ppks) : psk);
  const conn = (local: string, remote: string, s: PpkSide, addr?: string) =>
    connection({
      name: 'gw',
      ...(proposals !== undefined ? { proposals } : {}),
      remoteAddrs: addr ? [addr] : ['%any'],
      local: { id: local },
      remote: { id: remote },
      ...(s.ppkId !== undefined ? { ppkId: s.ppkId } : {}),
      ...(s.ppkRequired !== undefined ? { ppkRequired: s.ppkRequired } : {}),
      children: [child('net', { localTs: [addr ? '10.1.0.0/16' : '10.2.0.0/16'], remoteTs: [addr ? '10.2.0.0/16' : '10.1.0.0/16'] })],
    });
  const p = makePair({ connections: [conn('moon.example', 'sun.example', i, '192.0.2.2')], credentials: creds(i) }, { connections: [conn('sun.example', 'moon.example', r)], credentials: creds(r) }, { seed });
  p.a.ep.initiate('gw', 0);
  p.sim.runUntil(() => (of(p.a, 'child-install').length > 0 && of(p.b, 'child-install').length > 0) || of(p.a, 'ike-down').length > 0, { maxTime: 120_000 });
  p.sim.runUntil(() => false, { maxTime: 5_000 });
  return p;
}

/** Notify types in the plaintext IKE_SA_INIT messages the initiator (A) sent and received. */
function initNotifies(p: ReturnType<typeof run>): { request: number[]; response: number[] } {
  const msgs = p.net.captured({ event: 'send' }).map((c) => decodeMessage(ike(c.bytes))).flatMap((m) => (m.ok && m.value.header.exchangeType === 34 ? [m.value] : []));
  const types = (m: (typeof msgs)[number] | undefined) => (m?.payloads ?? []).flatMap((x) => (x.type === 41 ? [x.notifyType] : []));
  return { request: types(msgs.find((m) => !m.header.flags.response)), response: types(msgs.find((m) => m.header.flags.response)) };
}

function expectUpWithSameChildKeys(a: Side, b: Side) {
  const [ca] = of(a, 'child-install');
  const [cb] = of(b, 'child-install');
  expect(ca && cb, 'CHILD SA installed on both sides').toBeTruthy();
  expect(Buffer.from(ca!.inbound.encrKey)).toEqual(Buffer.from(cb!.outbound.encrKey));
  expect(Buffer.from(ca!.outbound.encrKey)).toEqual(Buffer.from(cb!.inbound.encrKey));
  return { ca: ca!, cb: cb! };
}

const both = (ppkRequired: boolean): PpkSide => ({ ppkId: 'pq1', ppkRequired, ppks: [{ id: 'pq1', secret: PPK }] });

describe('RFC 8784 PPK between two cygnet endpoints', () => {
  it('required on both: USE_PPK both ways, PPK used, mixed SK_d keys the CHILD SA (keys differ from a run without PPK)', () => {
    const p = run(both(true), both(true));
    const { ca } = expectUpWithSameChildKeys(p.a, p.b);
    expect(of(p.a, 'ike-up')[0]!.sa.ppkId).toBe('pq1');
    expect(of(p.b, 'ike-up')[0]!.sa.ppkId).toBe('pq1');
    const n = initNotifies(p);
    expect(n.request).toContain(NotifyType.USE_PPK);
    expect(n.response).toContain(NotifyType.USE_PPK);
    expect(p.a.logs.some((l) => l.includes("PPK 'pq1' used (RFC 8784): SK_d, SK_pi and SK_pr include it"))).toBe(true);
    expect(p.b.logs.some((l) => l.includes("PPK 'pq1' used (RFC 8784): SK_d, SK_pi and SK_pr include it"))).toBe(true);
    expect(p.a.logs.some((l) => l.includes("using PPK 'pq1' (RFC 8784), required"))).toBe(true);
    // Same seed, no PPK: same nonces and DH values, so only the PPK can make the CHILD keys differ.
    const plain = run({}, {});
    const { ca: cp } = expectUpWithSameChildKeys(plain.a, plain.b);
    expect(of(plain.a, 'ike-up')[0]!.sa.ppkId).toBeUndefined();
    expect(initNotifies(plain).request).not.toContain(NotifyType.USE_PPK);
    expect(Buffer.from(ca.inbound.encrKey).equals(Buffer.from(cp.inbound.encrKey))).toBe(false);
  });

  it('optional on both: PPK used, NO_PPK_AUTH offered; IKE and CHILD rekeys work from the mixed SK_d and keep the PPK ID', () => {
    const p = run(both(false), both(false));
    expectUpWithSameChildKeys(p.a, p.b);
    expect(of(p.a, 'ike-up')[0]!.sa.ppkId).toBe('pq1');
    expect(p.a.logs.some((l) => l.includes("using PPK 'pq1' (RFC 8784), NO_PPK_AUTH as fallback"))).toBe(true);
    expect(p.a.logs.some((l) => /sending IKE_AUTH request 1 \[ IDi .*AUTH N\(PPK_ID\) N\(NO_PPK\) SA TSi TSr \]/.test(l))).toBe(true);
    expect(p.b.logs.some((l) => /sending IKE_SA_INIT response 0 \[ .*N\(USE_PPK\)/.test(l))).toBe(true);
    const id = of(p.a, 'ike-up')[0]!.sa.id;
    expect(p.a.ep.rekeyIke(id, p.sim.now)).toBe(true);
    expect(p.sim.runUntil(() => of(p.a, 'ike-rekeyed').length > 0 && of(p.b, 'ike-rekeyed').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    const rekeyed = of(p.a, 'ike-rekeyed')[0]!;
    expect(rekeyed.sa.id).not.toBe(id);
    expect(rekeyed.sa.ppkId).toBe('pq1');
    expect(of(p.b, 'ike-rekeyed')[0]!.sa.ppkId).toBe('pq1');
    // A CHILD rekey on the new IKE SA: both sides derive KEYMAT from its SK_d, which descends from the mixed one.
    const before = of(p.a, 'child-install').length;
    const child = of(p.a, 'child-install')[0]!.child;
    expect(p.a.ep.rekeyChild(child.id, p.sim.now)).toBe(true);
    expect(p.sim.runUntil(() => of(p.a, 'child-install').length > before && of(p.b, 'child-install').length > before, { maxTime: 60_000 }).ok).toBe(true);
    const ca = of(p.a, 'child-install').at(-1)!;
    const cb = of(p.b, 'child-install').at(-1)!;
    expect(Buffer.from(ca.inbound.encrKey)).toEqual(Buffer.from(cb.outbound.encrKey));
  });

  it('required on the initiator, responder without PPK: the initiator stops before IKE_AUTH naming the missing USE_PPK', () => {
    const p = run(both(true), {});
    expect(of(p.a, 'ike-up')).toHaveLength(0);
    const down = of(p.a, 'ike-down')[0];
    expect(down?.message).toMatch(/requires a PPK \(ppk_required\), but the peer did not send USE_PPK/);
    expect(initNotifies(p).response).not.toContain(NotifyType.USE_PPK);
  });

  it('required on the responder, initiator without PPK: AUTHENTICATION_FAILED, the responder logs why', () => {
    const p = run({}, both(true));
    expect(of(p.a, 'ike-up')).toHaveLength(0);
    expect(of(p.b, 'ike-up')).toHaveLength(0);
    const failed = of(p.b, 'auth-failed')[0];
    expect(failed?.message).toMatch(/connection 'gw': PPK required but the initiator did not send USE_PPK \(RFC 8784 3\); ppk_required = yes/);
    expect(of(p.a, 'auth-failed')[0]?.message).toMatch(/AUTHENTICATION_FAILED/);
  });

  it('optional on both with different PPK IDs: the responder falls back to NO_PPK_AUTH, both log it, no PPK in the SA', () => {
    const p = run({ ppkId: 'pq1', ppks: [{ id: 'pq1', secret: PPK }] }, { ppkId: 'pq2', ppks: [{ id: 'pq2', secret: PPK }] });
    expectUpWithSameChildKeys(p.a, p.b);
    expect(of(p.a, 'ike-up')[0]!.sa.ppkId).toBeUndefined();
    expect(of(p.b, 'ike-up')[0]!.sa.ppkId).toBeUndefined();
    expect(p.b.logs.some((l) => l.includes("PPK 'pq1' unknown here, authenticating the peer with NO_PPK_AUTH"))).toBe(true);
    expect(p.a.logs.some((l) => l.includes("peer did not use PPK 'pq1' and accepted NO_PPK_AUTH"))).toBe(true);
  });

  it('mismatched PPK IDs with ppk_required on the responder: AUTHENTICATION_FAILED naming the unknown ID', () => {
    const p = run({ ppkId: 'pq1', ppks: [{ id: 'pq1', secret: PPK }] }, { ppkId: 'pq2', ppkRequired: true, ppks: [{ id: 'pq2', secret: PPK }] });
    expect(of(p.b, 'ike-up')).toHaveLength(0);
    expect(of(p.b, 'auth-failed')[0]?.message).toMatch(/PPK required but PPK ID 'pq1' is unknown/);
  });

  it('same PPK ID, different PPK values: AUTH fails at the responder, and the message points at the PPK', () => {
    const p = run({ ppkId: 'pq1', ppks: [{ id: 'pq1', secret: PPK }] }, { ppkId: 'pq1', ppks: [{ id: 'pq1', secret: `${PPK}-other` }] });
    expect(of(p.a, 'ike-up')).toHaveLength(0);
    const msg = of(p.b, 'auth-failed')[0]?.message ?? '';
    expect(msg).toMatch(/pre-shared key authentication of 'moon.example' failed/);
    expect(msg).toMatch(/PPK 'pq1' was mixed into the keys \(RFC 8784\)/);
    expect(msg).not.toContain(PPK);
    expect(of(p.a, 'auth-failed')[0]?.message).toMatch(/we used PPK 'pq1' \(RFC 8784\)/);
  });

  it('the SA info names the PPK ID, never the key', () => {
    const p = run(both(true), both(true));
    const info = JSON.stringify(p.a.ep.listSas(), (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
    expect(info).toContain('"ppkId":"pq1"');
    expect(info).not.toContain(PPK);
    expect(info).not.toContain(Buffer.from(PPK).toString('hex'));
    // list-sas (vici): ppk = yes, ppk-id, and swanctl's text names it; a run without PPK shows neither.
    const [entry] = p.a.ep.listSas();
    const event = decodeVici(encodeVici(listSaEvent(viciIkeSa(entry!.sa, entry!.children))));
    const body = Object.values(event)[0] as Record<string, unknown>;
    expect([body.ppk, body['ppk-id']]).toEqual(['yes', 'pq1']);
    expect(formatListSa(event)).toContain("  PPK 'pq1' (RFC 8784 post-quantum preshared key)");
    const plain = run({}, {});
    const [e2] = plain.a.ep.listSas();
    expect(formatListSa(decodeVici(encodeVici(listSaEvent(viciIkeSa(e2!.sa, e2!.children))))).join('\n')).not.toContain('PPK');
  });

  it('with EAP-MSCHAPv2 (RFC 7296 2.16): PPK_IDENTITY without NO_PPK_AUTH, the gateway confirms it beside its AUTH and EAP, the MSK AUTHs verify', async () => {
    const enc = new TextEncoder();
    const eapPsk = pskCredentials([{ ids: ['gw.example', 'carol@example'], secret: 'gateway-psk-for-the-first-auth' }]);
    const ppks = [{ id: 'pq1', secret: PPK }];
    const client = connection({ name: 'rw', remoteAddrs: ['192.0.2.2'], ppkId: 'pq1', local: { auth: 'eap', id: 'carol@example', eap: { methods: ['mschapv2'] } }, remote: { auth: 'psk', id: 'gw.example' }, children: [child('net', { localTs: ['10.1.0.0/24'], remoteTs: ['10.2.0.0/24'] })] });
    const gw = connection({ name: 'rw', ppkRequired: true, local: { auth: 'psk', id: 'gw.example' }, remote: { auth: 'eap', eap: { methods: ['mschapv2'] } }, children: [child('net', { localTs: ['10.2.0.0/24'], remoteTs: ['10.1.0.0/24'] })] });
    const secrets = eapSecretLookup([{ ids: ['carol@example'], kind: 'password', secret: enc.encode('carol-secret') }]);
    const p = makePair(
      { connections: [client], credentials: withPpks(eapPsk, ppks), eap: localEapProvider({ random: seededRandom(11), secrets }) },
      { connections: [gw], credentials: withPpks(eapPsk, ppks), eap: localEapProvider({ random: seededRandom(12), secrets }) },
    );
    p.a.ep.initiate('rw', 0);
    expect(await runAsync(p.sim, () => of(p.a, 'child-install').length === 1 && of(p.b, 'child-install').length === 1)).toBe(true);
    expect(p.a.logs.some((l) => l.includes('sending IKE_AUTH request 1 [ IDi N(INIT_CONTACT) N(MOBIKE_SUP) IDr N(PPK_ID) SA TSi TSr ]'))).toBe(true);
    expect(p.b.logs.some((l) => l.includes('sending IKE_AUTH response 1 [ IDr AUTH N(PPK_ID) EAP ]'))).toBe(true);
    expect(of(p.a, 'ike-up')[0]!.sa.ppkId).toBe('pq1');
    expect(of(p.b, 'ike-up')[0]!.sa.ppkId).toBe('pq1');
    expectUpWithSameChildKeys(p.a, p.b);
  });

  it('with certificates (ECDSA, RFC 7427): PPK used when both hold it; NO_PPK_AUTH carries a signature that verifies when the IDs differ', () => {
    const NOW = Date.UTC(2026, 10, 22);
    const DAY = 86_400_000;
    const rootKey = generateKey({ type: 'ecdsa', size: 256 });
    const root = issueCertificate({ subject: 'C=CH, O=cygnet, CN=PPK test CA', publicKey: publicKeyOf(rootKey), signingKey: rootKey, serial: Uint8Array.of(1), notBefore: NOW - DAY, notAfter: NOW + 30 * DAY, ca: true });
    const host = (cn: string, serial: number): { cert: Certificate; key: PrivateKey } => {
      const key = generateKey({ type: 'ecdsa', size: 256 });
      return { key, cert: issueCertificate({ subject: `C=CH, O=cygnet, CN=${cn}`, publicKey: publicKeyOf(key), issuer: root, signingKey: rootKey, serial: Uint8Array.of(serial), notBefore: NOW - DAY, notAfter: NOW + 30 * DAY, san: [cn], flags: ['serverAuth', 'ikeIntermediate'] }) };
    };
    const moon = host('moon.example', 2);
    const sun = host('sun.example', 3);
    const side = (own: typeof moon, me: string, peer: string, ppk: PpkSide, addr?: string) => ({
      connections: [
        connection({
          name: 'gw', remoteAddrs: addr ? [addr] : ['%any'], sendCert: 'always', local: { auth: 'pubkey', id: me, certs: [own.cert] }, remote: { auth: 'pubkey', id: peer },
          ...(ppk.ppkId !== undefined ? { ppkId: ppk.ppkId } : {}),
          children: [child('net', { localTs: [addr ? '10.1.0.0/16' : '10.2.0.0/16'], remoteTs: [addr ? '10.2.0.0/16' : '10.1.0.0/16'] })],
        }),
      ],
      credentials: withPpks({ ...pskCredentials([]), privateKeyFor: (c: Certificate) => (sameCertificate(c, own.cert) ? own.key : undefined), trust: new TrustStore([root], []) }, ppk.ppks ?? []),
    });
    for (const [ids, used] of [[['pq1', 'pq1'], true], [['pq-moon', 'pq-sun'], false]] as const) {
      const p = makePair(side(moon, 'moon.example', 'sun.example', { ppkId: ids[0], ppks: [{ id: ids[0], secret: PPK }] }, '192.0.2.2'), side(sun, 'sun.example', 'moon.example', { ppkId: ids[1], ppks: [{ id: ids[1], secret: PPK }] }), { settings: { epochOffsetMs: NOW } });
      p.a.ep.initiate('gw', 0);
      p.sim.runUntil(() => (of(p.a, 'child-install').length > 0 && of(p.b, 'child-install').length > 0) || of(p.a, 'ike-down').length > 0, { maxTime: 60_000 });
      expectUpWithSameChildKeys(p.a, p.b);
      expect(p.a.logs.some((l) => /sending IKE_AUTH request 1 \[ IDi .*AUTH N\(PPK_ID\) N\(NO_PPK\)/.test(l))).toBe(true);
      expect(of(p.b, 'ike-up')[0]!.sa.ppkId).toBe(used ? 'pq1' : undefined);
      if (!used) expect(p.b.logs.some((l) => l.includes("PPK 'pq-moon' unknown here, authenticating the peer with NO_PPK_AUTH"))).toBe(true);
      expect(p.b.logs.some((l) => /authentication of 'moon.example' with ECDSA|authentication of 'moon\.example' with .*successful/.test(l))).toBe(true);
    }
  });

  it('after IKE_INTERMEDIATE with ML-KEM-768 (RFC 9370): the PPK is mixed into the keys the additional exchange updated, and used', () => {
    const p = run(both(true), both(true), 1, 'aes256gcm16-prfsha256-x25519-ke1_mlkem768');
    expectUpWithSameChildKeys(p.a, p.b);
    expect(of(p.a, 'ike-up')[0]!.sa.suite).toMatch(/KE1_ML_KEM_768/);
    expect(of(p.a, 'ike-up')[0]!.sa.ppkId).toBe('pq1');
    expect(of(p.b, 'ike-up')[0]!.sa.ppkId).toBe('pq1');
    expect(p.a.logs.some((l) => /sending IKE_INTERMEDIATE request 1/.test(l))).toBe(true);
    // NO_PPK_AUTH after IKE_INTERMEDIATE: computed over the same IntAuth chain (RFC 9242 3.3.2) with the unmixed keys.
    const f = run({ ppkId: 'pq1', ppks: [{ id: 'pq1', secret: PPK }] }, { ppkId: 'pq2', ppks: [{ id: 'pq2', secret: PPK }] }, 1, 'aes256gcm16-prfsha256-x25519-ke1_mlkem768');
    expectUpWithSameChildKeys(f.a, f.b);
    expect(of(f.b, 'ike-up')[0]!.sa.ppkId).toBeUndefined();
    expect(f.b.logs.some((l) => l.includes("PPK 'pq1' unknown here, authenticating the peer with NO_PPK_AUTH"))).toBe(true);
  });
});

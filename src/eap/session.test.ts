import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random.js';
import { decodeEap, encodeEap } from './packet.js';
import { EapPeer } from './peer.js';
import { EapServer } from './server.js';
import { converse } from './testing.js';
import { ntPasswordHash } from './mschapv2-crypto.js';
import type { EapPeerOptions, EapSecret, EapSecretLookup, EapServerOptions } from './types.js';

const users: Record<string, EapSecret> = {
  alice: { kind: 'password', password: 'wonderland' },
  carol: { kind: 'nthash', hash: ntPasswordHash('nt-secret') },
};
const serverSecrets: EapSecretLookup = (peer) => users[peer];
const peerSecret = (password: string): EapSecretLookup => () => ({ kind: 'password', password });

const server = (o: Partial<EapServerOptions> = {}): EapServer =>
  new EapServer({ ikeIdentity: 'alice', ownIdentity: 'vpn.example.org', methods: ['mschapv2'], random: seededRandom(1), secrets: serverSecrets, ...o });
const peer = (o: Partial<EapPeerOptions> = {}): EapPeer =>
  new EapPeer({ identity: 'alice', serverIdentity: 'vpn.example.org', methods: ['mschapv2'], random: seededRandom(2), secrets: peerSecret('wonderland'), ...o });

describe('EAP-MSCHAPv2 conversation', () => {
  it('EAP-Identity, Challenge, Response, Success: both sides derive the same 64-byte MSK', async () => {
    const s = server({ eapId: '%any' });
    const c = await converse(s, peer());
    expect(c.server.kind).toBe('success');
    expect(c.peer?.kind).toBe('success');
    if (c.server.kind !== 'success' || c.peer?.kind !== 'success') throw new Error('not both success');
    expect(c.server.msk?.length).toBe(64);
    expect(c.server.msk).toEqual(c.peer.msk);
    expect(c.server.msk?.subarray(32)).toEqual(new Uint8Array(32));
    expect(s.identity).toBe('alice');
    expect(s.method).toBe('mschapv2');
    // Identity request/response, Challenge, Response, Success-Request, Success-Response, EAP-Success
    expect(c.packets.map(([w, p]) => `${w}:${p[0]}/${p[4] ?? '-'}`)).toEqual([
      'server:1/1', 'peer:2/1', 'server:1/26', 'peer:2/26', 'server:1/26', 'peer:2/26', 'server:3/-',
    ]);
    const success = new TextDecoder().decode(c.packets[4]?.[1].subarray(9));
    expect(success).toMatch(/^S=[0-9A-F]{40} M=/);
  });
  it('without eap_id the IKE identity is used and no EAP-Identity is asked', async () => {
    const c = await converse(server(), peer());
    expect(c.server.kind).toBe('success');
    expect(c.packets[0]?.[1][4]).toBe(26);
  });
  it('accepts an NT-hash secret (ntlm- secrets)', async () => {
    const c = await converse(server({ ikeIdentity: 'carol' }), peer({ identity: 'carol', secrets: peerSecret('nt-secret') }));
    expect(c.server.kind).toBe('success');
    expect(c.peer?.kind).toBe('success');
  });
  it('a wrong password fails with a Failure-Request E=691 R=0 V=3 and a reason naming method and identity', async () => {
    const s = server();
    const c = await converse(s, peer({ secrets: peerSecret('looking-glass') }));
    expect(c.server.kind).toBe('failure');
    if (c.server.kind !== 'failure') throw new Error('unreachable');
    expect(c.server.reason).toBe("EAP-MSCHAPv2 authentication of 'alice' failed: wrong password (NT-Response does not match)");
    expect(s.failedReason).toBe(c.server.reason);
    const fr = c.server.eap;
    expect(fr?.[0]).toBe(1);
    expect(fr?.[5]).toBe(4);
    expect(new TextDecoder().decode(fr?.subarray(9))).toMatch(/^E=691 R=0 C=[0-9A-F]{32} V=3 M=Authentication failed$/);
    expect(c.peer?.kind).toBe('failure');
    if (c.peer?.kind !== 'failure') throw new Error('unreachable');
    expect(c.peer.reason).toBe("EAP-MSCHAPv2 authentication of 'alice' failed with ERROR_AUTHENTICATION_FAILURE (691): 'Authentication failed'");
    // the peer's Failure-Response, if it is sent anyway, is answered with EAP-Failure
    expect(c.peer.eap).toBeDefined();
    if (c.peer.eap !== undefined) {
      const late = await s.process(c.peer.eap);
      expect(late.kind).toBe('failure');
    }
  });
  it('an unknown user looks the same to the client, the server reason says unknown user', async () => {
    const c = await converse(server({ ikeIdentity: 'mallory' }), peer({ identity: 'mallory' }));
    expect(c.server.kind).toBe('failure');
    if (c.server.kind !== 'failure') throw new Error('unreachable');
    expect(c.server.reason).toBe("EAP-MSCHAPv2 authentication of 'mallory' failed: no EAP secret for 'mallory' (unknown user)");
    expect(new TextDecoder().decode(c.server.eap?.subarray(9))).toMatch(/^E=691 R=0/);
  });
  it('an MSCHAPv2 name other than the EAP identity is an identity mismatch', async () => {
    const c = await converse(server({ eapId: '%any' }), new MismatchPeer());
    expect(c.server.kind).toBe('failure');
    if (c.server.kind !== 'failure') throw new Error('unreachable');
    expect(c.server.reason).toBe("EAP-MSCHAPv2 authentication of 'alice' failed: identity mismatch, the MSCHAPv2 Response names 'bob'");
  });
  it('DOMAIN\\user in the MSCHAPv2 name matches the plain EAP identity', async () => {
    const c = await converse(server({ eapId: '%any' }), new MismatchPeer('CORP\\alice', 'wonderland'));
    expect(c.server.kind).toBe('success');
  });
  it('a server that does not know the password is caught by the peer (authenticator response)', async () => {
    const s = server({ secrets: () => ({ kind: 'password', password: 'wonderland' }) });
    const p = peer();
    const challenge = await s.start();
    if (challenge.kind !== 'send') throw new Error('no challenge');
    const response = await p.process(challenge.eap);
    if (response.kind !== 'send') throw new Error('no response');
    const success = await s.process(response.eap);
    if (success.kind !== 'send') throw new Error('no success request');
    const forged = Uint8Array.from(success.eap);
    forged[11] = forged[11] === 0x30 ? 0x31 : 0x30; // first hex digit after "S="
    const r = await p.process(forged);
    expect(r.kind).toBe('failure');
    if (r.kind === 'failure') expect(r.reason).toMatch(/verification of the server failed for 'alice'/);
  });
  it('EAP-Success before the server proved itself is refused by the peer', async () => {
    const s = server();
    const p = peer();
    const challenge = await s.start();
    if (challenge.kind !== 'send') throw new Error('no challenge');
    await p.process(challenge.eap);
    const r = await p.process(Uint8Array.of(3, challenge.eap[1] ?? 0, 0, 4));
    expect(r.kind).toBe('failure');
  });
  it('the peer without a secret fails naming both identities', async () => {
    const c = await converse(server(), peer({ secrets: () => undefined }));
    expect(c.peer?.kind).toBe('failure');
    if (c.peer?.kind === 'failure') expect(c.peer.reason).toBe("EAP-MSCHAPv2: no EAP secret for 'alice' - 'vpn.example.org'");
  });
});

/** A peer that answers MSCHAPv2 with another name than its EAP identity. */
class MismatchPeer {
  method = 'mschapv2';
  private inner: EapPeer;
  constructor(name = 'bob', password = 'whatever') {
    this.inner = new EapPeer({ identity: name, serverIdentity: 'vpn', methods: ['mschapv2'], random: seededRandom(3), secrets: peerSecret(password) });
  }
  async process(eap: Uint8Array) {
    const p = decodeEap(eap);
    if (p.code === 1 && p.type === 1) return { kind: 'send' as const, eap: encodeEap(2, p.identifier, 1, new TextEncoder().encode('alice')) };
    return this.inner.process(eap);
  }
}

describe('EAP-MD5 (tests only)', () => {
  it('is refused unless allowMd5 is set', async () => {
    const s = server({ methods: ['md5'] });
    const step = await s.start();
    expect(step.kind).toBe('failure');
    if (step.kind === 'failure') expect(step.reason).toMatch(/EAP-MD5 is refused/);
  });
  it('succeeds with the right password, without an MSK', async () => {
    const c = await converse(server({ methods: ['md5'], allowMd5: true }), peer({ methods: ['md5'], allowMd5: true }));
    expect(c.server).toMatchObject({ kind: 'success' });
    expect(c.server.kind === 'success' && c.server.msk).toBeFalsy();
    expect(c.peer?.kind).toBe('success');
  });
  it('fails with a wrong password, naming method and identity', async () => {
    const c = await converse(server({ methods: ['md5'], allowMd5: true }), peer({ methods: ['md5'], allowMd5: true, secrets: peerSecret('nope') }));
    expect(c.server).toMatchObject({ kind: 'failure', reason: "EAP-MD5 authentication of 'alice' failed: wrong password" });
    expect(c.peer?.kind).toBe('failure');
    if (c.peer?.kind === 'failure') expect(c.peer.reason).toMatch(/received EAP-Failure, EAP-MD5 authentication of 'alice' failed/);
  });
  it('a peer that does not allow MD5 answers with a Nak; one configured method ends in failure', async () => {
    const c = await converse(server({ methods: ['md5'], allowMd5: true }), peer());
    expect(c.packets[1]?.[1][4]).toBe(3);
    expect([...(c.packets[1]?.[1].subarray(5) ?? [])]).toEqual([26]);
    expect(c.server).toMatchObject({ kind: 'failure', reason: "'alice' refused EAP-MD5 and asked for MSCHAPv2" });
  });
});

describe('eap-dynamic: Nak handling', () => {
  it('the server proposes its first method and honours a Nak for another configured one', async () => {
    const s = server({ methods: ['md5', 'mschapv2'], allowMd5: true });
    const c = await converse(s, peer());
    expect(c.server.kind).toBe('success');
    expect(s.method).toBe('mschapv2');
    expect(c.packets.map(([, p]) => p[4])).toEqual([4, 3, 26, 26, 26, 26, undefined]);
  });
  it('a Nak for a method not configured fails naming what was asked', async () => {
    const s = server({ methods: ['mschapv2', 'md5'], allowMd5: true });
    const c = await converse(s, peer({ methods: ['tls'] }));
    expect(c.server.kind).toBe('failure');
    if (c.server.kind === 'failure') expect(c.server.reason).toBe("'alice' refused EAP-MSCHAPv2 and proposed no other method");
  });
  it('a Nak listing only unconfigured types fails', async () => {
    const s = server({ methods: ['mschapv2', 'md5'], allowMd5: true });
    await s.start();
    const step = await s.process(Uint8Array.of(2, (s as unknown as { lastIdentifier: number }).lastIdentifier, 0, 6, 3, 13));
    expect(step).toMatchObject({ kind: 'failure', reason: "'alice' refused EAP-MSCHAPv2 and asked for TLS, none of them configured" });
  });
});

describe('malformed and unexpected packets end the conversation with a reason', () => {
  const started = async (): Promise<{ s: EapServer; id: number }> => {
    const s = server();
    const step = await s.start();
    if (step.kind !== 'send') throw new Error('no request');
    return { s, id: step.eap[1] ?? 0 };
  };
  it('garbage', async () => {
    const { s } = await started();
    const r = await s.process(Uint8Array.of(2, 1));
    expect(r).toMatchObject({ kind: 'failure', reason: expect.stringMatching(/^malformed EAP packet from 'alice': EAP packet of 2 bytes/) });
    expect([...(r.eap ?? [])].slice(0, 1)).toEqual([4]);
  });
  it('a Request instead of a Response', async () => {
    const { s, id } = await started();
    expect(await s.process(Uint8Array.of(1, id, 0, 5, 1))).toMatchObject({ kind: 'failure', reason: "received EAP Request from 'alice', expected a Response" });
  });
  it('a wrong Identifier', async () => {
    const { s, id } = await started();
    const r = await s.process(Uint8Array.of(2, (id + 1) & 0xff, 0, 5, 26));
    expect(r).toMatchObject({ kind: 'failure', reason: expect.stringMatching(/has Identifier .* \(RFC 3748 4.1\)/) });
  });
  it('a truncated MSCHAPv2 Response', async () => {
    const { s, id } = await started();
    const r = await s.process(Uint8Array.of(2, id, 0, 10, 26, 2, id, 0, 5, 49));
    expect(r).toMatchObject({ kind: 'failure', reason: expect.stringMatching(/EAP-MSCHAPv2 authentication of 'alice' failed: EAP-MSCHAPv2 Response of 1 data bytes is shorter/) });
  });
  it('a wrong Value-Size', async () => {
    const { s, id } = await started();
    const body = new Uint8Array(50);
    body[0] = 48;
    const r = await s.process(encodeEap(2, id, 26, Uint8Array.of(2, id, 0, 54, ...body)));
    expect(r).toMatchObject({ kind: 'failure', reason: expect.stringMatching(/Value-Size 48 \(offset 9\) is not 49/) });
  });
  it('another method type than the one running', async () => {
    const { s, id } = await started();
    expect(await s.process(Uint8Array.of(2, id, 0, 6, 4, 0))).toMatchObject({ kind: 'failure', reason: "EAP-MSCHAPv2 of 'alice': received a MD5 Response" });
  });
  it('a Response after the end', async () => {
    const { s, id } = await started();
    await s.process(Uint8Array.of(2, 1));
    expect(await s.process(Uint8Array.of(2, id, 0, 5, 26))).toMatchObject({ kind: 'failure', reason: "EAP Response for 'alice' arrived after the conversation ended" });
  });
  it('an empty EAP identity', async () => {
    const s = server({ eapId: '%any' });
    const step = await s.start();
    const r = await s.process(Uint8Array.of(2, step.eap?.[1] ?? 0, 0, 5, 1));
    expect(r).toMatchObject({ kind: 'failure', reason: "'alice' sent an empty EAP identity" });
  });
  it('the peer: garbage, a Response, an MSCHAPv2 Challenge with a bad Value-Size', async () => {
    expect(await peer().process(Uint8Array.of(9, 9, 9))).toMatchObject({ kind: 'failure', reason: expect.stringMatching(/^malformed EAP packet from the server/) });
    expect(await peer().process(Uint8Array.of(2, 1, 0, 5, 1))).toMatchObject({ kind: 'failure', reason: 'received an EAP Response from the server' });
    const r = await peer().process(encodeEap(1, 1, 26, Uint8Array.of(1, 1, 0, 8, 15, 0, 0, 0)));
    expect(r).toMatchObject({ kind: 'failure', reason: expect.stringMatching(/Challenge Value-Size 15 \(offset 9\) is not 16/) });
  });
  it('the peer answers Identity and Notification requests', async () => {
    const p = peer({ identity: 'alice@example.org' });
    const id = await p.process(encodeEap(1, 5, 1));
    expect(id).toEqual({ kind: 'send', eap: encodeEap(2, 5, 1, new TextEncoder().encode('alice@example.org')) });
    expect(await p.process(encodeEap(1, 6, 2, new TextEncoder().encode('hello')))).toEqual({ kind: 'send', eap: encodeEap(2, 6, 2) });
  });
});

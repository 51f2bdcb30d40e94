import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random.js';
import { RadiusClient } from './client.js';
import { radiusServer } from './config.js';
import { Attr, RadiusCode } from './constants.js';
import { RadiusEapServer, sessionAttributes, stationId } from './eap-server.js';
import { mppeKeyAttributes } from './mppe.js';
import { attributes, eapMessage, eapMessageAttributes, firstAttribute, firstText, firstU32, ipv4Attr, ipv4Text, textAttr, u32Attr, type RadiusAttribute, type RadiusPacket } from './packet.js';
import { serverAnswer, serverReceive, type ScriptedAnswer } from './test-support.js';

const enc = new TextEncoder();
const SECRET = enc.encode('s3cret');

/** A RADIUS client whose transmissions are answered at once by `script` (undefined: stay silent). */
function scripted(script: (req: RadiusPacket, n: number) => ScriptedAnswer | undefined, servers = [radiusServer({ name: 'rad1', address: '192.0.2.10', secret: SECRET, retransmitTries: 1, retransmitTimeoutMs: 100 })]) {
  const seen: RadiusPacket[] = [];
  let now = 0;
  const client: RadiusClient = new RadiusClient({
    servers,
    random: seededRandom(3),
    onWake: () =>
      setImmediate(() => {
        for (const t of client.poll(now)) {
          const req = serverReceive(t.data, SECRET);
          seen.push(req);
          const a = script(req, seen.length);
          if (a) client.receive(t.server, t.kind, serverAnswer(req, SECRET, a), now);
        }
        const d = client.nextDeadline();
        if (d !== undefined) {
          now = d;
          client.onWake?.();
        }
      }),
  });
  return { client, seen };
}

const eapReq = (id: number, type: number, data: number[] = []): Uint8Array => Uint8Array.from([1, id, 0, 5 + data.length, type, ...data]);
const challenge = (id: number, state: string, type = 26): ScriptedAnswer => ({ code: RadiusCode.ACCESS_CHALLENGE, attributes: [...eapMessageAttributes(eapReq(id, type, [1, 2, 3])), { type: Attr.STATE, value: enc.encode(state) }] });

describe('RadiusEapServer (eap_radius.c)', () => {
  it('relays EAP both ways: EAP-Identity first, State round-tripped, MSK from MPPE keys, Accept attributes surfaced', async () => {
    const send = Uint8Array.from({ length: 32 }, (_, i) => i);
    const recv = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
    const { client, seen } = scripted((req, n) => {
      if (n === 1) return challenge(5, 'st-1');
      if (n === 2) return challenge(6, 'st-2');
      return {
        code: RadiusCode.ACCESS_ACCEPT,
        attributes: [
          ...eapMessageAttributes(Uint8Array.of(3, 6, 0, 4)),
          ...mppeKeyAttributes(send, recv, SECRET, req.authenticator, [Uint8Array.of(0x81, 1), Uint8Array.of(0x82, 2)]),
          ipv4Attr(Attr.FRAMED_IP_ADDRESS, '10.9.0.5'),
          textAttr(Attr.CLASS, 'engineers'),
          u32Attr(Attr.SESSION_TIMEOUT, 3600),
          u32Attr(Attr.ACCT_INTERIM_INTERVAL, 300),
        ],
      };
    });
    const s = new RadiusEapServer({
      client,
      identity: 'carol@example.org',
      eapIdentifier: 7,
      context: { local: { address: '192.0.2.1', port: 4500 }, remote: { address: '203.0.113.9', port: 61000 }, ikeSaUniqueId: 42, connectionName: 'rw', acctSessionId: '1700000000-42', virtualIp: '10.9.0.5' },
    });
    expect(s.method).toBe('radius');
    const a = await s.start();
    expect(a).toEqual({ kind: 'send', eap: eapReq(5, 26, [1, 2, 3]) });
    expect(s.method).toBe('mschapv2');
    const first = seen[0];
    if (!first) throw new Error('no request');
    expect(eapMessage(first)).toEqual(Uint8Array.from([2, 7, 0, 22, 1, ...enc.encode('carol@example.org')]));
    expect(firstText(first, Attr.USER_NAME)).toBe('carol@example.org');
    expect(firstU32(first, Attr.NAS_PORT_TYPE)).toBe(5);
    expect(firstU32(first, Attr.SERVICE_TYPE)).toBe(2);
    expect(firstU32(first, Attr.NAS_PORT)).toBe(42);
    expect(firstText(first, Attr.NAS_PORT_ID)).toBe('rw');
    expect(ipv4Text(firstAttribute(first, Attr.NAS_IP_ADDRESS) ?? new Uint8Array())).toBe('192.0.2.1');
    expect(firstText(first, Attr.CALLED_STATION_ID)).toBe('192.0.2.1[4500]');
    expect(firstText(first, Attr.CALLING_STATION_ID)).toBe('203.0.113.9[61000]');
    expect(firstText(first, Attr.ACCT_SESSION_ID)).toBe('1700000000-42');
    expect(ipv4Text(firstAttribute(first, Attr.FRAMED_IP_ADDRESS) ?? new Uint8Array())).toBe('10.9.0.5');
    expect(firstAttribute(first, Attr.STATE)).toBeUndefined();
    expect(firstAttribute(first, Attr.MESSAGE_AUTHENTICATOR)?.length).toBe(16);

    // a long EAP-Response is split into 253-octet EAP-Messages
    const long = Uint8Array.from({ length: 600 }, (_, i) => i & 0xff);
    long.set([2, 5, 600 >> 8, 600 & 0xff, 26]);
    expect((await s.process(long)).kind).toBe('send');
    const second = seen[1];
    if (!second) throw new Error('no request');
    expect(attributes(second, Attr.EAP_MESSAGE).map((v) => v.length)).toEqual([253, 253, 94]);
    expect(eapMessage(second)).toEqual(long);
    expect(firstText(second, Attr.STATE)).toBe('st-1');

    const done = await s.process(Uint8Array.of(2, 6, 0, 6, 26, 3));
    expect(firstText(seen[2] ?? ({} as RadiusPacket), Attr.STATE)).toBe('st-2');
    expect(done).toEqual({ kind: 'success', eap: Uint8Array.of(3, 6, 0, 4), msk: Uint8Array.from([...recv, ...send]) });
    expect(s.accepted).toEqual({ server: 'rad1', framedIp: '10.9.0.5', classes: [enc.encode('engineers')], sessionTimeoutS: 3600, interimIntervalS: 300, replyMessages: [] });
    expect((await s.process(Uint8Array.of(2, 7, 0, 5, 26))).kind).toBe('failure'); // conversation over
  });

  it('eap_start: an empty EAP-Message first; id_prefix goes before the identity in User-Name and EAP-Identity', async () => {
    const { client, seen } = scripted(() => challenge(1, 'x', 4));
    await new RadiusEapServer({ client, identity: 'dave', eapStart: true, idPrefix: '1' }).start();
    const req = seen[0];
    if (!req) throw new Error('no request');
    expect(attributes(req, Attr.EAP_MESSAGE)).toEqual([new Uint8Array(0)]);
    expect(firstText(req, Attr.USER_NAME)).toBe('1dave');
    const { client: c2, seen: s2 } = scripted(() => challenge(1, 'x', 4));
    const md5 = new RadiusEapServer({ client: c2, identity: 'dave', idPrefix: '1' });
    await md5.start();
    expect(eapMessage(s2[0] ?? ({} as RadiusPacket))?.subarray(5)).toEqual(enc.encode('1dave'));
    expect(md5.method).toBe('md5');
  });

  it('Access-Reject: failure with the Reply-Message and the EAP-Failure', async () => {
    const { client } = scripted((_r, n) => (n === 1 ? challenge(1, 'a') : { code: RadiusCode.ACCESS_REJECT, attributes: [...eapMessageAttributes(Uint8Array.of(4, 2, 0, 4)), textAttr(Attr.REPLY_MESSAGE, 'account locked')] }));
    const logs: string[] = [];
    const s = new RadiusEapServer({ client, identity: 'eve', log: (_g, _l, m) => logs.push(m) });
    await s.start();
    const r = await s.process(Uint8Array.of(2, 1, 0, 6, 26, 0));
    expect(r).toEqual({ kind: 'failure', eap: Uint8Array.of(4, 2, 0, 4), reason: "Access-Reject from RADIUS server 'rad1': account locked" });
    expect(s.rejected).toEqual({ server: 'rad1', replyMessages: ['account locked'] });
    expect(logs).toEqual(["RADIUS authentication of 'eve' failed: Access-Reject from RADIUS server 'rad1': account locked"]);
  });

  it('an Access-Accept to the first request is treated as a reject (no authentication happened)', async () => {
    const { client } = scripted(() => ({ code: RadiusCode.ACCESS_ACCEPT }));
    const r = await new RadiusEapServer({ client, identity: 'frank' }).start();
    expect(r.kind === 'failure' && r.reason).toBe("RADIUS server 'rad1' sent Access-Accept to the first Access-Request, without authentication: treated as Access-Reject");
  });

  it('a Challenge without EAP-Message, an Accept with broken MPPE keys, no answer: each a failure saying why', async () => {
    const { client } = scripted(() => ({ code: RadiusCode.ACCESS_CHALLENGE }));
    const r1 = await new RadiusEapServer({ client, identity: 'g' }).start();
    expect(r1.kind === 'failure' && r1.reason).toBe("RADIUS server 'rad1' sent an Access-Challenge without EAP-Message");

    // MS-MPPE-Send-Key whose encrypted string is 8 octets, not a multiple of 16 (RFC 2548 2.4.2)
    const broken: RadiusAttribute[] = [{ type: Attr.VENDOR_SPECIFIC, value: Uint8Array.of(0, 0, 1, 55, 16, 12, 0x80, 1, ...new Array<number>(8).fill(9)) }];
    const { client: c2 } = scripted((_r, n) => (n === 1 ? challenge(1, 's') : { code: RadiusCode.ACCESS_ACCEPT, attributes: broken }));
    const s2 = new RadiusEapServer({ client: c2, identity: 'g' });
    await s2.start();
    const r2 = await s2.process(Uint8Array.of(2, 1, 0, 5, 26));
    expect(r2.kind === 'failure' && r2.reason).toBe("Access-Accept from RADIUS server 'rad1' has unusable MPPE keys: MS-MPPE-Send-Key: 8 octets of encrypted string after the salt is not a non-zero multiple of 16 (RFC 2548 2.4.2)");

    const { client: c3 } = scripted(() => undefined);
    const r3 = await new RadiusEapServer({ client: c3, identity: 'g' }).start();
    expect(r3).toEqual({ kind: 'failure', reason: "no answer from RADIUS server 'rad1'" });

    const { client: c4 } = scripted(() => undefined);
    const s4 = new RadiusEapServer({ client: c4, identity: 'g' });
    expect((await s4.process(Uint8Array.of(2, 1, 0, 5, 26))).kind).toBe('failure');
  });

  it('the conversation stays with the server that answered first', async () => {
    const servers = [radiusServer({ name: 'a', address: '192.0.2.1', secret: SECRET, preference: 5 }), radiusServer({ name: 'b', address: '192.0.2.2', secret: SECRET })];
    const { client } = scripted((_r, n) => (n === 1 ? challenge(1, 's') : { code: RadiusCode.ACCESS_REJECT }), servers);
    const s = new RadiusEapServer({ client, identity: 'h' });
    await s.start();
    expect(s.serverName).toBe('a');
  });
});

describe('session attributes', () => {
  it('IPv6 NAS address, station ids without port', () => {
    const attrs = sessionAttributes('u', { local: { address: '2001:db8::1', port: 500 }, remote: { address: '2001:db8::2', port: 4500 } }, false);
    expect(attrs.find((a) => a.type === Attr.NAS_IPV6_ADDRESS)?.value).toEqual(Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1]));
    expect(new TextDecoder().decode(attrs.find((a) => a.type === Attr.CALLING_STATION_ID)?.value)).toBe('2001:db8::2');
    expect(stationId({ address: '192.0.2.1', port: 4500 })).toBe('192.0.2.1[4500]');
  });
});

describe('a broken session context', () => {
  it('is a failure naming the bad value, not a rejected promise', async () => {
    const { client, seen } = scripted(() => challenge(1, 's'));
    const r = await new RadiusEapServer({ client, identity: 'i', context: { local: { address: '10.0.0.300', port: 500 } } }).start();
    expect(r).toEqual({ kind: 'failure', reason: "cannot build the Access-Request: '10.0.0.300' is not an IPv4 address" });
    expect(seen).toEqual([]);
  });
});

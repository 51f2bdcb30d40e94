import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeAccessRequest, verifyMessageAuthenticator, verifyResponse } from './authenticator.js';
import { Attr, MS_MPPE_RECV_KEY, MS_MPPE_SEND_KEY, VENDOR_MICROSOFT } from './constants.js';
import { RadiusError } from './errors.js';
import { decryptMppeKey, encryptMppeKey, mppeKeyAttributes, mskFromAccept } from './mppe.js';
import { decodePacket, eapMessage, encodePacket, vendorAttr, vendorAttributes } from './packet.js';

interface Capture {
  secret: string;
  exchanges: Array<{ request: string; response: string }>;
  expected_recv_key: string;
  expected_send_key: string;
  expected_msk: string;
}
const vectors = JSON.parse(readFileSync(new URL('../../vectors/radius.json', import.meta.url), 'utf8')) as { entries: Array<{ id: string } & Partial<Capture>> };
const cap = vectors.entries.find((e) => e.id === 'freeradius-3.2.1-eap-mschapv2') as unknown as Capture;
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const secret = new TextEncoder().encode(cap.secret);

describe('a real FreeRADIUS 3.2.1 EAP-MSCHAPv2 exchange (vectors/radius.json)', () => {
  it('our Access-Requests carry a Message-Authenticator FreeRADIUS accepted (RFC 3579 3.2)', () => {
    for (const x of cap.exchanges) {
      const req = hex(x.request);
      expect(() => verifyMessageAuthenticator(req, req.slice(4, 20), secret)).not.toThrow();
    }
  });

  it("FreeRADIUS' Response Authenticators and Message-Authenticators verify; a flipped bit does not", () => {
    for (const x of cap.exchanges) {
      const reqAuth = hex(x.request).slice(4, 20);
      expect(() => verifyResponse(hex(x.response), reqAuth, secret)).not.toThrow();
    }
    const [first] = cap.exchanges;
    if (!first) throw new Error('no exchange');
    const reqAuth = hex(first.request).slice(4, 20);
    const res = hex(first.response);
    const p = decodePacket(res);
    expect(p.code).toBe(11);
    expect(eapMessage(p)?.[4]).toBe(26); // EAP-MSCHAPv2 Challenge
    // Message-Authenticator alone: recompute the Response Authenticator over a tampered MAC so only the MAC fails
    const maAt = res.findIndex((_, i) => i >= 20 && res[i] === Attr.MESSAGE_AUTHENTICATOR && res[i + 1] === 18);
    const tampered = res.slice();
    tampered[maAt + 2] = (tampered[maAt + 2] ?? 0) ^ 1;
    expect(() => verifyMessageAuthenticator(tampered, reqAuth, secret)).toThrow(/Message-Authenticator verification failed/);
    expect(() => verifyResponse(tampered, reqAuth, secret)).toThrow(RadiusError);
  });

  it('the Access-Accept MPPE keys decrypt to the RFC 3079 keys of the NT-Response; MSK = Recv || Send, zero-padded to 64', () => {
    const last = cap.exchanges[cap.exchanges.length - 1];
    if (!last) throw new Error('no exchange');
    const reqAuth = hex(last.request).slice(4, 20);
    const accept = decodePacket(hex(last.response));
    expect(accept.code).toBe(2);
    const ms = vendorAttributes(accept).filter((v) => v.vendor === VENDOR_MICROSOFT);
    const send = ms.find((v) => v.type === MS_MPPE_SEND_KEY);
    const recv = ms.find((v) => v.type === MS_MPPE_RECV_KEY);
    if (!send || !recv) throw new Error('no MPPE keys');
    expect(Buffer.from(decryptMppeKey(recv.value, secret, reqAuth)).toString('hex')).toBe(cap.expected_recv_key);
    expect(Buffer.from(decryptMppeKey(send.value, secret, reqAuth)).toString('hex')).toBe(cap.expected_send_key);
    const msk = mskFromAccept(accept, secret, reqAuth);
    expect(msk?.length).toBe(64);
    expect(Buffer.from(msk ?? new Uint8Array()).toString('hex')).toBe(cap.expected_msk);
  });
});

describe('MS-MPPE-Send/Recv-Key (RFC 2548 2.4.2)', () => {
  const ra = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
  it('round-trips keys of 1..64 octets and sets the salt bit', () => {
    for (const n of [1, 15, 16, 31, 32, 64]) {
      const key = Uint8Array.from({ length: n }, (_, i) => (i * 13) & 0xff);
      const c = encryptMppeKey(key, secret, ra, Uint8Array.of(0x12, 0x34));
      expect((c[0] ?? 0) & 0x80).toBe(0x80);
      expect((c.length - 2) % 16).toBe(0);
      expect(decryptMppeKey(c, secret, ra)).toEqual(key);
    }
  });

  it('MSK from a whole Access-Accept, and undefined without keys (EAP-MD5)', () => {
    const send = Uint8Array.from({ length: 32 }, (_, i) => i);
    const recv = Uint8Array.from({ length: 32 }, (_, i) => 100 + i);
    const p = decodePacket(encodePacket({ code: 2, identifier: 3, authenticator: new Uint8Array(16), attributes: mppeKeyAttributes(send, recv, secret, ra, [Uint8Array.of(0x80, 1), Uint8Array.of(0x80, 2)]) }));
    expect(mskFromAccept(p, secret, ra)).toEqual(Uint8Array.from([...recv, ...send]));
    expect(mskFromAccept(decodePacket(encodePacket({ code: 2, identifier: 3, authenticator: new Uint8Array(16), attributes: [] })), secret, ra)).toBeUndefined();
  });

  it('typed errors: wrong secret (key length does not fit), bad sizes', () => {
    const c = encryptMppeKey(new Uint8Array(16).fill(7), secret, ra, Uint8Array.of(0x80, 9));
    expect(() => decryptMppeKey(c, new TextEncoder().encode('other'), ra, 'MS-MPPE-Recv-Key')).toThrow(/MS-MPPE-Recv-Key: decrypted key length \d+ does not fit 31 octets/);
    expect(() => decryptMppeKey(c.slice(0, 17), secret, ra)).toThrow(/15 octets of encrypted string after the salt/);
    expect(() => decryptMppeKey(c.slice(0, 2), secret, ra)).toThrow(RadiusError);
    const p = decodePacket(encodePacket({ code: 2, identifier: 3, authenticator: new Uint8Array(16), attributes: [vendorAttr(311, 16, c.slice(0, 10)), vendorAttr(311, 17, c)] }));
    expect(() => mskFromAccept(p, secret, ra)).toThrow(/MS-MPPE-Send-Key: 8 octets/);
  });
});

describe('Message-Authenticator on requests', () => {
  it('encodeAccessRequest fills it in; verification fails with another secret; two are refused', () => {
    const ra = new Uint8Array(16).fill(5);
    const bytes = encodeAccessRequest({ code: 1, identifier: 1, authenticator: ra, attributes: [{ type: Attr.MESSAGE_AUTHENTICATOR, value: new Uint8Array(16) }] }, secret);
    expect(bytes.subarray(22, 38).some((b) => b !== 0)).toBe(true);
    expect(() => verifyMessageAuthenticator(bytes, ra, secret)).not.toThrow();
    expect(() => verifyMessageAuthenticator(bytes, ra, new TextEncoder().encode('x'))).toThrow(/verification failed/);
    const two = { type: Attr.MESSAGE_AUTHENTICATOR, value: new Uint8Array(16) };
    expect(() => encodeAccessRequest({ code: 1, identifier: 1, authenticator: ra, attributes: [two, two] }, secret)).toThrow(/more than one Message-Authenticator/);
  });

  it('EAP-Message without Message-Authenticator, or one of the wrong size, is refused', () => {
    const ra = new Uint8Array(16);
    const noMa = encodePacket({ code: 11, identifier: 1, authenticator: ra, attributes: [{ type: Attr.EAP_MESSAGE, value: Uint8Array.of(1, 1, 0, 4) }] });
    expect(() => verifyMessageAuthenticator(noMa, ra, secret)).toThrow(/carries EAP-Message without Message-Authenticator/);
    const short = encodePacket({ code: 11, identifier: 1, authenticator: ra, attributes: [{ type: Attr.MESSAGE_AUTHENTICATOR, value: new Uint8Array(8) }] });
    expect(() => verifyMessageAuthenticator(short, ra, secret)).toThrow(/has 8 octets, not 16/);
  });
});

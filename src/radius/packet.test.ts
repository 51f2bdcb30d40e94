import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeResponse, hidePassword, unhidePassword, verifyResponse } from './authenticator.js';
import { Attr } from './constants.js';
import { RadiusError } from './errors.js';
import { hmacMd5 } from './md5.js';
import {
  decodePacket,
  eapMessage,
  eapMessageAttributes,
  encodePacket,
  firstAttribute,
  firstText,
  firstU32,
  ipv4Attr,
  ipv4Text,
  textAttr,
  u32Attr,
  vendorAttr,
  vendorAttributes,
} from './packet.js';

interface Entry {
  id: string;
  kind: string;
  secret?: string;
  request?: string;
  response?: string;
  user_password?: string;
  key?: string;
  data?: string;
  mac?: string;
  [k: string]: unknown;
}
const vectors = JSON.parse(readFileSync(new URL('../../vectors/radius.json', import.meta.url), 'utf8')) as { entries: Entry[] };
const entry = (id: string): Entry => {
  const e = vectors.entries.find((x) => x.id === id);
  if (!e) throw new Error(`no vector ${id}`);
  return e;
};
const hex = (s: string | undefined): Uint8Array => Uint8Array.from(Buffer.from(s ?? '', 'hex'));
const utf8 = (s: string | undefined): Uint8Array => new TextEncoder().encode(s ?? '');

describe('RFC 2865 section 7 examples', () => {
  it('7.1: decodes the Access-Request, unhides "arctangent", re-encodes byte for byte', () => {
    const v = entry('rfc2865-7.1');
    const req = decodePacket(hex(v.request));
    expect(req.code).toBe(1);
    expect(req.identifier).toBe(0);
    expect(firstText(req, Attr.USER_NAME)).toBe('nemo');
    expect(ipv4Text(firstAttribute(req, Attr.NAS_IP_ADDRESS) ?? new Uint8Array())).toBe('192.168.1.16');
    expect(firstU32(req, Attr.NAS_PORT)).toBe(3);
    const hidden = firstAttribute(req, Attr.USER_PASSWORD) ?? new Uint8Array();
    expect(new TextDecoder().decode(unhidePassword(hidden, utf8(v.secret), req.authenticator))).toBe('arctangent');
    expect(hidePassword(utf8('arctangent'), utf8(v.secret), req.authenticator)).toEqual(hidden);
    expect(encodePacket(req)).toEqual(hex(v.request));
  });

  it('7.1: builds the Access-Accept with its Response Authenticator and verifies it', () => {
    const v = entry('rfc2865-7.1');
    const req = decodePacket(hex(v.request));
    const accept = encodeResponse(
      { code: 2, identifier: 0, authenticator: req.authenticator, attributes: [u32Attr(Attr.SERVICE_TYPE, 1), u32Attr(Attr.LOGIN_SERVICE, 0), ipv4Attr(Attr.LOGIN_IP_HOST, '192.168.1.3')] },
      req.authenticator,
      utf8(v.secret),
    );
    expect(Buffer.from(accept).toString('hex')).toBe(v.response);
    expect(() => verifyResponse(hex(v.response), req.authenticator, utf8(v.secret))).not.toThrow();
  });

  it('7.1: a wrong secret or another request fails the Response Authenticator', () => {
    const v = entry('rfc2865-7.1');
    const req = decodePacket(hex(v.request));
    const err = (() => {
      try {
        verifyResponse(hex(v.response), req.authenticator, utf8('wrong'));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(RadiusError);
    expect((err as RadiusError).code).toBe('BAD_AUTHENTICATOR');
    expect(() => verifyResponse(hex(v.response), new Uint8Array(16), utf8(v.secret))).toThrow(/Response-Authenticator verification failed/);
  });

  it('7.2: decodes the framed user request', () => {
    const v = entry('rfc2865-7.2');
    const req = decodePacket(hex(v.request));
    expect(req.identifier).toBe(1);
    expect(firstText(req, Attr.USER_NAME)).toBe('flopsy');
    expect(firstU32(req, Attr.NAS_PORT)).toBe(20);
    expect(firstU32(req, Attr.SERVICE_TYPE)).toBe(2);
    expect(firstU32(req, Attr.FRAMED_PROTOCOL)).toBe(1);
    expect(encodePacket(req)).toEqual(hex(v.request));
  });
});

describe('HMAC-MD5 (RFC 2202 section 2), the Message-Authenticator primitive', () => {
  for (const id of ['rfc2202-2-1', 'rfc2202-2-2', 'rfc2202-2-3']) {
    it(id, () => {
      const v = entry(id);
      expect(Buffer.from(hmacMd5(hex(v.key), hex(v.data))).toString('hex')).toBe(v.mac);
    });
  }
});

describe('User-Password hiding (RFC 2865 5.2)', () => {
  it('round-trips lengths 0..128 across 16-octet blocks', () => {
    const ra = Uint8Array.from({ length: 16 }, (_, i) => i * 7);
    for (const n of [0, 1, 15, 16, 17, 32, 100, 128]) {
      const pw = Uint8Array.from({ length: n }, (_, i) => 0x41 + (i % 26));
      const hidden = hidePassword(pw, utf8('s3cret'), ra);
      expect(hidden.length).toBe(Math.max(16, Math.ceil(n / 16) * 16));
      expect(unhidePassword(hidden, utf8('s3cret'), ra)).toEqual(pw);
    }
  });
  it('refuses a password over 128 octets and a hidden value of a bad length', () => {
    expect(() => hidePassword(new Uint8Array(129), utf8('s'), new Uint8Array(16))).toThrow(/over RFC 2865 5.2's 128/);
    expect(() => unhidePassword(new Uint8Array(17), utf8('s'), new Uint8Array(16))).toThrow(/not a multiple of 16/);
  });
});

describe('codec', () => {
  const base = { code: 1, identifier: 9, authenticator: new Uint8Array(16) };

  it('Vendor-Specific attributes encode and decode (RFC 2865 5.26)', () => {
    const p = decodePacket(encodePacket({ ...base, attributes: [vendorAttr(311, 16, Uint8Array.of(1, 2, 3)), textAttr(Attr.USER_NAME, 'x'), vendorAttr(9, 1, utf8('cisco'))] }));
    expect(vendorAttributes(p)).toEqual([
      { vendor: 311, type: 16, value: Uint8Array.of(1, 2, 3) },
      { vendor: 9, type: 1, value: utf8('cisco') },
    ]);
  });

  it('EAP-Message: split into 253-octet attributes and joined again (RFC 3579 3.1); EAP-Start is one empty attribute', () => {
    const eap = Uint8Array.from({ length: 700 }, (_, i) => i & 0xff);
    const attrs = eapMessageAttributes(eap);
    expect(attrs.map((a) => a.value.length)).toEqual([253, 253, 194]);
    const p = decodePacket(encodePacket({ ...base, attributes: [textAttr(Attr.USER_NAME, 'u'), ...attrs] }));
    expect(eapMessage(p)).toEqual(eap);
    expect(eapMessageAttributes(new Uint8Array(0))).toEqual([{ type: Attr.EAP_MESSAGE, value: new Uint8Array(0) }]);
    expect(eapMessage(decodePacket(encodePacket({ ...base, attributes: eapMessageAttributes(new Uint8Array(0)) })))).toBeUndefined();
  });

  it('ignores padding past Length (RFC 2865 3)', () => {
    const bytes = encodePacket({ ...base, attributes: [textAttr(Attr.USER_NAME, 'pad')] });
    const padded = new Uint8Array(bytes.length + 5);
    padded.set(bytes);
    expect(decodePacket(padded)).toEqual(decodePacket(bytes));
  });

  it('refuses to encode an attribute over 253 octets or a packet over 4096', () => {
    expect(() => encodePacket({ ...base, attributes: [{ type: 1, value: new Uint8Array(254) }] })).toThrow(/over RADIUS' 253/);
    const many = Array.from({ length: 17 }, () => ({ type: 79, value: new Uint8Array(253) }));
    expect(() => encodePacket({ ...base, attributes: many })).toThrow(/over RADIUS' 4096/);
    expect(() => ipv4Attr(8, '10.0.0.256')).toThrow(/not an IPv4 address/);
  });
});

describe('malformed packets: a typed error naming the place', () => {
  const good = encodePacket({ code: 2, identifier: 1, authenticator: new Uint8Array(16), attributes: [textAttr(Attr.USER_NAME, 'abc'), textAttr(Attr.REPLY_MESSAGE, 'hi')] });
  const cases: Array<[string, Uint8Array, string, RegExp]> = [
    ['shorter than the header', good.slice(0, 19), 'TRUNCATED', /19 octets is shorter than the 20-octet header/],
    ['Length below 20', (() => { const b = good.slice(); b[2] = 0; b[3] = 19; return b; })(), 'BAD_LENGTH', /Length field 19 is outside 20..4096/],
    ['Length above 4096', (() => { const b = good.slice(); b[2] = 0x10; b[3] = 1; return b; })(), 'BAD_LENGTH', /Length field 4097/],
    ['datagram shorter than Length', good.slice(0, good.length - 1), 'TRUNCATED', /says 29 octets but the datagram has 28/],
    ['attribute Length below 2', (() => { const b = good.slice(); b[21] = 1; return b; })(), 'BAD_ATTRIBUTE', /User-Name at offset 20 has Length 1/],
    ['attribute overrunning the packet', (() => { const b = good.slice(); b[26] = 9; return b; })(), 'BAD_ATTRIBUTE', /Reply-Message at offset 25 with Length 9 runs past the packet end \(29\)/],
    ['attribute header cut by Length', (() => { const b = encodePacket({ code: 2, identifier: 1, authenticator: new Uint8Array(16), attributes: [] }); const c = new Uint8Array(21); c.set(b); c[3] = 21; return c; })(), 'BAD_ATTRIBUTE', /attribute header at offset 20 runs past the packet end \(21\)/],
  ];
  for (const [what, bytes, code, msg] of cases) {
    it(what, () => {
      let err: unknown;
      try {
        decodePacket(bytes);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RadiusError);
      expect((err as RadiusError).code).toBe(code);
      expect((err as Error).message).toMatch(msg);
    });
  }

  it('a Vendor-Specific attribute shorter than its Vendor-Id, or with an overrunning sub-attribute', () => {
    const short = decodePacket(encodePacket({ code: 2, identifier: 1, authenticator: new Uint8Array(16), attributes: [{ type: 26, value: Uint8Array.of(0, 0, 1) }] }));
    expect(() => vendorAttributes(short)).toThrow(/Vendor-Specific attribute #1 has 3 octets, less than its Vendor-Id/);
    const over = decodePacket(encodePacket({ code: 2, identifier: 1, authenticator: new Uint8Array(16), attributes: [{ type: 26, value: Uint8Array.of(0, 0, 1, 55, 16, 9, 1, 2) }] }));
    expect(() => vendorAttributes(over)).toThrow(/vendor 311\): sub-attribute 16 at offset 4 has Length 9, overrunning its 8 octets/);
    const zero = decodePacket(encodePacket({ code: 2, identifier: 1, authenticator: new Uint8Array(16), attributes: [{ type: 26, value: Uint8Array.of(0, 0, 1, 55, 16, 0) }] }));
    expect(() => vendorAttributes(zero)).toThrow(RadiusError);
  });

  it('decodes any byte string without throwing anything but RadiusError', () => {
    let seed = 7;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    for (let n = 0; n < 2000; n++) {
      const len = rnd() % 64;
      const b = Uint8Array.from({ length: len }, rnd);
      if (len >= 4 && rnd() % 2 === 0) {
        b[2] = 0;
        b[3] = len;
      }
      try {
        const p = decodePacket(b);
        vendorAttributes(p);
      } catch (e) {
        expect(e).toBeInstanceOf(RadiusError);
      }
    }
  });
});

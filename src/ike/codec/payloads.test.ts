/** One known encoding per payload (RFC 7296 section 3 diagrams, written out by hand) and the errors around it. */
import { describe, expect, it } from 'vitest';
import { decodePayloads, encodePayloads } from './message.js';
import { hex, toHex } from './test-support.js';
import {
  AuthMethod,
  CertEncoding,
  CfgType,
  ConfigAttributeType,
  IdType,
  NotifyType,
  PayloadType,
  ProtocolId,
  TransformType,
  TsType,
  type IkeCodecErrorCode,
  type Payload,
} from './types.js';

const h = (s: string) => hex(s.replace(/\s+/g, ''));

/** Decodes one payload (Next Payload 0) and checks that it encodes back to the same bytes. */
function one(type: number, wire: string): Payload {
  const buf = h(wire);
  const r = decodePayloads(buf, type);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message} @${r.error.offset}`);
  expect(r.value).toHaveLength(1);
  expect(toHex(encodePayloads(r.value))).toBe(toHex(buf));
  return r.value[0]!;
}

function fails(type: number, wire: string, code: IkeCodecErrorCode): void {
  const r = decodePayloads(h(wire), type);
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(r.error.code).toBe(code);
    expect(r.error.offset).toBeGreaterThanOrEqual(0);
  }
}

const SA_WIRE =
  '00000030' + // generic header, length 48
  '0000002c 01010004' + // last proposal, length 44, #1, IKE, SPI size 0, 4 transforms
  '0300000c 0100000c 800e0100' + // ENCR_AES_CBC, Key Length 256 (TV)
  '03000008 02000005' + // PRF_HMAC_SHA2_256
  '03000008 0300000c' + // AUTH_HMAC_SHA2_256_128
  '00000008 0400000e'; // last transform: KE group 14

describe('SA payload (RFC 7296 3.3)', () => {
  it('decodes proposals, transforms and the Key Length attribute', () => {
    const p = one(PayloadType.SA, SA_WIRE);
    expect(p).toEqual({
      type: PayloadType.SA,
      critical: false,
      proposals: [
        {
          num: 1,
          protocol: ProtocolId.IKE,
          spi: new Uint8Array(0),
          transforms: [
            { type: TransformType.ENCR, id: 12, keyLength: 256 },
            { type: TransformType.PRF, id: 5 },
            { type: TransformType.INTEG, id: 12 },
            { type: TransformType.KE, id: 14 },
          ],
        },
      ],
    });
  });

  it('handles two ESP proposals with SPIs and an unknown TLV attribute', () => {
    const good =
      '00000032' +
      '02000014 01030401 01020304 00000008 01000014' +
      '0000001a 02030401 05060708 0000000e 0100000c 00070002 abcd';
    const p = one(PayloadType.SA, good);
    if (p.type !== PayloadType.SA) throw new Error('not SA');
    expect(p.proposals[1]!.transforms[0]).toEqual({ type: 1, id: 12, attributes: [{ type: 7, tv: false, value: h('abcd') }] });
    expect(p.proposals[0]!.spi).toEqual(h('01020304'));
  });

  it('rejects malformed substructures with typed errors', () => {
    fails(PayloadType.SA, '00000004', 'INVALID_SYNTAX'); // no proposals
    fails(PayloadType.SA, SA_WIRE.replace('0000002c 0101', '0100002c 0101'), 'INVALID_SYNTAX'); // Last Substruc 1
    fails(PayloadType.SA, SA_WIRE.replace('0000002c 01010004', '0000002c 01010005'), 'INVALID_SYNTAX'); // count
    fails(PayloadType.SA, SA_WIRE.replace('0000002c', '0000002d'), 'BAD_LENGTH'); // proposal past the payload
    fails(PayloadType.SA, SA_WIRE.replace('0000002c', '00000007'), 'BAD_LENGTH'); // proposal < 8
    fails(PayloadType.SA, SA_WIRE.replace('0300000c 0100000c', '0300000b 0100000c'), 'TRUNCATED'); // attr cut
    fails(PayloadType.SA, SA_WIRE.replace('800e0100', '000e0100'), 'INVALID_SYNTAX'); // Key Length as TLV
    fails(PayloadType.SA, SA_WIRE.replace('800e0100', '00070100'), 'BAD_LENGTH'); // TLV value past the end
    fails(PayloadType.SA, SA_WIRE.replace('00000008 0400000e', '03000008 0400000e'), 'INVALID_SYNTAX'); // last not marked
    fails(PayloadType.SA, SA_WIRE.replace('0000002c 01010004', '0000002c 0101ff04'), 'BAD_LENGTH'); // SPI past the end
  });
});

describe('simple payloads', () => {
  it('KE (3.4)', () => {
    expect(one(PayloadType.KE, '0000000c 0013 0000 01020304')).toEqual({ type: PayloadType.KE, critical: false, group: 19, data: h('01020304') });
    fails(PayloadType.KE, '00000007 001300', 'BAD_LENGTH');
  });
  it('IDi / IDr (3.5)', () => {
    expect(one(PayloadType.IDi, '0000000b 02000000 612e62')).toEqual({
      type: PayloadType.IDi,
      critical: false,
      idType: IdType.ID_FQDN,
      data: h('612e62'),
    });
    expect(one(PayloadType.IDr, '0000000c 01000000 c0000201').type).toBe(PayloadType.IDr);
  });
  it('CERT and CERTREQ (3.6, 3.7)', () => {
    expect(one(PayloadType.CERT, '00000008 04 aabbcc')).toEqual({
      type: PayloadType.CERT,
      critical: false,
      encoding: CertEncoding.X509_CERT_SIGNATURE,
      data: h('aabbcc'),
    });
    expect(one(PayloadType.CERTREQ, '00000005 04').type).toBe(PayloadType.CERTREQ);
    fails(PayloadType.CERT, '00000004', 'BAD_LENGTH');
  });
  it('AUTH (3.8)', () => {
    expect(one(PayloadType.AUTH, '0000000c 02000000 11223344')).toEqual({
      type: PayloadType.AUTH,
      critical: false,
      method: AuthMethod.SHARED_KEY_MESSAGE_INTEGRITY_CODE,
      data: h('11223344'),
    });
  });
  it('Nonce (3.9): 16..256 bytes', () => {
    expect(one(PayloadType.NONCE, '00000014' + '11'.repeat(16)).type).toBe(PayloadType.NONCE);
    fails(PayloadType.NONCE, '00000013' + '11'.repeat(15), 'INVALID_SYNTAX');
    const big = 257;
    fails(PayloadType.NONCE, (big + 4).toString(16).padStart(8, '0') + '11'.repeat(big), 'INVALID_SYNTAX');
  });
  it('Notify (3.10) with and without SPI', () => {
    expect(one(PayloadType.NOTIFY, '0000000c 03044009 01020304')).toEqual({
      type: PayloadType.NOTIFY,
      critical: false,
      protocol: ProtocolId.ESP,
      spi: h('01020304'),
      notifyType: NotifyType.REKEY_SA,
      data: new Uint8Array(0),
    });
    expect(one(PayloadType.NOTIFY, '0000000c 00004004 deadbeef')).toMatchObject({ notifyType: NotifyType.NAT_DETECTION_SOURCE_IP, data: h('deadbeef') });
    fails(PayloadType.NOTIFY, '0000000c 03084009 01020304', 'BAD_LENGTH');
    fails(PayloadType.NOTIFY, '00000007 030040', 'BAD_LENGTH');
  });
  it('Delete (3.11)', () => {
    expect(one(PayloadType.DELETE, '00000010 03040002 01020304 05060708')).toEqual({
      type: PayloadType.DELETE,
      critical: false,
      protocol: ProtocolId.ESP,
      spiSize: 4,
      spis: [h('01020304'), h('05060708')],
    });
    expect(one(PayloadType.DELETE, '00000008 01000000')).toMatchObject({ protocol: ProtocolId.IKE, spis: [] });
    fails(PayloadType.DELETE, '00000010 03040003 01020304 05060708', 'BAD_LENGTH');
    fails(PayloadType.DELETE, '00000008 01000001', 'INVALID_SYNTAX');
  });
  it('Vendor ID (3.12) and EAP (3.16)', () => {
    expect(one(PayloadType.VENDOR, '00000007 616263')).toEqual({ type: PayloadType.VENDOR, critical: false, data: h('616263') });
    expect(one(PayloadType.EAP, '00000009 0102000501')).toEqual({ type: PayloadType.EAP, critical: false, data: h('0102000501') });
  });
  it('TSi / TSr (3.13)', () => {
    const v4 = '00000018 01000000 07000010 0000ffff 0a000000 0affffff';
    expect(one(PayloadType.TSi, v4)).toEqual({
      type: PayloadType.TSi,
      critical: false,
      selectors: [{ tsType: TsType.TS_IPV4_ADDR_RANGE, ipProtocol: 0, startPort: 0, endPort: 65535, startAddr: h('0a000000'), endAddr: h('0affffff') }],
    });
    const v6 = '00000030 01000000 08060028 00500050' + '20010db8' + '00'.repeat(12) + '20010db8' + 'ff'.repeat(12);
    const p = one(PayloadType.TSr, v6);
    expect(p).toMatchObject({ type: PayloadType.TSr, selectors: [{ tsType: 8, ipProtocol: 6, startPort: 80, endPort: 80 }] });
    fails(PayloadType.TSi, v4.replace('07000010', '07000011'), 'BAD_LENGTH');
    fails(PayloadType.TSi, v4.replace('07000010', '09000010'), 'INVALID_SYNTAX');
    fails(PayloadType.TSi, v4.replace('01000000', '02000000'), 'TRUNCATED');
    fails(PayloadType.TSi, v4.replace('01000000', '00000000'), 'BAD_LENGTH');
  });
  it('CP (3.15)', () => {
    expect(one(PayloadType.CP, '00000010 01000000 00010000 00030000')).toEqual({
      type: PayloadType.CP,
      critical: false,
      cfgType: CfgType.CFG_REQUEST,
      attributes: [
        { type: ConfigAttributeType.INTERNAL_IP4_ADDRESS, value: new Uint8Array(0) },
        { type: ConfigAttributeType.INTERNAL_IP4_DNS, value: new Uint8Array(0) },
      ],
    });
    expect(one(PayloadType.CP, '00000010 02000000 00010004 0a000001')).toMatchObject({ cfgType: CfgType.CFG_REPLY });
    fails(PayloadType.CP, '00000010 02000000 00010005 0a000001', 'BAD_LENGTH');
    fails(PayloadType.CP, '0000000a 02000000 0001', 'TRUNCATED');
  });
  it('keeps the critical bit of a known payload', () => {
    expect(one(PayloadType.VENDOR, '00800007 616263')).toMatchObject({ critical: true });
  });
});

describe('payload chain', () => {
  it('skips an unknown non-critical payload and rejects an unknown critical one (RFC 7296 2.5)', () => {
    // V -> unknown type 200 -> N
    const wire = h('c8000005 aa' + '29000006 bbcc' + '0000000c 00004004 deadbeef');
    const ok = decodePayloads(wire, PayloadType.VENDOR);
    expect(ok.ok).toBe(true);
    if (ok.ok) {
      expect(ok.value.map((p) => p.type)).toEqual([PayloadType.VENDOR, 'unknown', PayloadType.NOTIFY]);
      expect(ok.value[1]).toEqual({ type: 'unknown', payloadType: 200, critical: false, body: h('bbcc') });
      expect(toHex(encodePayloads(ok.value))).toBe(toHex(wire));
    }
    const critical = h('c8000005 aa' + '29800006 bbcc' + '0000000c 00004004 deadbeef');
    const r = decodePayloads(critical, PayloadType.VENDOR);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ code: 'UNSUPPORTED_CRITICAL_PAYLOAD', payloadType: 200, offset: 5 });
  });
  it('rejects payload lengths below 4, past the end, and stray bytes after the chain', () => {
    fails(PayloadType.VENDOR, '00000003', 'BAD_LENGTH');
    fails(PayloadType.VENDOR, '00000009 6162', 'BAD_LENGTH');
    fails(PayloadType.VENDOR, '00000006 616263', 'BAD_LENGTH');
    fails(PayloadType.VENDOR, '2b000006 6162', 'TRUNCATED');
    fails(PayloadType.VENDOR, '2e000004 00000004', 'INVALID_SYNTAX'); // SK inside SK
  });
  it('limits the number of payloads', () => {
    const wire = '2b000004'.repeat(200) + '00000004';
    fails(PayloadType.VENDOR, wire, 'TOO_MANY_PAYLOADS');
  });
});

describe('encoder guards', () => {
  it('throws IkeEncodeError for values that cannot be expressed', () => {
    const e = new Uint8Array(0);
    expect(() => encodePayloads([{ type: 'unknown', payloadType: PayloadType.SA, critical: false, body: e }])).toThrow(/UnknownPayload/);
    expect(() => encodePayloads([{ type: PayloadType.KE, critical: false, group: 70000, data: e }])).toThrow(/out of range/);
    expect(() => encodePayloads([{ type: PayloadType.VENDOR, critical: false, data: new Uint8Array(70000) }])).toThrow(/16-bit/);
    expect(() =>
      encodePayloads([{ type: PayloadType.DELETE, critical: false, protocol: 3, spiSize: 4, spis: [new Uint8Array(3)] }]),
    ).toThrow(/SPI size/);
    expect(() =>
      encodePayloads([
        { type: PayloadType.TSi, critical: false, selectors: [{ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 1, startAddr: new Uint8Array(16), endAddr: new Uint8Array(16) }] },
      ]),
    ).toThrow(/4-byte/);
  });
});

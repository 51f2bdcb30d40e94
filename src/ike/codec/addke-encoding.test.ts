/**
 * The wire encodings RFC 9370 (multiple key exchanges) and RFC 9242 (IKE_INTERMEDIATE) add to IKEv2, written out
 * by hand from the RFCs' text and RFC 7296's payload diagrams, decoded and encoded back byte for byte:
 * - ADDKE1-7 are Transform Types 6-12 in an ordinary SA payload, their Transform IDs from the Key Exchange Method
 *   registry, NONE (0) making one optional (RFC 9370 2.2.1, 3); ML-KEM-512/768/1024 are methods 35/36/37 (IANA);
 * - INTERMEDIATE_EXCHANGE_SUPPORTED (16438): Protocol ID 0, SPI Size 0, no data (RFC 9242 3.1);
 * - IKE_INTERMEDIATE is exchange 43, its first Message ID 1 (RFC 9242 3.2, 3.3.1);
 * - the KE payload of an additional exchange names the method of its ADDKE transform (RFC 9370 2.2.2);
 * - IKE_FOLLOWUP_KE is exchange 44 and ADDITIONAL_KEY_EXCHANGE (16441) carries the responder's opaque link data
 *   (RFC 9370 2.2.4).
 * No published capture of these exchanges was found (Wireshark's sample captures have none); strongSwan 5.9.8 has
 * no RFC 9370, so interop captures cannot provide one either.
 */
import { describe, expect, it } from 'vitest';
import { decodeHeader, decodeMessage, decodePayloads, encodeMessage, encodePayloads } from './message.js';
import { exchangeTypeName, notifyTypeName } from './names.js';
import { hex, toHex } from './test-support.js';
import { ExchangeType, NotifyType, PayloadType, ProtocolId, TransformType, type Payload } from './types.js';

const h = (s: string) => hex(s.replace(/\s+/g, ''));

function roundTrip(type: number, wire: string): Payload[] {
  const buf = h(wire);
  const r = decodePayloads(buf, type);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message} @${r.error.offset}`);
  expect(toHex(encodePayloads(r.value))).toBe(toHex(buf));
  return r.value;
}

describe('RFC 9370 2.2.1: ADDKE transforms in the SA payload', () => {
  // aes256gcm16-prfsha256-x25519-ke1_mlkem768-ke1_none-ke2_mlkem1024, one IKE proposal (SPI Size 0).
  const SA =
    '00000040' + // generic payload header, length 64
    '0000003c 01010006' + // last proposal, length 60, #1, Protocol IKE, SPI Size 0, 6 transforms
    '0300000c 01000014 800e0100' + // ENCR (1) ENCR_AES_GCM_16 (20), Key Length 256 (TV attribute 14)
    '03000008 02000005' + // PRF (2) PRF_HMAC_SHA2_256 (5)
    '03000008 0400001f' + // KE (4) Curve25519 (31)
    '03000008 06000024' + // ADDKE1 (6) ML-KEM-768 (36)
    '03000008 06000000' + // ADDKE1 (6) NONE (0): the first additional exchange is optional
    '00000008 07000025'; // last transform: ADDKE2 (7) ML-KEM-1024 (37)

  it('decodes types 6 and 7 with their method IDs and encodes them back', () => {
    const [p] = roundTrip(PayloadType.SA, SA);
    if (p?.type !== PayloadType.SA) throw new Error('not an SA payload');
    expect(p.proposals).toHaveLength(1);
    expect(p.proposals[0]?.protocol).toBe(ProtocolId.IKE);
    expect(p.proposals[0]?.transforms).toEqual([
      { type: TransformType.ENCR, id: 20, keyLength: 256 },
      { type: TransformType.PRF, id: 5 },
      { type: TransformType.KE, id: 31 },
      { type: 6, id: 36 },
      { type: 6, id: 0 },
      { type: 7, id: 37 },
    ]);
  });

  it('in an ESP proposal too (additional key exchanges for PFS, RFC 9370 2.2.1 and 2.2.4)', () => {
    const esp =
      '0000002c' + // length 44
      '00000028 01030403 01020304' + // last proposal, length 40, #1, ESP, SPI Size 4, 3 transforms, SPI
      '0300000c 01000014 800e0080' + // ENCR_AES_GCM_16, Key Length 128
      '03000008 0400001f' + // KE Curve25519
      '00000008 06000024'; // ADDKE1 ML-KEM-768
    const [p] = roundTrip(PayloadType.SA, esp);
    if (p?.type !== PayloadType.SA) throw new Error('not an SA payload');
    expect(p.proposals[0]?.spi).toEqual(h('01020304'));
    expect(p.proposals[0]?.transforms.map((t) => [t.type, t.id])).toEqual([[1, 20], [4, 31], [6, 36]]);
    expect(p.proposals[0]?.transforms[0]?.keyLength).toBe(128);
  });
});

describe('RFC 9242: IKE_INTERMEDIATE', () => {
  it('INTERMEDIATE_EXCHANGE_SUPPORTED is notify 16438 with Protocol ID 0, SPI Size 0 and no data (3.1)', () => {
    const [n] = roundTrip(PayloadType.NOTIFY, '00000008 00004036');
    expect(n).toEqual({ type: PayloadType.NOTIFY, critical: false, protocol: 0, spi: new Uint8Array(0), notifyType: NotifyType.INTERMEDIATE_EXCHANGE_SUPPORTED, data: new Uint8Array(0) });
    expect(notifyTypeName(16438)).toBe('INTERMEDIATE_EXCHANGE_SUPPORTED');
  });

  it('the header of the first IKE_INTERMEDIATE request: exchange 43, Initiator flag, Message ID 1 (3.2, 3.3.1)', () => {
    const ke: Payload = { type: PayloadType.KE, critical: false, group: 36, data: new Uint8Array(1184).fill(0xa5) };
    const m = encodeMessage(
      { spiI: h('0102030405060708'), spiR: h('1112131415161718'), exchangeType: ExchangeType.IKE_INTERMEDIATE, flags: { initiator: true, response: false, version: false }, messageId: 1 },
      [ke],
    );
    // SPIs, Next Payload KE (34 = 0x22), Version 2.0, Exchange Type 43 (0x2b), Flags I (0x08), Message ID 1, Length.
    expect(toHex(m.subarray(0, 28))).toBe(`0102030405060708 1112131415161718 22 20 2b 08 00000001 ${(28 + 8 + 1184).toString(16).padStart(8, '0')}`.replace(/ /g, ''));
    const hd = decodeHeader(m);
    if (!hd.ok) throw new Error(hd.error.message);
    expect(hd.value.exchangeType).toBe(43);
    expect(exchangeTypeName(43)).toBe('IKE_INTERMEDIATE');
  });

  it('the KE payload of an additional exchange: Key Exchange Method 36 (ML-KEM-768) and the 1184-byte ek (RFC 9370 2.2.2)', () => {
    const ek = '5a'.repeat(1184);
    // Payload length 8 + 1184 = 1192 (0x04a8); Key Exchange Method 36 (0x0024); RESERVED 0.
    const [ke] = roundTrip(PayloadType.KE, `000004a8 0024 0000 ${ek}`);
    expect(ke).toMatchObject({ type: PayloadType.KE, group: 36 });
    if (ke?.type !== PayloadType.KE) throw new Error('not KE');
    expect(ke.data.length).toBe(1184);
  });
});

describe('RFC 9370 2.2.4: IKE_FOLLOWUP_KE and ADDITIONAL_KEY_EXCHANGE', () => {
  const LINK = '0001020304050607';
  it('ADDITIONAL_KEY_EXCHANGE is notify 16441, Protocol ID 0, SPI Size 0, the link as its data', () => {
    const [n] = roundTrip(PayloadType.NOTIFY, `00000010 00004039 ${LINK}`);
    expect(n).toEqual({ type: PayloadType.NOTIFY, critical: false, protocol: 0, spi: new Uint8Array(0), notifyType: NotifyType.ADDITIONAL_KEY_EXCHANGE, data: h(LINK) });
    expect(notifyTypeName(16441)).toBe('ADDITIONAL_KEY_EXCHANGE');
  });

  it('an IKE_FOLLOWUP_KE request (exchange 44): N(ADDITIONAL_KEY_EXCHANGE) with the link, then KE, decodes back in order', () => {
    const payloads: Payload[] = [
      { type: PayloadType.NOTIFY, critical: false, protocol: 0, spi: new Uint8Array(0), notifyType: NotifyType.ADDITIONAL_KEY_EXCHANGE, data: h(LINK) },
      { type: PayloadType.KE, critical: false, group: 37, data: new Uint8Array(1568).fill(1) },
    ];
    const m = encodeMessage({ spiI: h('0102030405060708'), spiR: h('1112131415161718'), exchangeType: ExchangeType.IKE_FOLLOWUP_KE, flags: { initiator: true, response: false, version: false }, messageId: 5 }, payloads);
    expect(m[17]).toBe(0x20);
    expect(m[18]).toBe(44);
    const d = decodeMessage(m);
    if (!d.ok) throw new Error(d.error.message);
    expect(d.value.header.exchangeType).toBe(ExchangeType.IKE_FOLLOWUP_KE);
    expect(d.value.payloads.map((p) => p.type)).toEqual([PayloadType.NOTIFY, PayloadType.KE]);
    expect(exchangeTypeName(44)).toBe('IKE_FOLLOWUP_KE');
  });
});

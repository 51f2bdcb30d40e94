/**
 * The two list-shaped payload layouts of RFC 7296: traffic selectors (TSi/TSr, section 3.13) and the
 * configuration payload (CP, section 3.15). Registered in payloads.ts's layout table.
 */
import { put16, u8, u16 } from './bytes.js';
import { payloadTypeName } from './names.js';
import { check, copy, joinParts, LIMITS, short, u8ok, u16ok, type Layout } from './payload-layout.js';
import { codecError, IkeEncodeError, ok, PayloadType, TsType, type ConfigAttribute, type TrafficSelector } from './types.js';

// ---------------------------------------------------------------------------------------------------------------
// TSi / TSr (RFC 7296 3.13)
// ---------------------------------------------------------------------------------------------------------------
// | Number of TSs |                 RESERVED                      |
// |   TS Type     |IP Protocol ID*|       Selector Length         |
// |           Start Port*         |           End Port*           |
// ~                         Starting Address*                     ~
// ~                         Ending Address*                       ~

function tsAddrBytes(tsType: number): number | undefined {
  if (tsType === TsType.TS_IPV4_ADDR_RANGE) return 4;
  if (tsType === TsType.TS_IPV6_ADDR_RANGE) return 16;
  return undefined;
}

export const tsLayout: Layout = {
  fixed: 4,
  decode(buf, start, end, critical, type) {
    if (end - start < 4) return short(payloadTypeName(type), start, end, 4, type);
    const count = u8(buf, start);
    if (count > LIMITS.trafficSelectors) return codecError('TOO_MANY_PAYLOADS', `${count} traffic selectors`, start, type);
    const selectors: TrafficSelector[] = [];
    let o = start + 4;
    for (let i = 0; i < count; i++) {
      if (end - o < 8) return codecError('TRUNCATED', `traffic selector ${i} truncated`, o, type);
      const tsType = u8(buf, o);
      const len = u16(buf, o + 2);
      const ab = tsAddrBytes(tsType);
      if (ab === undefined) return codecError('INVALID_SYNTAX', `unsupported TS Type ${tsType}`, o, type);
      if (len !== 8 + 2 * ab) return codecError('BAD_LENGTH', `selector length ${len} for TS Type ${tsType}, expected ${8 + 2 * ab}`, o + 2, type);
      if (o + len > end) return codecError('BAD_LENGTH', `traffic selector ${i} runs past the payload`, o + 2, type);
      selectors.push({
        tsType,
        ipProtocol: u8(buf, o + 1),
        startPort: u16(buf, o + 4),
        endPort: u16(buf, o + 6),
        startAddr: copy(buf, o + 8, o + 8 + ab),
        endAddr: copy(buf, o + 8 + ab, o + 8 + 2 * ab),
      });
      o += len;
    }
    if (o !== end) return codecError('BAD_LENGTH', `${end - o} bytes after the last traffic selector`, o, type);
    return ok({ type: type as typeof PayloadType.TSi, critical, selectors });
  },
  encode(p) {
    if (p.type !== PayloadType.TSi && p.type !== PayloadType.TSr) throw new IkeEncodeError('not a TS payload');
    check(p.selectors.length <= 255, 'traffic selector count', 255);
    const head = new Uint8Array(4);
    head[0] = p.selectors.length;
    const parts: Uint8Array[] = [head];
    for (const s of p.selectors) {
      const ab = tsAddrBytes(s.tsType);
      if (ab === undefined) throw new IkeEncodeError(`unsupported TS Type ${s.tsType}`);
      if (s.startAddr.length !== ab || s.endAddr.length !== ab) throw new IkeEncodeError(`TS Type ${s.tsType} needs ${ab}-byte addresses`);
      check(u8ok(s.ipProtocol) && u16ok(s.startPort) && u16ok(s.endPort), 'TS protocol/ports', 0xffff);
      const b = new Uint8Array(8 + 2 * ab);
      b[0] = s.tsType;
      b[1] = s.ipProtocol;
      put16(b, 2, b.length);
      put16(b, 4, s.startPort);
      put16(b, 6, s.endPort);
      b.set(s.startAddr, 8);
      b.set(s.endAddr, 8 + ab);
      parts.push(b);
    }
    return joinParts(parts);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// CP (RFC 7296 3.15): | CFG Type | RESERVED (3) | attributes: |R| Attribute Type (15) | Length (2) | Value |
// ---------------------------------------------------------------------------------------------------------------

export const cpLayout: Layout = {
  fixed: 4,
  decode(buf, start, end, critical, type) {
    if (end - start < 4) return short('CP', start, end, 4, type);
    const attributes: ConfigAttribute[] = [];
    let o = start + 4;
    while (o < end) {
      if (attributes.length >= LIMITS.configAttributes) return codecError('TOO_MANY_PAYLOADS', 'too many configuration attributes', o, type);
      if (end - o < 4) return codecError('TRUNCATED', 'configuration attribute header truncated', o, type);
      const len = u16(buf, o + 2);
      if (o + 4 + len > end) return codecError('BAD_LENGTH', `configuration attribute length ${len} runs past the payload`, o + 2, type);
      attributes.push({ type: u16(buf, o) & 0x7fff, value: copy(buf, o + 4, o + 4 + len) });
      o += 4 + len;
    }
    return ok({ type: PayloadType.CP, critical, cfgType: u8(buf, start), attributes });
  },
  encode(p) {
    if (p.type !== PayloadType.CP) throw new IkeEncodeError('not a CP payload');
    check(u8ok(p.cfgType), 'CFG type', 255);
    const head = new Uint8Array(4);
    head[0] = p.cfgType;
    const parts: Uint8Array[] = [head];
    for (const a of p.attributes) {
      check(a.type >= 0 && a.type <= 0x7fff && a.value.length <= 0xffff, 'configuration attribute type/length', 0x7fff);
      const b = new Uint8Array(4 + a.value.length);
      put16(b, 0, a.type);
      put16(b, 2, a.value.length);
      b.set(a.value, 4);
      parts.push(b);
    }
    return joinParts(parts);
  },
};


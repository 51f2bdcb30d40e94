/**
 * One-line descriptions of IKEv2 payloads in RFC 7296 notation with registry names: proposals with transform
 * names as strongSwan logs them (`ESP:AES_GCM_16_128/NO_EXT_SEQ`), notify names, identities, traffic selectors,
 * Delete SPIs, configuration attributes.
 */
import * as crypto from '../crypto/index.js';
import { additionalKeName, isAdditionalKeType } from '../crypto/addke.js';
import { espTransformName } from '../esp/index.js';
import * as codec from '../ike/codec/index.js';
// Public API (src/index.ts re-exports both), from their modules so that the IKE endpoint is not loaded.
import { formatIdentity } from '../ike/identity.js';
import { formatIp } from '../net/ip-address.js';

type Payload = codec.Payload;

export interface PayloadSummary {
  /** RFC 7296 notation: SA, KE, IDi, N(NAT_DETECTION_SOURCE_IP), D, TSi... */
  readonly type: string;
  /** The payload's content in one line. */
  readonly text: string;
}

const invert = (o: Record<string, number>): Map<number, string> => new Map(Object.entries(o).map(([k, v]) => [v, k]));
const PROTOCOL = new Map([[1, 'IKE'], [2, 'AH'], [3, 'ESP']]);
const ID_TYPE = invert(codec.IdType);
const AUTH_METHOD = invert(codec.AuthMethod);
const CERT_ENCODING = invert(codec.CertEncoding);
const CFG_TYPE = invert(codec.CfgType);
const CFG_ATTR = invert(codec.ConfigAttributeType);
const IP_PROTO = new Map([[1, 'icmp'], [6, 'tcp'], [17, 'udp'], [58, 'ipv6-icmp'], [132, 'sctp']]);

const hex = (b: Uint8Array, max = 8): string => {
  const h = Buffer.from(b.subarray(0, max)).toString('hex');
  return b.length > max ? `${h}...` : h;
};

function transform(t: codec.Transform): string {
  if (t.type === 1 || t.type === 3) return espTransformName(t.type, t.id, t.type === 1 ? t.keyLength : undefined).replace(/-(\d+)$/, '_$1');
  if (t.type === 2 || t.type === 4 || t.type === 5) return crypto.transformName(t.type, t.id);
  // RFC 9370 2.2.1: ADDKE1-7 (Transform Types 6-12), named as strongSwan 6 prints them (KE1_ML_KEM_768).
  if (isAdditionalKeType(t.type)) return additionalKeName(t.type, t.id);
  return `TRANSFORM_TYPE_${t.type}(${t.id})`;
}

/** `1: ESP(c1a2b3c4):AES_GCM_16_128/NO_EXT_SEQ` */
export function describeProposal(p: codec.Proposal): string {
  const proto = PROTOCOL.get(p.protocol) ?? `protocol ${p.protocol}`;
  const spi = p.spi.length > 0 ? `(${hex(p.spi)})` : '';
  return `${p.num}: ${proto}${spi}:${p.transforms.map(transform).join('/')}`;
}

function ts(s: codec.TrafficSelector): string {
  const start = formatIp(s.startAddr);
  const end = formatIp(s.endAddr);
  let net = start === end ? start : `${start}..${end}`;
  const bits = prefixLength(s.startAddr, s.endAddr);
  if (bits !== undefined) net = `${start}/${bits}`;
  const proto = s.ipProtocol === 0 ? '' : (IP_PROTO.get(s.ipProtocol) ?? String(s.ipProtocol));
  const ports = s.startPort === 0 && s.endPort === 65535 ? '' : s.startPort === s.endPort ? String(s.startPort) : `${s.startPort}-${s.endPort}`;
  return proto || ports ? `${net}[${proto}${ports ? `/${ports}` : ''}]` : net;
}

/** The prefix length when [start, end] is exactly one CIDR block. */
function prefixLength(start: Uint8Array, end: Uint8Array): number | undefined {
  let bits = 0;
  let i = 0;
  for (; i < start.length && start[i] === end[i]; i++) bits += 8;
  if (i < start.length) {
    const x = start[i]! ^ end[i]!;
    const host = 8 - Math.clz32(x) + 24;
    const mask = (1 << host) - 1;
    if ((start[i]! & mask) !== 0 || (end[i]! & mask) !== mask) return undefined;
    bits += 8 - host;
    for (i++; i < start.length; i++) if (start[i] !== 0 || end[i] !== 0xff) return undefined;
  }
  return bits;
}

function notifyText(n: codec.NotifyPayload): string {
  const parts: string[] = [];
  if (n.spi.length > 0) parts.push(`${PROTOCOL.get(n.protocol) ?? n.protocol} SPI ${hex(n.spi)}`);
  switch (n.notifyType) {
    case codec.NotifyType.INVALID_KE_PAYLOAD:
      if (n.data.length >= 2) parts.push(`wants ${crypto.transformName(4, (n.data[0]! << 8) | n.data[1]!)}`);
      break;
    case codec.NotifyType.SIGNATURE_HASH_ALGORITHMS: {
      const names = ['', 'SHA1', 'SHA2_256', 'SHA2_384', 'SHA2_512', 'IDENTITY'];
      const ids: string[] = [];
      for (let i = 0; i + 1 < n.data.length; i += 2) {
        const id = (n.data[i]! << 8) | n.data[i + 1]!;
        ids.push(names[id] ?? String(id));
      }
      parts.push(ids.join(' '));
      break;
    }
    case codec.NotifyType.NAT_DETECTION_SOURCE_IP:
    case codec.NotifyType.NAT_DETECTION_DESTINATION_IP:
    case codec.NotifyType.COOKIE:
      parts.push(hex(n.data));
      break;
    case codec.NotifyType.PPK_IDENTITY: {
      // RFC 8784 3/5.2: the initiator's carries a PPK ID type and the ID (never the PPK); the responder's is empty.
      const type = n.data[0];
      if (type !== undefined) parts.push(`${type === 1 ? 'PPK_ID_OPAQUE' : type === 2 ? 'PPK_ID_FIXED' : `PPK ID type ${type}`} '${new TextDecoder('utf-8', { fatal: false }).decode(n.data.subarray(1))}'`);
      break;
    }
    default:
      if (n.data.length > 0) parts.push(`${n.data.length} bytes`);
  }
  return parts.join(', ');
}

export function describePayload(p: Payload): PayloadSummary {
  switch (p.type) {
    case codec.PayloadType.SA:
      return { type: 'SA', text: p.proposals.map(describeProposal).join(', ') };
    case codec.PayloadType.KE:
      return { type: 'KE', text: `${crypto.transformName(4, p.group)}, ${p.data.length} bytes` };
    case codec.PayloadType.IDi:
    case codec.PayloadType.IDr: {
      const type = ID_TYPE.get(p.idType)?.replace(/^ID_/, '') ?? `ID type ${p.idType}`;
      return { type: p.type === codec.PayloadType.IDi ? 'IDi' : 'IDr', text: `${type} ${formatIdentity({ type: p.idType, data: p.data })}` };
    }
    case codec.PayloadType.CERT:
      return { type: 'CERT', text: `${CERT_ENCODING.get(p.encoding) ?? p.encoding}, ${p.data.length} bytes` };
    case codec.PayloadType.CERTREQ:
      return { type: 'CERTREQ', text: `${CERT_ENCODING.get(p.encoding) ?? p.encoding}, ${Math.floor(p.data.length / 20)} CA key hash(es)` };
    case codec.PayloadType.AUTH:
      return { type: 'AUTH', text: `${AUTH_METHOD.get(p.method) ?? `method ${p.method}`}, ${p.data.length} bytes` };
    case codec.PayloadType.NONCE:
      return { type: 'Nonce', text: `${p.data.length} bytes` };
    case codec.PayloadType.NOTIFY:
      return { type: `N(${codec.notifyTypeName(p.notifyType)})`, text: notifyText(p) };
    case codec.PayloadType.DELETE:
      return {
        type: 'D',
        text: p.spis.length === 0 ? (PROTOCOL.get(p.protocol) ?? String(p.protocol)) : `${PROTOCOL.get(p.protocol) ?? p.protocol} ${p.spis.map((s) => hex(s)).join(' ')}`,
      };
    case codec.PayloadType.VENDOR:
      return { type: 'V', text: hex(p.data, 16) };
    case codec.PayloadType.TSi:
    case codec.PayloadType.TSr:
      return { type: p.type === codec.PayloadType.TSi ? 'TSi' : 'TSr', text: p.selectors.map(ts).join(' ') };
    case codec.PayloadType.CP:
      return {
        type: 'CP',
        text: `${CFG_TYPE.get(p.cfgType) ?? p.cfgType}: ${p.attributes.map((a) => cfgAttribute(a)).join(' ')}`,
      };
    case codec.PayloadType.EAP:
      return { type: 'EAP', text: `${p.data.length} bytes` };
    case 'unknown':
      return { type: codec.payloadTypeName(p.payloadType), text: `${p.body.length} bytes` };
  }
}

function cfgAttribute(a: codec.ConfigAttribute): string {
  const name = CFG_ATTR.get(a.type) ?? `attribute ${a.type}`;
  if (a.value.length === 0) return name;
  if ((a.value.length === 4 || a.value.length === 16) && /ADDRESS|DNS|NBNS|DHCP|NETMASK/.test(name)) return `${name}=${formatIp(a.value)}`;
  if (a.value.length === 17 && /IP6_ADDRESS/.test(name)) return `${name}=${formatIp(a.value.subarray(0, 16))}/${a.value[16]}`;
  return `${name}(${a.value.length} bytes)`;
}

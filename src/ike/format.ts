/** Log formatting in strongSwan's style: addresses, exchange names, payload summaries. */
import { PayloadType, type Payload } from './codec/types.js';
import type { Address } from './config.js';

export function fmt(a: Address): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}[${a.port}]`;
}

const EXCHANGE_NAMES: Record<number, string> = { 34: 'IKE_SA_INIT', 35: 'IKE_AUTH', 36: 'CREATE_CHILD_SA', 37: 'INFORMATIONAL', 43: 'IKE_INTERMEDIATE', 44: 'IKE_FOLLOWUP_KE' };
export function exchangeName(t: number): string {
  return EXCHANGE_NAMES[t] ?? `EXCHANGE(${t})`;
}

const SHORT: Record<number, string> = {
  [PayloadType.SA]: 'SA', [PayloadType.KE]: 'KE', [PayloadType.IDi]: 'IDi', [PayloadType.IDr]: 'IDr', [PayloadType.CERT]: 'CERT',
  [PayloadType.CERTREQ]: 'CERTREQ', [PayloadType.AUTH]: 'AUTH', [PayloadType.NONCE]: 'No', [PayloadType.DELETE]: 'D',
  [PayloadType.VENDOR]: 'V', [PayloadType.TSi]: 'TSi', [PayloadType.TSr]: 'TSr', [PayloadType.CP]: 'CPRQ', [PayloadType.EAP]: 'EAP',
};
const NOTIFY_SHORT: Record<number, string> = {
  16388: 'NATD_S_IP', 16389: 'NATD_D_IP', 16390: 'COOKIE', 16430: 'FRAG_SUP', 16431: 'HASH_ALG', 16384: 'INIT_CONTACT',
  16393: 'REKEY_SA', 16404: 'MULT_AUTH', 16405: 'AUTH_FOLLOWS', 16396: 'MOBIKE_SUP', 16397: 'ADD_4_ADDR', 16398: 'ADD_6_ADDR', 16399: 'NO_ADD_ADDR', 16400: 'UPD_SA_ADDR', 16401: 'COOKIE2', 16438: 'IKE_INT_SUP', 16441: 'ADD_KE', 47: 'STATE_NOT_FOUND', 16435: 'USE_PPK', 16436: 'PPK_ID', 16437: 'NO_PPK', 14: 'NO_PROP', 17: 'INVAL_KE', 24: 'AUTH_FAILED', 38: 'TS_UNACCEPT', 7: 'INVAL_SYN', 35: 'NO_ADD_SAS',
};

/** strongSwan-style payload summary for log lines: `SA KE No N(NATD_S_IP) N(NATD_D_IP)`. */
export function describePayloads(payloads: readonly Payload[]): string {
  return payloads
    .map((p) => (p.type === PayloadType.NOTIFY ? `N(${NOTIFY_SHORT[p.notifyType] ?? p.notifyType})` : p.type === 'unknown' ? `UNKNOWN(${p.payloadType})` : SHORT[p.type] ?? String(p.type)))
    .join(' ');
}

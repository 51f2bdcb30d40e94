/** Human-readable names for registry numbers, for error messages and logs (RFC 7296 notation: SA, KE, IDi, N...). */
import { ExchangeType, NotifyType, PayloadType } from './types.js';

function invert(o: Record<string, number>): Map<number, string> {
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(o)) m.set(v, k);
  return m;
}

const payloadNames = invert(PayloadType);
payloadNames.set(PayloadType.NONCE, 'Nonce');
payloadNames.set(PayloadType.NOTIFY, 'N');
payloadNames.set(PayloadType.DELETE, 'D');
payloadNames.set(PayloadType.VENDOR, 'V');
const notifyNames = invert(NotifyType);
const exchangeNames = invert(ExchangeType);

/** RFC 7296 notation for a payload type number ("SA", "IDi", "N"...), or "payload(<n>)". */
export function payloadTypeName(type: number): string {
  return payloadNames.get(type) ?? `payload(${type})`;
}

export function notifyTypeName(type: number): string {
  return notifyNames.get(type) ?? `notify(${type})`;
}

export function exchangeTypeName(type: number): string {
  return exchangeNames.get(type) ?? `exchange(${type})`;
}

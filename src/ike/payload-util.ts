/** Small helpers to pick payloads out of a message and to build common ones. */
import { NotifyType, PayloadType, type NotifyPayload, type Payload, type Proposal, type SaPayload } from './codec/types.js';

export function findPayload<T extends Payload['type']>(payloads: readonly Payload[], type: T): Extract<Payload, { type: T }> | undefined {
  return payloads.find((p) => p.type === type) as Extract<Payload, { type: T }> | undefined;
}

export function findAll<T extends Payload['type']>(payloads: readonly Payload[], type: T): Extract<Payload, { type: T }>[] {
  return payloads.filter((p) => p.type === type) as Extract<Payload, { type: T }>[];
}

export function notifies(payloads: readonly Payload[], notifyType: number): NotifyPayload[] {
  return payloads.filter((p): p is NotifyPayload => p.type === PayloadType.NOTIFY && p.notifyType === notifyType);
}

export function hasNotify(payloads: readonly Payload[], notifyType: number): boolean {
  return notifies(payloads, notifyType).length > 0;
}

/** The first error notify (type < 16384, RFC 7296 3.10.1) in a message, if any. */
export function errorNotify(payloads: readonly Payload[]): NotifyPayload | undefined {
  return payloads.find((p): p is NotifyPayload => p.type === PayloadType.NOTIFY && p.notifyType < 16384);
}

export function notify(notifyType: number, data: Uint8Array = new Uint8Array(0), protocol = 0, spi: Uint8Array = new Uint8Array(0)): NotifyPayload {
  return { type: PayloadType.NOTIFY, critical: false, protocol, spi, notifyType, data };
}

/** The one proposal of an SA payload in a response (RFC 7296 3.3: exactly one is accepted), else undefined. */
export function onlyProposal(saP: SaPayload | undefined): Proposal | undefined {
  return saP?.proposals.length === 1 ? saP.proposals[0] : undefined;
}

/** The 16-bit number in the first two octets of notify data (INVALID_KE_PAYLOAD's group, RFC 7296 3.10.1). */
export function readU16be(data: Uint8Array): number | undefined {
  return data.length >= 2 ? new DataView(data.buffer, data.byteOffset, data.byteLength).getUint16(0) : undefined;
}

export function u16be(v: number): Uint8Array {
  return Uint8Array.of(v >> 8, v & 0xff);
}

const NOTIFY_NAMES = new Map<number, string>(Object.entries(NotifyType).map(([k, v]) => [v, k]));
export function notifyName(t: number): string {
  return NOTIFY_NAMES.get(t) ?? `NOTIFY(${t})`;
}

/**
 * charon's counters plugin (counters_listener.c) for vici's get-counters / reset-counters: per connection and
 * globally, rekeys, invalid messages, and IKE messages by exchange, direction and request/response, under the
 * names vici_query.c's vici_counter_type_names gives them (`swanctl --counters` prints them as they come).
 *
 * Messages are counted from the IKE header (RFC 7296 3.1: exchange type at byte 18, the Response flag 0x20 in
 * byte 19) as the driver sends and receives them; the connection is found by the IKE SA's SPIs.
 */

/** In charon's order (counters_query.h counter_type_t). */
export const COUNTER_NAMES = [
  'ike-rekey-init',
  'ike-rekey-resp',
  'child-rekey',
  'invalid',
  'invalid-spi',
  'ike-init-in-req',
  'ike-init-in-resp',
  'ike-init-out-req',
  'ike-init-out-resp',
  'ike-auth-in-req',
  'ike-auth-in-resp',
  'ike-auth-out-req',
  'ike-auth-out-resp',
  'create-child-in-req',
  'create-child-in-resp',
  'create-child-out-req',
  'create-child-out-resp',
  'info-in-req',
  'info-in-resp',
  'info-out-req',
  'info-out-resp',
] as const;

export type CounterName = (typeof COUNTER_NAMES)[number];

/** RFC 7296 3.1 exchange types and the counter prefix charon uses for each. */
const EXCHANGES: Readonly<Record<number, string>> = { 34: 'ike-init', 35: 'ike-auth', 36: 'create-child', 37: 'info' };

/** The counter for an IKE message (without non-ESP marker), or undefined when it is not one charon counts. */
export function messageCounter(msg: Uint8Array, dir: 'in' | 'out'): CounterName | undefined {
  if (msg.length < 28) return undefined;
  const prefix = EXCHANGES[msg[18]!];
  if (prefix === undefined) return undefined;
  const response = (msg[19]! & 0x20) !== 0;
  return `${prefix}-${dir}-${response ? 'resp' : 'req'}` as CounterName;
}

function zero(): Record<CounterName, number> {
  const o = {} as Record<CounterName, number>;
  for (const n of COUNTER_NAMES) o[n] = 0;
  return o;
}

export class IkeCounters {
  private readonly global = zero();
  private readonly perConn = new Map<string, Record<CounterName, number>>();

  /** Count one event, globally and for connection `conn` when known. */
  count(name: CounterName, conn?: string): void {
    this.global[name]++;
    if (conn === undefined) return;
    let c = this.perConn.get(conn);
    if (!c) this.perConn.set(conn, (c = zero()));
    c[name]++;
  }

  /** Counters of `conn`, or the global ones; undefined for a connection never counted (charon: "no counters found"). */
  get(conn?: string): Readonly<Record<CounterName, number>> | undefined {
    return conn === undefined ? { ...this.global } : this.perConn.has(conn) ? { ...this.perConn.get(conn)! } : undefined;
  }

  /** Connection names with counters. */
  names(): string[] {
    return [...this.perConn.keys()];
  }

  reset(conn?: string): void {
    if (conn === undefined) Object.assign(this.global, zero());
    else this.perConn.delete(conn);
  }

  resetAll(): void {
    this.reset();
    this.perConn.clear();
  }
}

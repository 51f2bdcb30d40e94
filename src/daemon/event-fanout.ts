/**
 * Where the daemon driver sends the gateway core's events after each call (driver.ts drain): IkeEvents to the
 * listeners (vici, metrics, RADIUS accounting, `cygnet daemon`), the updown scripts and the key log; IKE
 * messages to the message listeners (vici get-counters). A throwing listener is counted and logged, never fatal.
 */
import type { IkeEvent } from '../ike/events.js';
import type { GatewayEvent } from '../gateway/gateway.js';
import { keyLogLines } from './key-log.js';
import type { UpdownRunner } from './updown.js';

export type IkeMessageListener = (dir: 'in' | 'out' | 'invalid', data: Uint8Array) => void;

export class EventFanout {
  private readonly listeners: ((e: IkeEvent) => void)[] = [];
  private readonly messageListeners: IkeMessageListener[] = [];

  constructor(
    private readonly o: {
      readonly updown: UpdownRunner;
      readonly keyLog: ((line: string) => void) | undefined;
      /** Runs a listener, turning an exception into a counted, logged fault. */
      readonly guard: (what: string, f: () => void) => void;
    },
  ) {}

  onEvent(listener: (e: IkeEvent) => void): void {
    this.listeners.push(listener);
  }

  onIkeMessage(listener: IkeMessageListener): void {
    this.messageListeners.push(listener);
  }

  /** Hands one core event on; true for 'sa-changed' (the status file is due). */
  dispatch(ev: GatewayEvent): boolean {
    const { guard, keyLog } = this.o;
    if (ev.type === 'sa-changed') return true;
    if (ev.type === 'ike-message') for (const l of this.messageListeners) guard('IKE message listener', () => l(ev.dir, ev.data));
    else if (ev.type !== 'local-address' && ev.type !== 'fault') {
      for (const l of this.listeners) guard(`${ev.type} listener`, () => l(ev));
      guard('updown', () => this.o.updown.onEvent(ev));
      if (keyLog && (ev.type === 'ike-keys' || ev.type === 'child-install')) guard('key log', () => keyLogLines(ev).forEach(keyLog));
    }
    return false;
  }
}

/**
 * What the exchanges (src/ike/exchanges) need from the endpoint. Kept narrow and in its own module so each
 * exchange can be read on its own, and so the exchanges do not import the endpoint that imports them.
 */
import type { CryptoBackend } from '../crypto/types.js';
import type { RandomSource } from '../crypto/random.js';
import type { Payload } from './codec/types.js';
import type { Address, Credentials, EndpointSettings, IkeConnectionConfig } from './config.js';
import type { IkeDownReason, IkeEvent, LogGroup } from './events.js';
import type { ChildSa, IkeSa } from './ike-sa.js';
import type { AddressPool } from './pool.js';
import type { TransitionSink } from './sa-state.js';
import type { Task } from './tasks/task.js';
import type { Identity } from './identity.js';
import type { EapProvider } from './eap-provider.js';

export interface CookieSecret {
  readonly version: number;
  readonly secret: Uint8Array;
  readonly createdAt: number;
}

/** A settled promise, as defer() hands it on. */
export type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/** What exchanges need from the endpoint. Kept narrow so each exchange file can be read on its own. */
export interface EndpointContext extends TransitionSink {
  readonly crypto: CryptoBackend;
  readonly random: RandomSource;
  readonly settings: EndpointSettings;
  readonly credentials: Credentials;
  connections(): readonly IkeConnectionConfig[];
  emit(e: IkeEvent): void;
  log(group: LogGroup, level: number, sa: IkeSa | undefined, message: string): void;
  /**
   * Queues a task on `sa` (tasks/manager.ts); it builds its request when the SA's request window is free, which
   * may be at once. `first` puts it before the tasks already waiting (IKE_AUTH after IKE_SA_INIT).
   */
  queueTask(sa: IkeSa, task: Task, now: number, opts?: { first?: boolean }): void;
  /** The waiting task of `sa` (it answered 'wait') builds its next request now. */
  resumeTask(sa: IkeSa, now: number): void;
  /**
   * Runs `then` once `work` settles, at the time of the next call into the endpoint (the driver is woken to make
   * one): asynchronous work (EAP methods, RADIUS) never runs exchange code outside the endpoint's own calls.
   */
  defer<T>(sa: IkeSa, work: Promise<T>, then: (outcome: Settled<T>, now: number) => void): void;
  /**
   * Where a new IKE SA of `conn` goes when cygnet starts one itself (keyingtries, dpd_action/close_action restart,
   * reauthentication): `previous` is the last SA's peer; a driver resolving DNS names in remote_addrs re-resolves.
   */
  remoteFor(conn: IkeConnectionConfig, previous: Address): Address;
  /** EAP sessions for IKE_AUTH (RFC 7296 2.16). */
  readonly eap: EapProvider;
  sendResponse(sa: IkeSa, exchangeType: number, messageId: number, payloads: readonly Payload[]): void;
  /** Sends an unencrypted message outside any SA (IKE_SA_INIT error responses, COOKIE); `marker` on NAT-T. */
  sendRaw(marker: boolean, data: Uint8Array, local: Address, remote: Address): void;
  registerSa(sa: IkeSa): void;
  destroySa(sa: IkeSa, reason: IkeDownReason, message: string): void;
  allocateChildSpi(): number;
  nextChildId(): number;
  newSa(initiator: boolean, spiI: Uint8Array, local: Address, remote: Address): IkeSa;
  findSaBySpiI(spiI: Uint8Array, remote: Address): IkeSa | undefined;
  /** Established IKE SAs of a connection, or of a connection and peer identity (indexed: no scan of all SAs). */
  establishedWith(conn: string, remoteId?: Identity): ReadonlySet<IkeSa>;
  newIkeSpi(): Uint8Array;
  halfOpenCount(): number;
  /**
   * Secrets for stateless cookies (RFC 7296 2.6): the current one with its version byte, and the previous one,
   * still accepted for a while after a rotation.
   */
  cookieSecrets(now: number): { current: CookieSecret; previous?: CookieSecret };
  /** Half-open IKE SAs (responder side) from one peer address. */
  halfOpenFrom(address: string): number;
  removeChild(sa: IkeSa, c: ChildSa, reason: string): void;
  /** A random duration in [0, maxMs): rekey jitter (rand_time) and retry spreading. */
  jitter(maxMs: number): number;
  /** Runs `fn` at `at` (virtual time) unless the SA is gone by then. */
  later(sa: IkeSa, at: number, fn: (now: number) => void): void;
  releaseChildSpi(spi: number): void;
  /** A NAT-T keepalive: one 0xFF byte to the peer's NAT-T port (RFC 3948 section 2.3). */
  sendKeepalive(sa: IkeSa): void;
  /** Reauthenticates `sa` (make-before-break or break-before-make, per settings). */
  reauthenticate(sa: IkeSa, now: number): void;
  pools(): ReadonlyMap<string, AddressPool>;
}

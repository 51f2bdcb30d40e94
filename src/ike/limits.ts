/**
 * Admission of new IKE SAs on the responder: stateless cookies (RFC 7296 2.6) and strongSwan's DoS limits, decided
 * from the IKE header and the first payload alone, before anything is parsed further and before any key exchange.
 *
 * Order and semantics follow strongSwan's receiver (drop_ike_sa_init in src/libcharon/network/receiver.c, 5.9.8)
 * and ike_sa_manager (checkout_by_message), with every threshold 0 meaning "off":
 *   1. COOKIE: demanded when the half-open IKE SAs reach cookie_threshold, or those of the source address reach
 *      cookie_threshold_ip, and for 10 s after the threshold was last reached (COOKIE_CALMDOWN_DELAY, so retries
 *      are not answered with and without cookies in turn); a request without a valid cookie gets N(COOKIE).
 *   2. block_threshold: a source address holding that many half-open IKE SAs is ignored.
 *   3. init_limit_half_open: beyond that many half-open IKE SAs in all, IKE_SA_INIT is ignored.
 *   4. ikesa_limit: beyond that many IKE SAs in all, IKE_SA_INIT is ignored.
 * The cookie check comes first so that a flood spoofing a real peer's address only gets cookies (no state), and
 * cannot get that address blocked: the peer, which does see the cookie, comes back with it and is let in.
 */
import type { CryptoBackend } from '../crypto/types.js';
import { constantTimeEqual } from '../crypto/ct.js';
import { randomBytes, type RandomSource } from '../crypto/random.js';
import { u16 } from './codec/bytes.js';
import type { CookieSecret } from './context.js';
import type { EndpointSettings } from './config.js';

/** strongSwan's COOKIE_CALMDOWN_DELAY: cookies stay on this long after the threshold was last reached. */
export const COOKIE_CALMDOWN_MS = 10_000;
/** strongSwan's COOKIE_CALMDOWN_BUCKETS: per-IP calm-down state is kept in this many buckets by address hash. */
const CALMDOWN_BUCKETS = 32;
/** Our cookie: a version byte naming the secret, then 20 bytes of SHA-256 (RFC 7296 2.6's suggested layout). */
const COOKIE_BYTES = 21;
const IKE_HEADER_BYTES = 28;
const PAYLOAD_NOTIFY = 41;
const NOTIFY_COOKIE = 16390;

export type Admission =
  | { readonly kind: 'accept' }
  | { readonly kind: 'cookie'; readonly cookie: Uint8Array }
  | { readonly kind: 'drop'; readonly message: string };

/** What the admission needs to know about current load. */
export interface HalfOpenCounts {
  /** Half-open responder IKE SAs (and requests still being charged for work done, see SaTable). */
  halfOpen(): number;
  halfOpenFrom(address: string): number;
  /** All IKE SAs. */
  total(): number;
}

/**
 * The effective block threshold: strongSwan raises it above cookie_threshold_ip so a peer is asked for cookies
 * before it is blocked ("increasing block threshold to %u due to per-IP cookie threshold of %u"). strongSwan does
 * this even for block_threshold = 0; cygnet keeps 0 meaning off.
 */
export function effectiveBlockThreshold(s: Pick<EndpointSettings, 'blockThreshold' | 'cookieThresholdIp'>): number {
  return s.blockThreshold !== 0 && s.cookieThresholdIp !== 0 && s.cookieThresholdIp >= s.blockThreshold ? s.cookieThresholdIp + 1 : s.blockThreshold;
}

export class InitAdmission {
  private secrets: { current: CookieSecret; previous?: CookieSecret } | undefined;
  /** Last time the global (index 0) or a per-IP bucket's (1..32) cookie threshold was reached. */
  private readonly lastThreshold = new Array<number | undefined>(CALMDOWN_BUCKETS + 1).fill(undefined);

  constructor(
    private readonly crypto: CryptoBackend,
    private readonly random: RandomSource,
  ) {}

  /**
   * Decides on a new IKE_SA_INIT request (`data`: the whole message, SPIr zero) from `address`. No state is
   * created for it here; the caller creates the SA only on `accept`.
   */
  admit(data: Uint8Array, address: string, now: number, s: EndpointSettings, counts: HalfOpenCounts): Admission {
    const global = this.cookieRequired(0, s.cookieThreshold, () => counts.halfOpen(), now);
    const perIp = this.cookieRequired(1 + (hashAddress(address) & (CALMDOWN_BUCKETS - 1)), s.cookieThresholdIp, () => counts.halfOpenFrom(address), now);
    if ((global || perIp) && !this.validCookie(data, address, now, s)) return { kind: 'cookie', cookie: this.makeCookie(this.secretsAt(now, s).current, data, address) };
    const block = effectiveBlockThreshold(s);
    if (block !== 0 && counts.halfOpenFrom(address) >= block) return { kind: 'drop', message: `ignoring IKE_SA setup from ${address}, per-IP half-open IKE_SA limit of ${block} reached` };
    if (s.initLimitHalfOpen !== 0 && counts.halfOpen() >= s.initLimitHalfOpen) return { kind: 'drop', message: `ignoring IKE_SA setup from ${address}, half-open IKE_SA limit of ${s.initLimitHalfOpen} reached` };
    if (s.ikesaLimit !== 0 && counts.total() >= s.ikesaLimit) return { kind: 'drop', message: `ignoring IKE_SA_INIT, hitting IKE_SA limit (${s.ikesaLimit})` };
    return { kind: 'accept' };
  }

  /** The cookie secrets at `now`, rotated every cookieSecretLifetimeMs; the previous one stays valid (RFC 7296 2.6). */
  secretsAt(now: number, s: Pick<EndpointSettings, 'cookieSecretLifetimeMs'>): { current: CookieSecret; previous?: CookieSecret } {
    const cur = this.secrets;
    if (cur && now - cur.current.createdAt < s.cookieSecretLifetimeMs) return cur;
    const next = cur
      ? { current: { version: (cur.current.version % 255) + 1, secret: randomBytes(this.random, 32), createdAt: now }, previous: cur.current }
      : { current: { version: 1, secret: randomBytes(this.random, 32), createdAt: now } };
    this.secrets = next;
    return next;
  }

  private cookieRequired(bucket: number, threshold: number, count: () => number, now: number): boolean {
    if (threshold === 0) return false;
    if (count() >= threshold) {
      this.lastThreshold[bucket] = now;
      return true;
    }
    const last = this.lastThreshold[bucket];
    return last !== undefined && now < last + COOKIE_CALMDOWN_MS;
  }

  /**
   * RFC 7296 2.6: the cookie comes back as the first payload, so (as strongSwan does) it is read straight from the
   * datagram, walking the generic payload headers: a Notify with no SPI of type COOKIE. Unlike strongSwan, one that
   * is not first is found too (lenient; the walk is bounded by the datagram). Compared in constant time.
   */
  private validCookie(data: Uint8Array, address: string, now: number, s: EndpointSettings): boolean {
    const got = findCookie(data);
    if (!got || got.length !== COOKIE_BYTES) return false;
    const { current, previous } = this.secretsAt(now, s);
    const secret = got[0] === current.version ? current : got[0] === previous?.version ? previous : undefined;
    return secret !== undefined && constantTimeEqual(got, this.makeCookie(secret, data, address));
  }

  /**
   * COOKIE = <VersionIDofSecret> | Hash(IPi | SPIi | <secret>) (RFC 7296 2.6 without Ni, like strongSwan's, so it
   * can be checked before the message is parsed; a cookie still only works for one SPIi from one address).
   */
  private makeCookie(s: CookieSecret, data: Uint8Array, address: string): Uint8Array {
    const c = new Uint8Array(COOKIE_BYTES);
    c[0] = s.version;
    c.set(this.crypto.hash('sha256', [new TextEncoder().encode(address), data.subarray(0, 8), s.secret]).subarray(0, COOKIE_BYTES - 1), 1);
    return c;
  }
}

/** The data of the first COOKIE notify (no SPI) in a plaintext IKE message, from the raw bytes. */
function findCookie(data: Uint8Array): Uint8Array | undefined {
  let type = data[16];
  let off = IKE_HEADER_BYTES;
  while (type !== 0 && off + 4 <= data.length) {
    // The loop condition and `off + len <= data.length` (len >= 8 for the notify fields) keep the reads inside.
    const len = u16(data, off + 2);
    if (len < 4 || off + len > data.length) return undefined;
    if (type === PAYLOAD_NOTIFY && len >= 8 && data[off + 5] === 0 && u16(data, off + 6) === NOTIFY_COOKIE) return data.subarray(off + 8, off + len);
    type = data[off];
    off += len;
  }
  return undefined;
}

/** FNV-1a of the address text, for the per-IP calm-down buckets. */
function hashAddress(a: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The backend with createKeyExchange counted (IKE_SA_INIT requests that fail after one are charged for it). */
export function countKeyExchanges(base: CryptoBackend, count: () => void): CryptoBackend {
  const c = Object.create(base) as { -readonly [K in keyof CryptoBackend]: CryptoBackend[K] };
  c.createKeyExchange = (group, random) => {
    count();
    return base.createKeyExchange(group, random);
  };
  return c;
}

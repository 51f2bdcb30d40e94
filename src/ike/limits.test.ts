/** Stateless cookies (RFC 7296 2.6) and the admission order of src/ike/limits.ts, on raw datagrams. */
import { describe, expect, it } from 'vitest';
import { nodeBackend } from '../crypto/backends/node.js';
import { seededRandom } from '../crypto/random.js';
import { encodeMessage, ExchangeType, NotifyType, PayloadType, type Payload } from './codec/index.js';
import { DEFAULT_SETTINGS } from './config.js';
import { InitAdmission, type HalfOpenCounts } from './limits.js';

const S = { ...DEFAULT_SETTINGS, cookieThreshold: 1, cookieThresholdIp: 0, blockThreshold: 0, cookieSecretLifetimeMs: 1000 };
const BUSY: HalfOpenCounts = { halfOpen: () => 1, halfOpenFrom: () => 0, total: () => 1 };
const NONCE: Payload = { type: PayloadType.NONCE, critical: false, data: new Uint8Array(32).fill(7) };

function init(before: Payload[] = []): Uint8Array {
  const header = {
    spiI: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
    spiR: new Uint8Array(8),
    exchangeType: ExchangeType.IKE_SA_INIT,
    flags: { initiator: true, response: false, version: false },
    messageId: 0,
  };
  return encodeMessage(header, [...before, NONCE]);
}

function cookieNotify(data: Uint8Array): Payload {
  return { type: PayloadType.NOTIFY, critical: false, protocol: 0, spi: new Uint8Array(0), notifyType: NotifyType.COOKIE, data };
}

function cookieOf(a: ReturnType<InitAdmission['admit']>): Uint8Array {
  if (a.kind !== 'cookie') throw new Error(`expected a cookie demand, got ${a.kind}`);
  return a.cookie;
}

describe('InitAdmission cookies (RFC 7296 2.6)', () => {
  it('demands a cookie above the threshold and admits the request that returns it', () => {
    const adm = new InitAdmission(nodeBackend, seededRandom(1));
    const cookie = cookieOf(adm.admit(init(), '192.0.2.1', 0, S, BUSY));
    expect(cookie.length).toBe(21);
    expect(adm.admit(init([cookieNotify(cookie)]), '192.0.2.1', 10, S, BUSY)).toEqual({ kind: 'accept' });
    // Bound to the source address.
    expect(adm.admit(init([cookieNotify(cookie)]), '192.0.2.2', 10, S, BUSY).kind).toBe('cookie');
  });

  it('keeps the previous secret valid for one rotation, not two', () => {
    const adm = new InitAdmission(nodeBackend, seededRandom(2));
    const cookie = cookieOf(adm.admit(init(), '192.0.2.1', 0, S, BUSY));
    const first = adm.secretsAt(0, S);
    const rotated = adm.secretsAt(1000, S);
    expect(rotated.current.version).toBe(first.current.version + 1);
    expect(rotated.previous).toBe(first.current);
    expect(adm.secretsAt(1500, S)).toBe(rotated);
    expect(adm.admit(init([cookieNotify(cookie)]), '192.0.2.1', 1500, S, BUSY)).toEqual({ kind: 'accept' });
    expect(adm.admit(init([cookieNotify(cookie)]), '192.0.2.1', 2000, S, BUSY).kind).toBe('cookie');
  });

  it('a wrong, short or truncated cookie notify is answered with a new cookie, never a throw', () => {
    const adm = new InitAdmission(nodeBackend, seededRandom(3));
    const cookie = cookieOf(adm.admit(init(), '192.0.2.1', 0, S, BUSY));
    // Right secret version, wrong hash.
    const forged = cookie.slice().fill(0x5a, 1);
    expect(adm.admit(init([cookieNotify(forged)]), '192.0.2.1', 1, S, BUSY).kind).toBe('cookie');
    expect(adm.admit(init([cookieNotify(cookie.subarray(0, 20))]), '192.0.2.1', 1, S, BUSY).kind).toBe('cookie');
    const good = init([cookieNotify(cookie)]);
    // Cut inside the cookie data, the notify header, the generic header, and right after the IKE header.
    for (const n of [28 + 20, 28 + 6, 28 + 2, 28]) {
      expect(adm.admit(good.subarray(0, n), '192.0.2.1', 1, S, BUSY).kind).toBe('cookie');
    }
  });
});

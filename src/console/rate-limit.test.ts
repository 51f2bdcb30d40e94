import { describe, expect, it } from 'vitest';
import { LoginLimiter } from './rate-limit.js';

describe('login rate limit', () => {
  it('blocks a key after maxFailures within the window, until the oldest failure leaves it', () => {
    const l = new LoginLimiter({ maxFailures: 3, windowMs: 60_000 });
    const k = ['ip:127.0.0.1', 'user:admin'];
    for (let i = 0; i < 3; i++) {
      expect(l.retryAfter(k, 1000 * i)).toBe(0);
      l.fail(k, 1000 * i);
    }
    expect(l.retryAfter(k, 3000)).toBe(57_000);
    expect(l.retryAfter(['ip:127.0.0.2', 'user:admin'], 3000)).toBe(57_000);
    expect(l.retryAfter(['ip:127.0.0.2', 'user:other'], 3000)).toBe(0);
    expect(l.retryAfter(k, 60_001)).toBe(0);
  });

  it('a success clears the user count but not the address count', () => {
    const l = new LoginLimiter({ maxFailures: 2, windowMs: 60_000 });
    l.fail(['ip:a', 'user:u'], 0);
    l.fail(['ip:a', 'user:u'], 1);
    l.succeed('user:u');
    expect(l.retryAfter(['ip:b', 'user:u'], 2)).toBe(0);
    expect(l.retryAfter(['ip:a', 'user:v'], 2)).toBeGreaterThan(0);
  });
});

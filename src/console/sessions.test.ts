import { describe, expect, it } from 'vitest';
import { csrfMatches, readCookie, sessionCookie, SessionStore } from './sessions.js';

describe('console sessions', () => {
  it('expire after the idle time and after the absolute lifetime', () => {
    const s = new SessionStore({ idleMs: 1000, absoluteMs: 5000 });
    const a = s.create('admin', 0);
    expect(s.get(a.id, 900)?.user).toBe('admin');
    expect(s.get(a.id, 1800)?.user).toBe('admin');
    expect(s.get(a.id, 2801)).toBeUndefined();
    const b = s.create('admin', 0);
    for (let t = 900; t < 5000; t += 900) expect(s.get(b.id, t)).toBeDefined();
    expect(s.get(b.id, 5001)).toBeUndefined();
    expect(s.get('nonsense', 0)).toBeUndefined();
  });

  it('have unguessable ids and CSRF tokens compared exactly', () => {
    const s = new SessionStore();
    const a = s.create(undefined, 0);
    const b = s.create(undefined, 0);
    expect(a.id).not.toBe(b.id);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrfMatches(a, a.csrf)).toBe(true);
    expect(csrfMatches(a, b.csrf)).toBe(false);
    expect(csrfMatches(a, undefined)).toBe(false);
    expect(csrfMatches(a, `${a.csrf}x`)).toBe(false);
  });

  it('cookies: flags, Secure and __Host- under TLS, read back from a Cookie header', () => {
    expect(sessionCookie('abc', false)).toBe('cygnet-console=abc; Path=/; HttpOnly; SameSite=Strict');
    expect(sessionCookie('abc', true, 0)).toBe('__Host-cygnet-console=abc; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=0');
    expect(readCookie('a=1; cygnet-console=xyz; b=2', 'cygnet-console')).toBe('xyz');
    expect(readCookie('xcygnet-console=1', 'cygnet-console')).toBeUndefined();
    expect(readCookie(undefined, 'cygnet-console')).toBeUndefined();
  });
});

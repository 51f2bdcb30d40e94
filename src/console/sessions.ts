/**
 * Login sessions held in memory: a random 256-bit id in an HttpOnly, SameSite=Strict cookie (Secure and the
 * `__Host-` prefix under TLS), a CSRF token per session that every POST must echo in X-CSRF-Token, an idle
 * and an absolute lifetime. Anonymous sessions exist only to carry the login form's CSRF token; logging in
 * replaces the session (a new id: no session fixation). The clock is passed in.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const IDLE_MS = 30 * 60_000;
export const ABSOLUTE_MS = 12 * 3600_000;
const MAX_SESSIONS = 10_000;

export interface Session {
  readonly id: string;
  readonly csrf: string;
  readonly user: string | undefined;
  readonly created: number;
  lastSeen: number;
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly opts: { idleMs?: number; absoluteMs?: number } = {}) {}

  create(user: string | undefined, now: number): Session {
    if (this.sessions.size >= MAX_SESSIONS) this.sweep(now);
    // Still full: drop the oldest anonymous one (only logins matter), or the oldest of all.
    if (this.sessions.size >= MAX_SESSIONS) {
      const victim = [...this.sessions.values()].find((s) => s.user === undefined) ?? this.sessions.values().next().value;
      if (victim) this.sessions.delete(victim.id);
    }
    const s: Session = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), user, created: now, lastSeen: now };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session for a cookie value, touched; undefined when unknown or expired. */
  get(id: string | undefined, now: number): Session | undefined {
    if (id === undefined) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (this.expired(s, now)) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastSeen = now;
    return s;
  }

  destroy(id: string): void {
    this.sessions.delete(id);
  }

  /** Sessions of a user (to end them all, e.g. when the user is removed from the configuration). */
  count(): number {
    return this.sessions.size;
  }

  private expired(s: Session, now: number): boolean {
    return now - s.lastSeen > (this.opts.idleMs ?? IDLE_MS) || now - s.created > (this.opts.absoluteMs ?? ABSOLUTE_MS);
  }

  private sweep(now: number): void {
    for (const s of this.sessions.values()) if (this.expired(s, now)) this.sessions.delete(s.id);
  }
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(session: Session, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function cookieName(tls: boolean): string {
  // RFC 6265bis 4.1.3.2: a __Host- cookie must be Secure, Path=/ and have no Domain, so no sibling host can set it.
  return tls ? '__Host-cygnet-console' : 'cygnet-console';
}

export function sessionCookie(id: string, tls: boolean, maxAgeS?: number): string {
  const attrs = [`${cookieName(tls)}=${id}`, 'Path=/', 'HttpOnly', 'SameSite=Strict'];
  if (tls) attrs.push('Secure');
  if (maxAgeS !== undefined) attrs.push(`Max-Age=${maxAgeS}`);
  return attrs.join('; ');
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

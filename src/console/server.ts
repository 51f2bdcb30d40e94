/**
 * The console's HTTP(S) server on node:http / node:https.
 *
 * Why no framework: a dozen routes, JSON in and out, one SSE stream. node:http does all of it, and a console that
 * holds the keys to the VPN is better without a framework's dependency tree to audit and keep patched.
 *
 * Every request gets the security headers (security.ts). The API:
 *   GET  /api/session          {user|null, csrf}; makes an anonymous session (cookie) carrying the login's CSRF token
 *   POST /api/login            {user, password} -> a new session (new id) for the user; rate-limited (429)
 *   POST /api/logout
 *   GET  /api/sas | conns | pools | certs | timeline | logs | history | status
 *   GET  /api/events           Server-Sent Events: hello, sas, timeline, log, vici
 *   POST /api/initiate {child|ike}, /api/terminate {ikeId|childId|ike|child}, /api/rekey {ikeId|childId|ike|child}
 * Every POST needs Content-Type application/json, the session's CSRF token in X-CSRF-Token and, when the browser
 * sends one, an Origin equal to this server's. Every action is logged with the user and the client address.
 */
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { isViciError } from '../vici/errors.js';
import type { ViciInput } from '../vici/message.js';
import type { ConsoleHub } from './hub.js';
import { parsePasswordHash, verifyPassword } from './password.js';
import { LoginLimiter } from './rate-limit.js';
import { securityHeaders } from './security.js';
import { cookieName, csrfMatches, readCookie, sessionCookie, SessionStore, type Session } from './sessions.js';
import type { StaticFiles } from './static.js';
import { certView, connViews, poolViews } from './views.js';
import type { ControlResult } from './vici-bridge.js';
import { Onboarding, OnboardingError } from './onboarding.js';

/** What the server needs from vici (ConsoleVici, or a test double). */
export interface ConsoleBackend {
  list(command: string, event: string, msg?: ViciInput): Promise<import('../vici/message.js').ViciMessage[]>;
  request(command: string, msg?: ViciInput): Promise<import('../vici/message.js').ViciMessage>;
  control(command: 'initiate' | 'terminate' | 'rekey', msg: ViciInput): Promise<ControlResult>;
}

export interface ConsoleServerOptions {
  readonly users: ReadonlyMap<string, string>;
  readonly backend: ConsoleBackend;
  readonly hub: ConsoleHub;
  readonly files: StaticFiles;
  readonly tls?: { cert: Buffer; key: Buffer };
  readonly log: (line: string) => void;
  readonly now?: () => number;
  readonly limiter?: LoginLimiter;
  readonly sessions?: SessionStore;
  /** Road-warrior onboarding, when the configuration names a profile_config; else why not. */
  readonly onboarding?: Onboarding | string;
}

const MAX_BODY = 16 * 1024;
// Verifying against this when the user does not exist costs the same as a real check (no user enumeration by time).
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export class ConsoleServer {
  readonly server: Server;
  readonly sessions: SessionStore;
  readonly limiter: LoginLimiter;
  private readonly tls: boolean;

  constructor(private readonly opts: ConsoleServerOptions) {
    this.tls = opts.tls !== undefined;
    this.sessions = opts.sessions ?? new SessionStore();
    this.limiter = opts.limiter ?? new LoginLimiter();
    // A broken hash is a configuration error at start, not a 500 at the first login.
    for (const h of opts.users.values()) parsePasswordHash(h);
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.server = opts.tls ? createHttps({ cert: opts.tls.cert, key: opts.tls.key }, handler) : createHttp(handler);
    // Slow-loris guard: a request must arrive whole within 20 s.
    this.server.requestTimeout = 20_000;
    this.server.headersTimeout = 10_000;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private peer(req: IncomingMessage): string {
    return req.socket.remoteAddress ?? 'unknown';
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [k, v] of Object.entries(securityHeaders(this.tls))) res.setHeader(k, v);
    try {
      const url = new URL(req.url ?? '/', 'http://console.invalid');
      const path = url.pathname;
      if (req.method === 'GET' || req.method === 'HEAD') {
        if (path.startsWith('/p/')) return this.oneTimeProfile(path.slice(3), req, res);
        if (!path.startsWith('/api/')) return this.serveStatic(path, res);
        return await this.get(path, url.searchParams, req, res);
      }
      if (req.method === 'POST' && path.startsWith('/api/')) return await this.post(path, req, res);
      throw new HttpError(405, `method ${req.method ?? '?'} not allowed on ${path}`, { Allow: 'GET, POST' });
    } catch (e) {
      if (res.headersSent) {
        res.end();
        return;
      }
      // vici failures (daemon down, a command this daemon lacks) are the daemon's answer, passed on as 502.
      const vici = isViciError(e);
      const known = e instanceof HttpError || e instanceof OnboardingError;
      const status = known ? e.status : vici ? 502 : 500;
      const headers = e instanceof HttpError ? e.headers : {};
      const message = known ? e.message : vici ? `the daemon's vici: ${e.message}` : 'internal error (see the console log)';
      if (!known && !vici) this.opts.log(`console: error serving ${req.method} ${req.url}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      this.json(res, status, { error: message }, headers);
    }
  }

  private serveStatic(path: string, res: ServerResponse): void {
    const name = path === '/' ? 'index.html' : path.slice(1);
    const f = this.opts.files.get(name);
    if (!f) throw new HttpError(404, `no such page: ${path}`);
    res.writeHead(200, { 'Content-Type': f.type, 'Content-Length': f.body.length, 'Cache-Control': 'no-cache' });
    res.end(f.body);
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
    res.end(text);
  }

  private session(req: IncomingMessage): Session | undefined {
    return this.sessions.get(readCookie(req.headers.cookie, cookieName(this.tls)), this.now());
  }

  private requireUser(req: IncomingMessage): Session & { user: string } {
    const s = this.session(req);
    if (!s || s.user === undefined) throw new HttpError(401, 'not logged in');
    return s as Session & { user: string };
  }

  private onboarding(): Onboarding {
    const o = this.opts.onboarding;
    if (o === undefined || typeof o === 'string') throw new HttpError(404, `onboarding is off: ${o ?? 'no profile_config in the console configuration'}`);
    return o;
  }

  private download(res: ServerResponse, p: { body: string | Uint8Array; type: string; filename: string }): void {
    res.writeHead(200, { 'Content-Type': p.type, 'Content-Disposition': `attachment; filename="${p.filename.replace(/[^A-Za-z0-9._@-]/g, '_')}"`, 'Cache-Control': 'no-store' });
    res.end(p.body);
  }

  /** GET /p/TOKEN: a one-time profile link (the QR code's target); no login, the token is the capability. */
  private oneTimeProfile(token: string, req: IncomingMessage, res: ServerResponse): void {
    const p = /^[A-Za-z0-9_-]{43}$/.test(token) ? this.onboarding().redeem(token) : undefined;
    if (!p) {
      this.opts.log(`console: unknown, used or expired profile link from ${this.peer(req)}`);
      throw new HttpError(404, 'this link is unknown, used or expired: ask for a new QR code');
    }
    this.download(res, p);
  }

  private async get(path: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (path === '/api/session') {
      let s = this.session(req);
      const headers: Record<string, string> = {};
      if (!s) {
        s = this.sessions.create(undefined, this.now());
        headers['Set-Cookie'] = sessionCookie(s.id, this.tls);
      }
      return this.json(res, 200, { user: s.user ?? null, csrf: s.csrf }, headers);
    }
    const s = this.requireUser(req);
    const hub = this.opts.hub;
    switch (path) {
      case '/api/events':
        return this.events(req, res, s);
      case '/api/sas':
        await hub.refresh();
        return this.json(res, 200, { t: this.now(), sas: hub.sas });
      case '/api/conns': {
        const list = await this.opts.backend.list('list-conns', 'list-conn');
        return this.json(res, 200, { conns: list.flatMap((m) => connViews(m)) });
      }
      case '/api/pools': {
        const r = await this.opts.backend.request('get-pools', { leases: 'yes' });
        return this.json(res, 200, { pools: poolViews(r) });
      }
      case '/api/certs': {
        const list = await this.opts.backend.list('list-certs', 'list-cert', { type: 'X509' });
        return this.json(res, 200, { certs: list.map((m) => certView(m, this.now())) });
      }
      case '/api/timeline':
        return this.json(res, 200, { timeline: hub.timeline });
      case '/api/logs':
        return this.json(res, 200, { logs: hub.logs });
      case '/api/history':
        return this.json(res, 200, { history: Object.fromEntries(hub.history) });
      case '/api/onboarding': {
        const o = this.opts.onboarding;
        if (o === undefined || typeof o === 'string') return this.json(res, 200, { enabled: false, reason: o ?? 'no profile_config in the console configuration' });
        return this.json(res, 200, { enabled: true, connections: o.connections(), users: o.list(), formats: ['mobileconfig', 'windows', 'sswan'], certificates: o.opts.caCert !== undefined && o.opts.caKey !== undefined });
      }
      case '/api/onboarding/profile': {
        const p = this.onboarding().profile(query.get('connection') ?? '', query.get('user') ?? '', query.get('format') ?? '');
        this.opts.log(`console: user '${s.user}' (${this.peer(req)}) downloaded the ${query.get('format')} profile of '${query.get('user')}'`);
        return this.download(res, p);
      }
      case '/api/status':
        return this.json(res, 200, { vici: { connected: hub.viciConnected, error: hub.viciError ?? null }, user: s.user });
      default:
        throw new HttpError(404, `no such API: ${path}`);
    }
  }

  private events(req: IncomingMessage, res: ServerResponse, s: Session & { user: string }): void {
    const hub = this.opts.hub;
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    let detach = () => {};
    let ping: NodeJS.Timeout | undefined;
    const close = () => {
      if (ping) clearInterval(ping);
      detach();
      if (!res.writableEnded) res.end();
    };
    const send = (event: string, data: unknown) => {
      if (res.writableEnded) return;
      // The session may end (logout, expiry) while the stream is open: then the stream ends too.
      if (!this.sessions.get(s.id, this.now())) return close();
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    send('hello', {
      user: s.user,
      t: this.now(),
      sas: hub.sas,
      timeline: hub.timeline.slice(-100),
      logs: hub.logs.slice(-300),
      history: Object.fromEntries(hub.history),
      vici: { connected: hub.viciConnected, error: hub.viciError ?? null },
    });
    detach = hub.attach({ send });
    void hub.refresh();
    ping = setInterval(() => {
      if (!res.writableEnded) res.write(': keep-alive\n\n');
    }, 15_000);
    ping.unref();
    res.on('error', close);
    req.on('close', close);
  }

  private async body(req: IncomingMessage): Promise<Record<string, unknown>> {
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type)) throw new HttpError(415, 'requests must be application/json');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_BODY) throw new HttpError(413, `request body over ${MAX_BODY} bytes`);
      chunks.push(c);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new HttpError(400, 'request body is not valid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new HttpError(400, 'request body must be a JSON object');
    return parsed as Record<string, unknown>;
  }

  /** CSRF: the session's token in X-CSRF-Token, and a same-origin Origin when the browser sends one. */
  private checkPost(req: IncomingMessage): Session {
    const origin = req.headers.origin;
    if (origin !== undefined) {
      const host = req.headers.host ?? '';
      const expected = `${this.tls ? 'https' : 'http'}://${host}`;
      if (origin !== expected) throw new HttpError(403, `cross-origin request refused (Origin ${origin})`);
    }
    const s = this.session(req);
    if (!s) throw new HttpError(403, 'CSRF check failed: no session (load the page first)');
    const token = req.headers['x-csrf-token'];
    if (!csrfMatches(s, typeof token === 'string' ? token : undefined)) throw new HttpError(403, 'CSRF check failed: X-CSRF-Token missing or wrong');
    return s;
  }

  private async post(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const s = this.checkPost(req);
    const body = await this.body(req);
    if (path === '/api/login') return this.login(req, res, s, body);
    if (s.user === undefined) throw new HttpError(401, 'not logged in');
    const who = `user '${s.user}' (${this.peer(req)})`;
    if (path === '/api/logout') {
      this.sessions.destroy(s.id);
      this.opts.log(`console: ${who} logged out`);
      return this.json(res, 200, { ok: true }, { 'Set-Cookie': sessionCookie('', this.tls, 0) });
    }
    if (path.startsWith('/api/onboarding/')) return this.onboardingPost(path, req, res, s.user, body);
    const action = /^\/api\/(initiate|terminate|rekey)$/.exec(path)?.[1] as 'initiate' | 'terminate' | 'rekey' | undefined;
    if (!action) throw new HttpError(404, `no such API: ${path}`);
    const msg = selector(action, body);
    const what = Object.entries(msg)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    let result: ControlResult;
    try {
      result = await this.opts.backend.control(action, { ...msg, ...(action === 'rekey' ? {} : { timeout: 30_000 }) });
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      this.opts.log(`console: ${who} ${action} ${what}: failed: ${reason}`);
      throw new HttpError(502, `the daemon did not answer: ${reason}`);
    }
    this.opts.log(`console: ${who} ${action} ${what}: ${result.success ? 'success' : `failed: ${result.errmsg ?? ''}`}`);
    this.opts.hub.addTimeline({ t: this.now(), kind: 'console', name: s.user, detail: `${s.user}: ${action} ${what}: ${result.success ? 'success' : `failed: ${result.errmsg ?? ''}`}` });
    this.opts.hub.scheduleRefresh();
    return this.json(res, result.success ? 200 : 409, result);
  }

  private async onboardingPost(path: string, req: IncomingMessage, res: ServerResponse, user: string, body: Record<string, unknown>): Promise<void> {
    const o = this.onboarding();
    const text = (k: string): string => {
      const v = body[k];
      if (typeof v !== 'string' || v === '' || v.length > 128) throw new HttpError(400, `'${k}' must be a non-empty string`);
      return v;
    };
    switch (path) {
      case '/api/onboarding/create': {
        const kind = body.kind ?? 'eap';
        if (kind !== 'eap' && kind !== 'cert') throw new HttpError(400, "'kind' must be 'eap' or 'cert'");
        const r = kind === 'cert' ? await o.createCert(text('connection'), text('user'), user) : await o.create(text('connection'), text('user'), user);
        this.opts.hub.addTimeline({ t: this.now(), kind: 'console', name: user, detail: `${user}: created ${kind === 'cert' ? 'certificate' : 'EAP'} user ${r.user}` });
        // The only answer that ever carries the secret.
        return this.json(res, 200, r);
      }
      case '/api/onboarding/revoke': {
        const terminated = await o.revoke(text('user'), user);
        this.opts.hub.addTimeline({ t: this.now(), kind: 'console', name: user, detail: `${user}: revoked user ${String(body.user)} (${terminated} SA terminated)` });
        this.opts.hub.scheduleRefresh();
        return this.json(res, 200, { terminated });
      }
      case '/api/onboarding/link': {
        const origin = `${this.tls ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`;
        const l = o.link(text('connection'), text('user'), text('format'), origin);
        this.opts.log(`console: user '${user}' (${this.peer(req)}) made a one-time ${String(body.format)} link for '${String(body.user)}'`);
        return this.json(res, 200, { url: l.url, qr: `data:image/svg+xml;base64,${Buffer.from(l.svg).toString('base64')}` });
      }
      default:
        throw new HttpError(404, `no such API: ${path}`);
    }
  }

  private async login(req: IncomingMessage, res: ServerResponse, s: Session, body: Record<string, unknown>): Promise<void> {
    const user = body.user;
    const password = body.password;
    if (typeof user !== 'string' || typeof password !== 'string' || user.length > 64 || password.length > 1024) {
      throw new HttpError(400, 'user and password must be strings (user at most 64, password at most 1024 characters)');
    }
    const ip = this.peer(req);
    const keys = [`ip:${ip}`, `user:${user}`];
    const wait = this.limiter.retryAfter(keys, this.now());
    if (wait > 0) {
      const secs = Math.ceil(wait / 1000);
      this.opts.log(`console: login for user '${user}' from ${ip} refused: too many failed attempts (retry in ${secs} s)`);
      throw new HttpError(429, `too many failed logins: try again in ${secs} s`, { 'Retry-After': String(secs) });
    }
    const hash = this.opts.users.get(user);
    const ok = (await verifyPassword(password, hash ?? DUMMY_HASH)) && hash !== undefined;
    if (!ok) {
      this.limiter.fail(keys, this.now());
      this.opts.log(`console: login failed for user '${user}' from ${ip}: ${hash === undefined ? 'no such user' : 'wrong password'}`);
      throw new HttpError(401, 'wrong user name or password');
    }
    this.limiter.succeed(`user:${user}`);
    this.sessions.destroy(s.id);
    const fresh = this.sessions.create(user, this.now());
    this.opts.log(`console: user '${user}' logged in from ${ip}`);
    return this.json(res, 200, { user, csrf: fresh.csrf }, { 'Set-Cookie': sessionCookie(fresh.id, this.tls) });
  }
}

/** The vici selector of an action from the page's JSON, checked: names are config names, ids are unique ids. */
export function selector(action: 'initiate' | 'terminate' | 'rekey', body: Record<string, unknown>): ViciInput {
  const out: ViciInput = {};
  const name = (k: 'ike' | 'child') => {
    const v = body[k];
    if (v === undefined) return;
    if (typeof v !== 'string' || !/^[A-Za-z0-9._:@/-]{1,128}$/.test(v)) throw new HttpError(400, `'${k}' must be a connection name`);
    out[k] = v;
  };
  const id = (k: 'ikeId' | 'childId', wire: 'ike-id' | 'child-id') => {
    const v = body[k];
    if (v === undefined) return;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]{1,10}$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n <= 0) throw new HttpError(400, `'${k}' must be a positive integer`);
    out[wire] = n;
  };
  name('ike');
  name('child');
  if (action !== 'initiate') {
    id('ikeId', 'ike-id');
    id('childId', 'child-id');
  }
  if (Object.keys(out).length === 0) throw new HttpError(400, action === 'initiate' ? "initiate needs 'child' or 'ike'" : `${action} needs 'ikeId', 'childId', 'ike' or 'child'`);
  return out;
}

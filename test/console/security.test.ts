/**
 * The console's security properties over real HTTP (issue 19 "Security tests"): CSRF without token refused,
 * session cookie flags, CSP header, login rate limit, non-loopback bind without TLS refused, plus the checks
 * around them (no API without login, session id replaced at login, logout ends the session and its SSE stream,
 * every action logged with the user, no secret in any response).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startConsole } from '../../src/console/cli.js';
import { runConsole } from '../../src/console/cli.js';
import { Agent, PASSWORD, roadSa, startHarness, USER, type Harness } from './harness.js';

let hx: Harness;
beforeEach(async () => {
  hx = await startHarness();
});
afterEach(async () => {
  await hx.stop();
});

describe('console security', () => {
  it('sends a strict CSP (no inline script, nothing from elsewhere) and the other security headers on pages and API', async () => {
    const a = new Agent(hx.url);
    for (const path of ['/', '/app.js', '/api/session', '/api/sas', '/nonexistent']) {
      const r = await a.fetch(path);
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'none'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:/);
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(r.headers.get('x-frame-options'), path).toBe('DENY');
      expect(r.headers.get('referrer-policy'), path).toBe('no-referrer');
    }
    const html = await (await a.fetch('/')).text();
    // No inline script or style in the page itself: only the external bundle.
    expect(html).toMatch(/<script type="module" src="\/app\.js"><\/script>/);
    expect(html).not.toMatch(/<script>(?!<)|<script[^>]*>[^<]+<\/script>|style="/);
  });

  it('sets the session cookie HttpOnly, SameSite=Strict, Path=/ (no Secure on plain loopback HTTP)', async () => {
    const a = new Agent(hx.url);
    await a.session();
    const anon = a.lastSetCookie ?? '';
    expect(anon).toMatch(/^cygnet-console=[A-Za-z0-9_-]{43}; /);
    expect(anon).toContain('HttpOnly');
    expect(anon).toContain('SameSite=Strict');
    expect(anon).toContain('Path=/');
    expect(anon).not.toContain('Secure');
    const before = a.cookie;
    const r = await a.login();
    expect(r.status).toBe(200);
    // A new session id at login (no session fixation), with the same flags.
    expect(a.cookie).not.toBe(before);
    expect(a.lastSetCookie).toMatch(/HttpOnly; SameSite=Strict/);
    // The old anonymous session is gone: its cookie is not logged in.
    const old = new Agent(hx.url);
    old.cookie = before;
    expect((await old.session()).user).toBeNull();
  });

  it('refuses a POST without the CSRF token, with a wrong one, from another origin, or not as JSON', async () => {
    const a = new Agent(hx.url);
    expect((await a.login()).status).toBe(200);
    const none = await a.fetch('/api/terminate', { json: { ikeId: 1 }, csrf: null });
    expect(none.status).toBe(403);
    expect(((await none.json()) as { error: string }).error).toMatch(/CSRF/);
    const wrong = await a.fetch('/api/terminate', { json: { ikeId: 1 }, csrf: 'x'.repeat(43) });
    expect(wrong.status).toBe(403);
    const cross = await a.fetch('/api/terminate', { json: { ikeId: 1 }, headers: { Origin: 'http://evil.example' } });
    expect(cross.status).toBe(403);
    expect(((await cross.json()) as { error: string }).error).toMatch(/cross-origin/);
    // A form post (what a foreign page can send without CORS) is refused too.
    const form = await a.fetch('/api/terminate', { method: 'POST', body: 'ikeId=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-CSRF-Token': a.csrf } });
    expect(form.status).toBe(415);
    expect(hx.backend.terminated).toEqual([]);
    // The login form needs the anonymous session's token as well.
    const b = new Agent(hx.url);
    await b.session();
    const login = await b.fetch('/api/login', { json: { user: USER, password: PASSWORD }, csrf: null });
    expect(login.status).toBe(403);
    // With the token the action goes through, and is logged with the user.
    const ok = await a.fetch('/api/terminate', { json: { ikeId: 1 } });
    expect(ok.status).toBe(200);
    expect(hx.backend.terminated).toEqual([expect.objectContaining({ ikeId: 1 })]);
    expect(hx.logs.some((l) => /user 'admin' \(127\.0\.0\.1\) terminate ike-id=1: success/.test(l))).toBe(true);
  });

  it('answers 401 to every API and the event stream without a login', async () => {
    const a = new Agent(hx.url);
    await a.session();
    for (const p of ['/api/sas', '/api/conns', '/api/pools', '/api/certs', '/api/timeline', '/api/logs', '/api/history', '/api/events']) {
      expect((await a.fetch(p)).status, p).toBe(401);
    }
    expect((await a.fetch('/api/initiate', { json: { child: 'net' } })).status).toBe(401);
    expect(hx.backend.initiated).toEqual([]);
  });

  it('rate-limits failed logins: after 5 failures from an address even the right password gets 429 with Retry-After', async () => {
    const a = new Agent(hx.url);
    for (let i = 0; i < 5; i++) {
      const r = await a.login(USER, `wrong ${i}`);
      expect(r.status).toBe(401);
      expect(((await r.json()) as { error: string }).error).toBe('wrong user name or password');
    }
    const blocked = await a.login(USER, PASSWORD);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(800);
    // Other user names from the same address are blocked as well (per-address count).
    expect((await a.login('someone', 'x')).status).toBe(429);
    expect(hx.logs.filter((l) => /login failed for user 'admin' from 127\.0\.0\.1: wrong password/.test(l))).toHaveLength(5);
    expect(hx.logs.some((l) => /refused: too many failed attempts/.test(l))).toBe(true);
  });

  it('logs in and out; logout ends the session and its event stream', async () => {
    const a = new Agent(hx.url);
    expect((await a.login()).status).toBe(200);
    const sas = (await (await a.fetch('/api/sas')).json()) as { sas: { name: string }[] };
    expect(sas.sas.map((s) => s.name)).toEqual(['gw']);
    // An open event stream of this session...
    const stream = await a.fetch('/api/events');
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = stream.body?.getReader();
    if (!reader) throw new Error('no stream body');
    const hello = new TextDecoder().decode((await reader.read()).value);
    expect(hello).toMatch(/^event: hello\ndata: \{"user":"admin"/);
    const out = await a.fetch('/api/logout', { json: {} });
    expect(out.status).toBe(200);
    // ...ends at the next event after the logout, sending nothing more.
    hx.backend.bringUp(roadSa(5));
    let rest = '';
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      rest += new TextDecoder().decode(chunk.value);
    }
    expect(rest).not.toMatch(/road/);
    expect(a.cookie).toBeUndefined();
    expect(hx.logs.some((l) => /user 'admin' \(127\.0\.0\.1\) logged out/.test(l))).toBe(true);
  });

  it('never sends a password hash or the configuration to the browser', async () => {
    const a = new Agent(hx.url);
    await a.login();
    for (const p of ['/api/session', '/api/sas', '/api/conns', '/api/pools', '/api/certs', '/api/status']) {
      const text = await (await a.fetch(p)).text();
      expect(text, p).not.toContain('scrypt$');
      expect(text, p).not.toContain(PASSWORD);
    }
  });

  it('rejects malformed action bodies with a reason, never a crash', async () => {
    const a = new Agent(hx.url);
    await a.login();
    const cases: Array<[string, unknown, RegExp]> = [
      ['/api/terminate', { ikeId: 'one' }, /ikeId' must be a positive integer/],
      ['/api/terminate', {}, /needs 'ikeId'/],
      ['/api/initiate', { child: 'a b' }, /must be a connection name/],
      ['/api/initiate', [], /JSON object/],
      ['/api/nothing', {}, /no such API/],
    ];
    for (const [p, body, re] of cases) {
      const r = await a.fetch(p, { json: body });
      expect(r.status, p).toBeGreaterThanOrEqual(400);
      expect(r.status, p).toBeLessThan(500);
      expect(((await r.json()) as { error: string }).error, p).toMatch(re);
    }
    const bad = await a.fetch('/api/initiate', { method: 'POST', body: '{nope', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': a.csrf } });
    expect(bad.status).toBe(400);
  });
});

describe('console bind policy', () => {
  it('refuses a non-loopback address without TLS (exit 2, reason given), allows it with --insecure-bind and a warning', async () => {
    const err: string[] = [];
    const code = await runConsole(['--config', `${hx.dir}/console.conf`, '--listen', '0.0.0.0:0', '--socket', `${hx.dir}/vici`], {
      stdout: () => {},
      stderr: (s) => err.push(s),
      readStdin: async () => '',
    });
    expect(code).toBe(2);
    expect(err.join('')).toMatch(/refusing to listen on 0\.0\.0\.0 without TLS.*--tls-cert and --tls-key, or --insecure-bind/);
    const logs: string[] = [];
    const forced = await startConsole(
      new Map([
        ['--config', `${hx.dir}/console.conf`],
        ['--listen', '0.0.0.0:0'],
        ['--socket', `${hx.dir}/vici`],
        ['--insecure-bind', ''],
      ]),
      (l) => logs.push(l),
    );
    await forced.stop();
    expect(logs.join('\n')).toMatch(/warning: listening on 0\.0\.0\.0 without TLS \(--insecure-bind\)/);
  });

  it('listens on loopback by default', async () => {
    const { parseListen, DEFAULT_LISTEN, isLoopback } = await import('../../src/console/listen.js');
    expect(isLoopback(parseListen(DEFAULT_LISTEN).host)).toBe(true);
  });
});

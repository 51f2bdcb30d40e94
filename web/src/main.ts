/**
 * The console's page: plain TypeScript and the DOM, no framework. Six small pages of tables and buttons need no
 * virtual DOM; without one the bundle is a few KiB, has no third-party code, and every string reaches the page as
 * a text node. Live data arrives over Server-Sent Events (/api/events), never by polling.
 */
import { ApiError, get, post, setCsrf } from './api.js';
import { h, replace } from './dom.js';
import { PAGES, renderCerts, renderConns, renderEvents, renderLog, renderOnboarding, renderPools, renderSas, type Page } from './pages.js';
import { sample, state } from './state.js';
import type { Hello, LogLine, SaView, TimelineEntry } from './types.js';

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const who = document.getElementById('who') as HTMLElement;
const banner = document.getElementById('banner') as HTMLElement;
let source: EventSource | undefined;

function page(): Page {
  const p = location.hash.replace(/^#\/?/, '') as Page;
  return PAGES.some(([id]) => id === p) ? p : 'sas';
}

function render(focus = false): void {
  const p = page();
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${p}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${PAGES.find(([id]) => id === p)?.[1] ?? ''} · cygnet console`;
  const done = (() => {
    switch (p) {
      case 'sas':
        return renderSas(main);
      case 'events':
        return renderEvents(main);
      case 'log':
        return renderLog(main);
      case 'conns':
        return renderConns(main);
      case 'pools':
        return renderPools(main);
      case 'certs':
        return renderCerts(main);
      case 'onboarding':
        return renderOnboarding(main);
    }
  })();
  // After navigation, focus the page's heading so screen readers announce it and Tab starts there.
  if (focus) void Promise.resolve(done).then(() => main.querySelector<HTMLElement>('h1')?.focus());
}

function showBanner(): void {
  banner.textContent = state.vici.connected ? '' : `Not connected to the daemon's vici socket${state.vici.error ? `: ${state.vici.error}` : ''}. Retrying…`;
}

function connect(): void {
  source?.close();
  const es = new EventSource('/api/events');
  source = es;
  es.addEventListener('hello', (ev) => {
    const d = JSON.parse((ev as MessageEvent<string>).data) as Hello;
    state.user = d.user;
    state.sas = d.sas;
    state.now = d.t;
    state.timeline = d.timeline;
    state.logs = d.logs;
    state.history = new Map(Object.entries(d.history));
    state.vici = d.vici;
    showBanner();
    render();
  });
  es.addEventListener('sas', (ev) => {
    const d = JSON.parse((ev as MessageEvent<string>).data) as { t: number; sas: SaView[] };
    state.sas = d.sas;
    state.now = d.t;
    sample(d.sas, d.t);
    if (page() === 'sas') render();
  });
  es.addEventListener('timeline', (ev) => {
    state.timeline.push(JSON.parse((ev as MessageEvent<string>).data) as TimelineEntry);
    if (state.timeline.length > 500) state.timeline.shift();
    if (page() === 'events') render();
  });
  es.addEventListener('log', (ev) => {
    state.logs.push(JSON.parse((ev as MessageEvent<string>).data) as LogLine);
    if (state.logs.length > 1000) state.logs.shift();
    if (page() === 'log') render();
  });
  es.addEventListener('vici', (ev) => {
    state.vici = JSON.parse((ev as MessageEvent<string>).data) as { connected: boolean; error: string | null };
    showBanner();
  });
  es.addEventListener('error', () => {
    // EventSource reconnects by itself; a 401 (session ended) means back to the login form.
    void get<{ user: string | null }>('/api/session').then((s) => {
      if (s.user === null) {
        es.close();
        void start();
      }
    });
  });
}

function showApp(): void {
  replace(nav, ...PAGES.map(([id, label]) => h('a', { href: `#/${id}` }, label)));
  nav.hidden = false;
  const logout = h('button', { type: 'button', class: 'secondary' }, 'Log out');
  logout.addEventListener('click', () => {
    void post('/api/logout', {}).finally(() => {
      source?.close();
      void start();
    });
  });
  replace(who, h('span', { id: 'user' }, `Logged in as ${state.user}`), logout);
  render();
  connect();
}

function showLogin(): void {
  nav.hidden = true;
  replace(who);
  banner.textContent = '';
  const user = h('input', { id: 'login-user', name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { id: 'login-error', class: 'error', role: 'alert' });
  const submit = h('button', { type: 'submit' }, 'Log in');
  const form = h(
    'form',
    { class: 'login', 'aria-labelledby': 'login-title' },
    h('label', { for: 'login-user' }, 'User name'),
    user,
    h('label', { for: 'login-password' }, 'Password'),
    pass,
    submit,
    error,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    error.textContent = '';
    post<{ user: string; csrf: string }>('/api/login', { user: user.value, password: pass.value })
      .then((r) => {
        setCsrf(r.csrf);
        state.user = r.user;
        showApp();
      })
      .catch((e: unknown) => {
        error.textContent = e instanceof ApiError ? e.message : String(e);
        pass.value = '';
        pass.focus();
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  replace(main, h('h1', { id: 'login-title' }, 'Log in to the cygnet console'), form);
  user.focus();
}

async function start(): Promise<void> {
  try {
    const s = await get<{ user: string | null; csrf: string }>('/api/session');
    setCsrf(s.csrf);
    if (s.user === null) showLogin();
    else {
      state.user = s.user;
      showApp();
    }
  } catch (e) {
    replace(main, h('p', { class: 'error', role: 'alert' }, `The console does not answer: ${e instanceof Error ? e.message : String(e)}`));
  }
}

window.addEventListener('hashchange', () => {
  if (!nav.hidden) render(true);
});
void start();

/** The console's pages. Each renders into <main>; the live ones re-render on SSE events. */
import { ApiError, get, post } from './api.js';
import { chart } from './chart.js';
import { bytes, h, replace, time } from './dom.js';
import { state, trafficKey } from './state.js';
import type { SaView } from './types.js';

export type Page = 'sas' | 'conns' | 'events' | 'log' | 'pools' | 'certs' | 'onboarding';
export const PAGES: ReadonlyArray<[Page, string]> = [
  ['sas', 'Live SAs'],
  ['conns', 'Connections'],
  ['events', 'Events'],
  ['log', 'Log'],
  ['pools', 'Pools'],
  ['certs', 'Certificates'],
  ['onboarding', 'Onboarding'],
];

const flash = (msg: string, error = false) => {
  const el = document.getElementById('status-line');
  if (el) {
    el.textContent = msg;
    el.className = error ? 'error' : 'ok';
  }
};

/** Run an action button: disabled while it runs, outcome announced in the status line. */
async function act(button: HTMLButtonElement, path: string, body: Record<string, unknown>, what: string): Promise<void> {
  button.disabled = true;
  flash(`${what}…`);
  try {
    await post(path, body);
    flash(`${what}: done`);
  } catch (e) {
    flash(`${what}: ${e instanceof Error ? e.message : String(e)}`, true);
  } finally {
    button.disabled = false;
  }
}

function actionButton(label: string, key: string, path: string, body: Record<string, unknown>, cls = 'secondary'): HTMLButtonElement {
  const b = h('button', { type: 'button', class: cls, 'data-key': key, 'aria-label': label }, label.split(' ')[0] ?? label);
  b.addEventListener('click', () => void act(b, path, body, label));
  return b;
}

function statusLine(): HTMLElement {
  return h('p', { id: 'status-line', role: 'status', 'aria-live': 'polite' });
}

function saCard(sa: SaView): HTMLElement {
  const names = [...new Set(sa.children.map((c) => c.name))];
  return h(
    'section',
    { class: 'card sa', 'data-sa': sa.name, 'data-ike-id': sa.uniqueId, 'aria-labelledby': `sa-${sa.uniqueId}` },
    h(
      'header',
      {},
      h('h2', { id: `sa-${sa.uniqueId}` }, `${sa.name} #${sa.uniqueId}`),
      h('span', { class: `state ${sa.state}` }, sa.state),
      h('span', { class: 'muted' }, `${sa.localHost} (${sa.localId}) ⇄ ${sa.remoteHost} (${sa.remoteId}${sa.remoteEapId ? `, EAP ${sa.remoteEapId}` : ''})`),
      actionButton(`Rekey IKE SA ${sa.name} #${sa.uniqueId}`, `rekey-ike-${sa.uniqueId}`, '/api/rekey', { ikeId: Number(sa.uniqueId) }),
      actionButton(`Down IKE SA ${sa.name} #${sa.uniqueId}`, `down-ike-${sa.uniqueId}`, '/api/terminate', { ikeId: Number(sa.uniqueId) }, 'danger'),
    ),
    h('p', { class: 'muted' }, `${sa.suite} · ${sa.initiator ? 'initiator' : 'responder'} · `, h('span', { 'data-field': 'established' }, `established ${sa.established} s ago`)),
    h(
      'table',
      {},
      h('caption', { class: 'muted' }, `CHILD SAs of ${sa.name}`),
      h('thead', {}, h('tr', {}, ...['CHILD SA', 'State', 'Traffic selectors', 'In', 'Out', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        {},
        ...sa.children.map((c) =>
          h(
            'tr',
            { 'data-child': c.name, 'data-child-id': c.uniqueId },
            h('th', { scope: 'row' }, `${c.name} {${c.uniqueId}}`),
            h('td', {}, h('span', { class: `state ${c.state}` }, c.state), ` ${c.mode} ${c.protocol}`),
            h('td', {}, `${c.localTs.join(', ')} === ${c.remoteTs.join(', ')}`),
            h('td', { 'data-bytes-in': c.bytesIn }, `${bytes(c.bytesIn)} (${c.packetsIn} pkts)`),
            h('td', { 'data-bytes-out': c.bytesOut }, `${bytes(c.bytesOut)} (${c.packetsOut} pkts)`),
            h(
              'td',
              {},
              actionButton(`Rekey CHILD SA ${c.name} {${c.uniqueId}}`, `rekey-child-${c.uniqueId}`, '/api/rekey', { childId: Number(c.uniqueId) }),
              ' ',
              actionButton(`Down CHILD SA ${c.name} {${c.uniqueId}}`, `down-child-${c.uniqueId}`, '/api/terminate', { childId: Number(c.uniqueId) }, 'danger'),
            ),
          ),
        ),
      ),
    ),
    ...names.map((n) => h('div', { 'data-chart': `${sa.name}/${n}` }, chart(`Traffic of ${sa.name}/${n}`, state.history.get(trafficKey(sa, n)) ?? [], state.now))),
  );
}

/** What a card shows apart from counters and ages: when it is unchanged the card stays and only numbers update. */
function signature(sa: SaView): string {
  // Ages (established, install-time) tick every second in charon's list-sas: they must not count as a change.
  return JSON.stringify({ ...sa, established: 0, children: sa.children.map((c) => ({ ...c, bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0, installTime: 0 })) });
}

/**
 * The live SA list. Cards are updated in place on each SSE sample (counters, ages, charts) and replaced only when
 * the SA itself changed, so a button under the pointer or the keyboard focus is never swapped away mid-click.
 */
export function renderSas(main: HTMLElement): void {
  let list = main.querySelector<HTMLElement>('#sa-list');
  if (!list) {
    list = h('div', { id: 'sa-list' });
    replace(main, h('h1', { tabindex: -1 }, 'Live SAs'), statusLine(), h('p', { class: 'muted', id: 'no-sas' }, 'No IKE SAs. They appear here as soon as the daemon reports them.'), list);
  }
  const empty = main.querySelector<HTMLElement>('#no-sas');
  if (empty) empty.hidden = state.sas.length > 0;
  const keep = new Set<string>();
  for (const sa of state.sas) {
    keep.add(sa.uniqueId);
    const sig = signature(sa);
    const old = list.querySelector<HTMLElement>(`:scope > [data-ike-id="${CSS.escape(sa.uniqueId)}"]`);
    if (old && old.dataset.sig === sig) {
      updateCard(old, sa);
      continue;
    }
    const card = saCard(sa);
    card.dataset.sig = sig;
    if (old) old.replaceWith(card);
    else list.append(card);
  }
  for (const card of list.querySelectorAll<HTMLElement>(':scope > [data-ike-id]')) if (!keep.has(card.dataset.ikeId ?? '')) card.remove();
}

function updateCard(card: HTMLElement, sa: SaView): void {
  const age = card.querySelector('[data-field="established"]');
  if (age) age.textContent = `established ${sa.established} s ago`;
  for (const c of sa.children) {
    const row = card.querySelector(`tr[data-child-id="${CSS.escape(c.uniqueId)}"]`);
    const cin = row?.querySelector('[data-bytes-in]');
    const cout = row?.querySelector('[data-bytes-out]');
    if (cin) {
      cin.setAttribute('data-bytes-in', String(c.bytesIn));
      cin.textContent = `${bytes(c.bytesIn)} (${c.packetsIn} pkts)`;
    }
    if (cout) {
      cout.setAttribute('data-bytes-out', String(c.bytesOut));
      cout.textContent = `${bytes(c.bytesOut)} (${c.packetsOut} pkts)`;
    }
  }
  for (const holder of card.querySelectorAll<HTMLElement>('[data-chart]')) {
    const name = holder.dataset.chart?.slice(sa.name.length + 1) ?? '';
    holder.replaceChildren(chart(`Traffic of ${sa.name}/${name}`, state.history.get(trafficKey(sa, name)) ?? [], state.now));
  }
}

export function renderEvents(main: HTMLElement): void {
  replace(
    main,
    h('h1', { tabindex: -1 }, 'Events'),
    h('p', { class: 'muted' }, 'SAs up and down, rekeyings, authentication failures, dead peers and console actions, newest first.'),
    h(
      'ol',
      { class: 'timeline', 'aria-label': 'Event timeline' },
      ...[...state.timeline].reverse().map((e) => h('li', { 'data-kind': e.kind }, `${time(e.t)} `, h('span', { class: `kind ${e.kind}` }, e.kind), ` ${e.detail}`)),
    ),
  );
}

export function renderLog(main: HTMLElement): void {
  const groups = [...new Set(state.logs.map((l) => l.group))].sort();
  const level = h(
    'select',
    { id: 'log-level', 'data-key': 'log-level' },
    ...[-1, 0, 1, 2, 3, 4].map((n) => h('option', { value: n, selected: n === state.logLevel }, `${n} ${['silent', 'basic', 'audit', 'control', 'raw', 'private'][n + 1]}`)),
  );
  level.addEventListener('change', () => {
    state.logLevel = Number(level.value);
    renderLog(main);
  });
  const group = h('select', { id: 'log-group', 'data-key': 'log-group' }, h('option', { value: '' }, 'all'), ...groups.map((g) => h('option', { value: g, selected: g === state.logGroup }, g)));
  group.addEventListener('change', () => {
    state.logGroup = group.value;
    renderLog(main);
  });
  const lines = state.logs.filter((l) => l.level <= state.logLevel && (state.logGroup === '' || l.group === state.logGroup)).slice(-500);
  replace(
    main,
    h('h1', { tabindex: -1 }, 'Log'),
    h('div', { class: 'controls' }, h('label', { for: 'log-level' }, 'Level (charondebug)'), level, h('label', { for: 'log-group' }, 'Subsystem'), group),
    h('ol', { class: 'log', 'aria-label': 'Daemon log', 'aria-live': 'off' }, ...lines.map((l) => h('li', { 'data-level': l.level }, `${time(l.t)} [${l.group}] ${l.level} ${l.ike ? `<${l.ike}> ` : ''}${l.msg}`))),
  );
}

interface ConnView {
  name: string;
  localAddrs: string[];
  remoteAddrs: string[];
  version: string;
  local: string[];
  remote: string[];
  pools: string[];
  children: { name: string; mode: string; localTs: string[]; remoteTs: string[] }[];
}

async function loadInto(main: HTMLElement, title: string, load: () => Promise<Node[]>): Promise<void> {
  replace(main, h('h1', { tabindex: -1 }, title), h('p', {}, 'Loading…'));
  try {
    replace(main, h('h1', { tabindex: -1 }, title), statusLine(), ...(await load()));
  } catch (e) {
    replace(main, h('h1', { tabindex: -1 }, title), h('p', { class: 'error', role: 'alert' }, e instanceof ApiError ? e.message : String(e)));
  }
}

export function renderConns(main: HTMLElement): Promise<void> {
  return loadInto(main, 'Connections', async () => {
    const { conns } = await get<{ conns: ConnView[] }>('/api/conns');
    if (conns.length === 0) return [h('p', { class: 'muted' }, 'No connections loaded.')];
    return conns.map((c) => {
      const up = state.sas.filter((s) => s.name === c.name);
      return h(
        'section',
        { class: 'card', 'data-conn': c.name },
        h('header', {}, h('h2', {}, c.name), h('span', { class: 'muted' }, `${c.version} ${c.localAddrs.join(',') || '%any'} ⇄ ${c.remoteAddrs.join(',') || '%any'}`), h('span', { class: up.length ? 'ok' : 'muted' }, up.length ? `${up.length} IKE SA up` : 'no SA')),
        h('p', { class: 'muted' }, `local ${c.local.join('; ')} · remote ${c.remote.join('; ')}${c.pools.length ? ` · pools ${c.pools.join(', ')}` : ''}`),
        h(
          'table',
          {},
          h('thead', {}, h('tr', {}, ...['CHILD', 'Mode', 'Local TS', 'Remote TS', 'Actions'].map((x) => h('th', { scope: 'col' }, x)))),
          h(
            'tbody',
            {},
            ...c.children.map((ch) =>
              h('tr', {}, h('th', { scope: 'row' }, ch.name), h('td', {}, ch.mode), h('td', {}, ch.localTs.join(', ')), h('td', {}, ch.remoteTs.join(', ')), h('td', {}, actionButton(`Up CHILD SA ${ch.name} of ${c.name}`, `up-${c.name}-${ch.name}`, '/api/initiate', { ike: c.name, child: ch.name }))),
            ),
          ),
        ),
      );
    });
  });
}

interface PoolView {
  name: string;
  base: string;
  size: number;
  online: number;
  offline: number;
  leases: { address: string; identity: string; status: string }[];
}

export function renderPools(main: HTMLElement): Promise<void> {
  return loadInto(main, 'Pools', async () => {
    const { pools } = await get<{ pools: PoolView[] }>('/api/pools');
    if (pools.length === 0) return [h('p', { class: 'muted' }, 'No pools loaded.')];
    return pools.map((p) =>
      h(
        'section',
        { class: 'card', 'data-pool': p.name },
        h('header', {}, h('h2', {}, p.name), h('span', { class: 'muted' }, `from ${p.base}, ${p.size} addresses: ${p.online} online, ${p.offline} offline`)),
        p.leases.length === 0
          ? h('p', { class: 'muted' }, 'No leases.')
          : h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Address'), h('th', { scope: 'col' }, 'Identity'), h('th', { scope: 'col' }, 'Status'))), h('tbody', {}, ...p.leases.map((l) => h('tr', {}, h('td', {}, l.address), h('td', {}, l.identity), h('td', {}, l.status))))),
      ),
    );
  });
}

interface CertView {
  subject: string;
  issuer: string;
  serial: string;
  notAfter: string;
  daysLeft: number;
  status: 'expired' | 'expiring' | 'ok';
  hasPrivateKey: boolean;
  ca: boolean;
  error?: string;
}

export function renderCerts(main: HTMLElement): Promise<void> {
  return loadInto(main, 'Certificates', async () => {
    const { certs } = await get<{ certs: CertView[] }>('/api/certs');
    if (certs.length === 0) return [h('p', { class: 'muted' }, 'No certificates loaded over vici.')];
    return [
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ...['Subject', 'Issuer', 'Kind', 'Expires', 'Status'].map((x) => h('th', { scope: 'col' }, x)))),
        h(
          'tbody',
          {},
          ...certs.map((c) =>
            c.error
              ? h('tr', {}, h('td', { colspan: 5, class: 'error' }, c.error))
              : h(
                  'tr',
                  { 'data-cert-status': c.status },
                  h('td', {}, c.subject),
                  h('td', {}, c.issuer),
                  h('td', {}, c.ca ? 'CA' : c.hasPrivateKey ? 'own (has key)' : 'peer'),
                  h('td', {}, c.notAfter.slice(0, 10)),
                  h('td', { class: c.status }, c.status === 'expired' ? `EXPIRED ${-c.daysLeft} days ago` : c.status === 'expiring' ? `⚠ expires in ${c.daysLeft} days` : `valid ${c.daysLeft} days`),
                ),
          ),
        ),
      ),
    ];
  });
}

interface OnboardingState {
  enabled: boolean;
  reason?: string;
  connections: { name: string; auth: string; eap: boolean; cert: boolean }[];
  users: { name: string; connection: string; created: string; kind: 'eap' | 'cert' }[];
  formats: string[];
  certificates: boolean;
}

const FORMAT_LABELS: Record<string, string> = { mobileconfig: 'Apple (.mobileconfig)', windows: 'Windows (PowerShell)', sswan: 'Android strongSwan (.sswan)', p12: 'Certificate and key (.p12)' };

function profileUrl(connection: string, user: string, format: string): string {
  return `/api/onboarding/profile?${new URLSearchParams({ connection, user, format }).toString()}`;
}

/** Download links and phone QR buttons for one user. */
function userTools(connection: string, user: string, formats: string[]): HTMLElement {
  const qrBox = h('div', { class: 'qr', 'aria-live': 'polite' });
  const qrButton = (format: string, label: string) => {
    const b = h('button', { type: 'button', class: 'secondary', 'data-key': `qr-${user}-${format}` }, label);
    b.addEventListener('click', () => {
      b.disabled = true;
      post<{ url: string; qr: string }>('/api/onboarding/link', { connection, user, format })
        .then((r) => replace(qrBox, h('img', { src: r.qr, alt: `QR code of a one-time download link for ${user}'s ${FORMAT_LABELS[format] ?? format} profile`, width: 220, height: 220, 'data-qr': format }), h('p', { class: 'muted' }, `One download within 15 minutes: ${r.url}`)))
        .catch((e: unknown) => replace(qrBox, h('p', { class: 'error', role: 'alert' }, e instanceof Error ? e.message : String(e))))
        .finally(() => {
          b.disabled = false;
        });
    });
    return b;
  };
  return h(
    'div',
    { class: 'user-tools' },
    h('p', {}, 'Download: ', ...formats.flatMap((f) => [h('a', { href: profileUrl(connection, user, f), download: '', 'data-download': f }, FORMAT_LABELS[f] ?? f), ' '])),
    h('p', {}, qrButton('mobileconfig', 'QR code for iPhone/iPad'), ' ', qrButton('sswan', 'QR code for Android')),
    qrBox,
  );
}

/** The onboarding page; `kept` is the result of a creation, shown again above the refreshed user list. */
export function renderOnboarding(main: HTMLElement, kept?: HTMLElement): Promise<void> {
  return loadInto(main, 'Onboarding', async () => {
    const o = await get<OnboardingState>('/api/onboarding');
    if (!o.enabled) return [h('p', { class: 'muted' }, `Onboarding is off: ${o.reason ?? ''}. Set profile_config (the gateway's swanctl.conf) in the console configuration.`)];
    const eap = o.connections.filter((c) => c.eap);
    const certConns = o.connections.filter((c) => c.cert);
    const kind = h(
      'select',
      { id: 'ob-kind' },
      h('option', { value: 'eap' }, 'EAP user name and password'),
      o.certificates ? h('option', { value: 'cert' }, 'Certificate (PKCS#12) issued by the CA') : null,
    );
    const conn = h('select', { id: 'ob-conn', required: true });
    const fillConns = () => replace(conn, ...(kind.value === 'cert' ? certConns : eap).map((c) => h('option', { value: c.name }, `${c.name} (${c.auth})`)));
    fillConns();
    kind.addEventListener('change', fillConns);
    const user = h('input', { id: 'ob-user', required: true, autocomplete: 'off', pattern: '[A-Za-z0-9._@\\-]{1,64}' });
    const result = kept ?? h('div', { id: 'ob-result', 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit' }, 'Create user');
    const form = h(
      'form',
      { class: 'login', 'aria-label': 'Create a road-warrior user' },
      h('label', { for: 'ob-kind' }, 'Kind of user'),
      kind,
      h('label', { for: 'ob-conn' }, 'Road-warrior connection'),
      conn,
      h('label', { for: 'ob-user' }, 'User name (EAP identity or certificate name)'),
      user,
      submit,
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      const cert = kind.value === 'cert';
      post<{ user: string; secret: string }>('/api/onboarding/create', { connection: conn.value, user: user.value, kind: kind.value })
        .then((r) => {
          replace(
            result,
            h('h2', {}, `User ${r.user} created`),
            h('p', {}, cert ? 'PKCS#12 password (shown only now, give it to the user):' : 'Password (shown only now, give it to the user):'),
            h('p', {}, h('code', { id: 'ob-secret' }, r.secret)),
            userTools(conn.value, r.user, cert ? [...o.formats, 'p12'] : o.formats),
          );
          // The new user joins the list below; the password stays on screen until the page is left.
          void renderOnboarding(main, result);
        })
        .catch((e: unknown) => replace(result, h('p', { class: 'error', role: 'alert' }, e instanceof Error ? e.message : String(e))))
        .finally(() => {
          submit.disabled = false;
        });
    });
    const rows = o.users.map((u) => {
      const revoke = h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke user ${u.name}`, 'data-key': `revoke-${u.name}` }, 'Revoke');
      revoke.addEventListener('click', () => {
        revoke.disabled = true;
        post<{ terminated: number }>('/api/onboarding/revoke', { user: u.name })
          .then((r) => {
            flash(`user ${u.name} revoked, ${r.terminated} SA(s) terminated`);
            void renderOnboarding(main);
          })
          .catch((e: unknown) => flash(e instanceof Error ? e.message : String(e), true))
          .finally(() => {
            revoke.disabled = false;
          });
      });
      return h(
        'tr',
        { 'data-user': u.name },
        h('th', { scope: 'row' }, u.name),
        h('td', {}, `${u.connection} (${u.kind === 'cert' ? 'certificate' : 'EAP'})`),
        h('td', {}, u.created.slice(0, 16).replace('T', ' ')),
        h('td', {}, userTools(u.connection, u.name, u.kind === 'cert' ? [...o.formats, 'p12'] : o.formats)),
        h('td', {}, revoke),
      );
    });
    return [
      eap.length + certConns.length === 0 ? h('p', { class: 'muted' }, 'No connection of the profile configuration takes EAP users (or certificate users, with ca_cert and ca_key configured).') : form,
      result,
      h('h2', {}, 'Users created here'),
      o.users.length === 0
        ? h('p', { class: 'muted' }, 'None yet.')
        : h('table', {}, h('thead', {}, h('tr', {}, ...['User', 'Connection', 'Created', 'Profiles', ''].map((x) => h('th', { scope: 'col' }, x)))), h('tbody', {}, ...rows)),
    ];
  });
}

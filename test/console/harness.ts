/**
 * A console against a scripted vici server (test/vici/fake-backend.ts behind the real ViciServer and
 * registerViciCommands on a temp socket), for the security and browser tests. Password hashes use a cheap scrypt
 * cost so the tests stay fast; the production default is checked in password.test.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerViciCommands } from '../../src/vici/commands.js';
import { ViciServer } from '../../src/vici/server.js';
import type { ViciCertInfo, ViciIkeSa, ViciPool, TerminateRequest, ViciResult } from '../../src/vici/backend.js';
import { childUpdownEvent, ikeUpdownEvent, logEvent } from '../../src/vici/commands.js';
import { hashPassword } from '../../src/console/password.js';
import { startConsole, type RunningConsole } from '../../src/console/cli.js';
import { generateKey } from '../../src/pki/keygen.js';
import { publicKeyOf } from '../../src/pki/keys.js';
import { issueCertificate } from '../../src/pki/build.js';
import { FakeBackend, GW_SA } from '../vici/fake-backend.js';

export const USER = 'admin';
export const PASSWORD = 'correct horse battery staple';
export const CHEAP = { N: 1024, r: 8, p: 1 } as const;

const DAY = 86_400_000;

function cert(cn: string, days: number, ca: boolean): Uint8Array {
  const key = generateKey({ type: 'ecdsa', size: 256 });
  const now = Date.now();
  return issueCertificate({ subject: `C=CH, O=cygnet, CN=${cn}`, publicKey: publicKeyOf(key), signingKey: key, serial: Uint8Array.of(1, 2, 3), notBefore: now - DAY, notAfter: now + days * DAY, ca }).der;
}

/** The fake backend with pools and certificates, and terminate that really removes the SA and says so. */
export class ConsoleFakeBackend extends FakeBackend {
  server: ViciServer | undefined;
  readonly certs: ViciCertInfo[] = [
    { type: 'X509', flag: 'CA', hasPrivkey: false, der: cert('cygnet test CA', 3650, true) },
    { type: 'X509', flag: 'NONE', hasPrivkey: true, der: cert('moon', 10, false) },
  ];
  /** With applyVici the server installs every configuration command, get-pools among them (as the daemon does). */
  applyVici(): ViciResult {
    return { success: true };
  }
  pools(): ViciPool[] {
    return [{ name: 'rw-pool', base: '10.3.0.1', size: 254, online: 1, offline: 0, leases: [{ address: '10.3.0.1', identity: 'carol@cygnet.test', online: true }] }];
  }
  certificates(): ViciCertInfo[] {
    return this.certs;
  }
  /** Bring an SA up as the daemon would: list-sas shows it, then ike-updown and child-updown are raised. */
  bringUp(sa: ViciIkeSa): void {
    this.sas = [...this.sas.filter((s) => s.uniqueId !== sa.uniqueId), sa];
    this.server?.emit('ike-updown', ikeUpdownEvent(sa, true));
    const child = sa.children[0];
    if (child) this.server?.emit('child-updown', childUpdownEvent(sa, child, true));
    this.server?.emit('log', logEvent({ group: 'ike', level: 0, ikeSaName: sa.name, ikeSaUniqueId: sa.uniqueId, message: `IKE_SA ${sa.name}[${sa.uniqueId}] established` }));
  }
  /** Add traffic to the first CHILD SA of an SA (what iperf3 does to the counters); ages tick as in charon. */
  addTraffic(uniqueId: number, bytes: number): void {
    this.sas = this.sas.map((s) =>
      s.uniqueId !== uniqueId ? s : { ...s, children: s.children.map((c, i) => (i === 0 ? { ...c, bytesIn: Number(c.bytesIn) + bytes, bytesOut: Number(c.bytesOut) + bytes / 2, packetsIn: Number(c.packetsIn) + Math.ceil(bytes / 1400), packetsOut: Number(c.packetsOut) + Math.ceil(bytes / 2800), installTime: Number(c.installTime) + 1 } : c)), established: Number(s.established) + 1 },
    );
  }
  override async terminate(req: TerminateRequest): Promise<ViciResult> {
    const r = await super.terminate(req);
    const gone = this.sas.filter((s) => req.ikeId === undefined || s.uniqueId === req.ikeId);
    if (r.success) {
      this.sas = this.sas.filter((s) => !gone.includes(s));
      for (const s of gone) this.server?.emit('ike-updown', ikeUpdownEvent(s, false));
    }
    return r;
  }
}

export interface Harness {
  readonly url: string;
  readonly backend: ConsoleFakeBackend;
  readonly vici: ViciServer;
  readonly logs: string[];
  readonly dir: string;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  readonly args?: Record<string, string>;
  /** Extra lines for the console's configuration file. */
  readonly config?: string;
  readonly sas?: ViciIkeSa[];
  /** Configure onboarding with src/profile's EAP fixture (road warriors 'rw-eap', server vpn.example.org). */
  readonly onboarding?: boolean;
}

export const PROFILE_FIXTURE = join(import.meta.dirname, '..', '..', 'src', 'profile', 'fixtures', 'eap.conf');

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'cygnet-console-'));
  const socket = join(dir, 'vici');
  const backend = new ConsoleFakeBackend();
  backend.sas = opts.sas ?? [GW_SA];
  const vici = new ViciServer({ path: socket });
  registerViciCommands(vici, backend);
  backend.server = vici;
  await vici.listen();
  const configPath = join(dir, 'console.conf');
  const onboarding = opts.onboarding ? `profile_config = ${PROFILE_FIXTURE}\nprofile_server = vpn.example.org\nusers_file = ${join(dir, 'users.conf')}\n` : '';
  await writeFile(configPath, `# test console\nuser ${USER} = ${await hashPassword(PASSWORD, CHEAP)}\n${onboarding}${opts.config ?? ''}`);
  const logs: string[] = [];
  const args = new Map<string, string>([['--config', configPath], ['--listen', '127.0.0.1:0'], ['--socket', socket], ...Object.entries(opts.args ?? {})]);
  let running: RunningConsole;
  try {
    running = await startConsole(args, (l) => logs.push(l));
  } catch (e) {
    await vici.close();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    url: running.url,
    backend,
    vici,
    logs,
    dir,
    stop: async () => {
      await running.stop();
      await vici.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A second SA, as the fake daemon would report a new tunnel. */
export function roadSa(uniqueId: number): ViciIkeSa {
  const child = GW_SA.children[0];
  if (!child) throw new Error('GW_SA has a child');
  return {
    ...GW_SA,
    name: 'road',
    uniqueId,
    remoteHost: '198.51.100.7',
    remoteId: 'carol@cygnet.test',
    children: [{ ...child, name: 'roadnet', uniqueId: uniqueId + 100, bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 }],
  };
}

/** A small HTTP client keeping one cookie jar, for the security tests. */
export class Agent {
  cookie: string | undefined;
  csrf = '';
  lastSetCookie: string | undefined;
  constructor(readonly base: string) {}

  async fetch(path: string, init: RequestInit & { json?: unknown; csrf?: string | null } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookie) headers.set('Cookie', this.cookie);
    if (init.json !== undefined) {
      headers.set('Content-Type', 'application/json');
      if (init.csrf !== null) headers.set('X-CSRF-Token', init.csrf ?? this.csrf);
    }
    const r = await fetch(new URL(path, this.base), { ...init, headers, ...(init.json !== undefined ? { method: 'POST', body: JSON.stringify(init.json) } : {}) });
    const set = r.headers.get('set-cookie');
    if (set) {
      this.lastSetCookie = set;
      const pair = set.split(';')[0] ?? '';
      this.cookie = pair.endsWith('=') ? undefined : pair;
    }
    return r;
  }

  async session(): Promise<{ user: string | null; csrf: string }> {
    const s = (await (await this.fetch('/api/session')).json()) as { user: string | null; csrf: string };
    this.csrf = s.csrf;
    return s;
  }

  async login(user = USER, password = PASSWORD): Promise<Response> {
    await this.session();
    const r = await this.fetch('/api/login', { json: { user, password } });
    if (r.ok) this.csrf = ((await r.clone().json()) as { csrf: string }).csrf;
    return r;
  }
}

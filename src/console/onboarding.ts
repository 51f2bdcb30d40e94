/**
 * Road-warrior onboarding in the console (issue 19): create an EAP user for a road-warrior connection, hand out
 * its client profiles (.mobileconfig, Windows script, .sswan from src/profile) and a QR code of a one-time
 * download link for phones, revoke a user (secret unloaded, its SAs terminated).
 *
 * Where things live, and why:
 * - The user's secret goes to the daemon over vici (`load-shared`, type EAP, with an id of ours), as swanctl
 *   would load it, so charon and cygnet take it alike. It is also written to the console's users file
 *   (mode 0600, swanctl.conf `secrets` syntax: `include` it from swanctl.conf so the daemon has the users at
 *   start); the console loads them all again whenever it (re)connects to vici.
 * - vici's list-conns has no proposals, DNS servers or pool families, which a client profile needs, so profiles
 *   are built from the gateway's swanctl.conf (`profile_config`, read only) exactly as `cygnet client-profile`
 *   builds them.
 * - The secret is shown once, in the answer to "create"; no later answer carries it, and profiles leave the
 *   password out (the device asks for it).
 * - A QR link is a random 256-bit token, good for one download within 15 minutes, and names no secret.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { renderSVG } from 'uqr';
import { issueCertificate, signCrl } from '../pki/build.js';
import { loadCertificate, type Certificate } from '../pki/certificate.js';
import { generateKey } from '../pki/keygen.js';
import { loadPrivateKey, publicKeyOf, type PrivateKey } from '../pki/keys.js';
import { buildPkcs12 } from '../pki/pkcs12.js';
import { loadSettings } from '../config/index.js';
import { buildForProfile, buildMobileconfig, buildSswan, buildWindowsScript, profileInput, PROFILE_FORMATS, type ClientProfileInput, type ProfileFormat } from '../profile/index.js';
import { str, type ViciInput, type ViciMessage } from '../vici/message.js';
import { sasOf } from './views.js';

export const USER_NAME = /^[A-Za-z0-9._@-]{1,64}$/;
const LINK_TTL_MS = 15 * 60_000;

export interface OnboardingOptions {
  /** The gateway's swanctl.conf, for building profiles. */
  readonly profileConfig: string;
  /** The CA that issued the gateway's certificate (default: the only one in x509ca/ beside profileConfig). */
  readonly profileCa?: string;
  /** The name clients connect to (default: the connection's local_addrs). */
  readonly profileServer?: string;
  /** Where created users are kept (swanctl.conf secrets syntax, 0600). */
  readonly usersFile: string;
  /** Certificate users: the CA that issues their certificates (PEM/DER) and its private key. */
  readonly caCert?: string;
  readonly caKey?: string;
  /** Where the CRL of revoked certificate users is written (DER; default: beside the users file). */
  readonly crlFile?: string;
}

export interface CertUser {
  readonly name: string;
  readonly connection: string;
  readonly created: string;
  /** Serial number, hex. */
  readonly serial: string;
  /** The PKCS#12's password: src/profile needs it to read the bundle; no profile or answer repeats it. */
  readonly p12Password: string;
}

export interface RevokedSerial {
  readonly serial: string;
  readonly date: string;
}

export interface OnboardingVici {
  request(command: string, msg?: ViciInput): Promise<ViciMessage>;
  list(command: string, event: string, msg?: ViciInput): Promise<ViciMessage[]>;
  control(command: 'terminate', msg: ViciInput): Promise<{ success: boolean; errmsg?: string }>;
}

export interface OnboardedUser {
  readonly name: string;
  readonly connection: string;
  readonly created: string;
  readonly secret: string;
}

export class OnboardingError extends Error {
  override readonly name = 'OnboardingError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const FORMAT_FILES: Record<ProfileFormat, { ext: string; type: string }> = {
  mobileconfig: { ext: 'mobileconfig', type: 'application/x-apple-aspen-config' },
  windows: { ext: 'ps1', type: 'text/plain; charset=utf-8' },
  sswan: { ext: 'sswan', type: 'application/vnd.strongswan.profile' },
};

function viciId(user: string): string {
  return `console-eap-${user}`;
}

/** A password people can type on a phone: 20 characters of RFC 4648 base32 (100 bits). */
function newSecret(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return [...randomBytes(20)].map((b) => alphabet[b & 31]).join('');
}

export function parseUsersFile(text: string): OnboardedUser[] {
  const out: OnboardedUser[] = [];
  // Our own format: a `# user NAME connection=C created=ISO` comment before each section.
  const re = /# user (\S+) connection=(\S+) created=(\S+)\n\s*console-eap-\S+ \{\n\s*id = (\S+)\n\s*secret = "([A-Z2-7]+)"\n\s*\}/g;
  for (const m of text.matchAll(re)) {
    const [, name, connection, created, id, secret] = m;
    if (name && connection && created && secret && id === name) out.push({ name, connection, created, secret });
  }
  return out;
}

export function formatUsersFile(users: readonly OnboardedUser[], certUsers: readonly CertUser[] = [], revoked: readonly RevokedSerial[] = []): string {
  const body = users.map((u) => `  # user ${u.name} connection=${u.connection} created=${u.created}\n  ${viciId(u.name)} {\n    id = ${u.name}\n    secret = "${u.secret}"\n  }\n`).join('');
  const certs = certUsers.map((u) => `# certuser ${u.name} connection=${u.connection} created=${u.created} serial=${u.serial} p12=${u.p12Password}\n`).join('');
  const crl = revoked.map((r) => `# revoked serial=${r.serial} date=${r.date}\n`).join('');
  return `# EAP users created in cygnet console (include this file from swanctl.conf). Written by the console: do not edit.\nsecrets {\n${body}}\n${certs}${crl}`;
}

export function parseCertUsers(text: string): { certUsers: CertUser[]; revoked: RevokedSerial[] } {
  const certUsers: CertUser[] = [];
  const revoked: RevokedSerial[] = [];
  for (const m of text.matchAll(/^# certuser (\S+) connection=(\S+) created=(\S+) serial=([0-9a-f]+) p12=([A-Z2-7]+)$/gm)) {
    const [, name, connection, created, serial, p12Password] = m;
    if (name && connection && created && serial && p12Password) certUsers.push({ name, connection, created, serial, p12Password });
  }
  for (const m of text.matchAll(/^# revoked serial=([0-9a-f]+) date=(\S+)$/gm)) {
    const [, serial, date] = m;
    if (serial && date) revoked.push({ serial, date });
  }
  return { certUsers, revoked };
}

export class Onboarding {
  private users: OnboardedUser[] = [];
  private certUsers: CertUser[] = [];
  private revoked: RevokedSerial[] = [];
  private readonly links = new Map<string, { connection: string; user: string; format: string; expires: number }>();

  constructor(
    readonly opts: OnboardingOptions,
    private readonly vici: OnboardingVici,
    private readonly log: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  async load(): Promise<void> {
    if (!existsSync(this.opts.usersFile)) return;
    const text = await readFile(this.opts.usersFile, 'utf8');
    this.users = parseUsersFile(text);
    ({ certUsers: this.certUsers, revoked: this.revoked } = parseCertUsers(text));
  }

  /** Load every user's secret into the daemon (after a (re)connect: the daemon may have restarted). */
  async pushAll(): Promise<void> {
    for (const u of this.users) {
      const r = await this.vici.request('load-shared', { id: viciId(u.name), type: 'EAP', data: u.secret, owners: [u.name] });
      if (str(r.success) !== 'yes') this.log(`console: loading EAP user '${u.name}' into the daemon failed: ${str(r.errmsg) ?? ''}`);
    }
    if (this.revoked.length > 0 && existsSync(this.crlFile())) await this.loadCrl(new Uint8Array(await readFile(this.crlFile())));
  }

  private crlFile(): string {
    return this.opts.crlFile ?? join(dirname(this.opts.usersFile), 'console-users.crl');
  }

  private p12File(user: string): string {
    return join(`${this.opts.usersFile}.d`, `${user}.p12`);
  }

  private async loadCrl(der: Uint8Array): Promise<void> {
    const r = await this.vici.request('load-cert', { type: 'X509_CRL', flag: 'NONE', data: der });
    if (str(r.success) !== 'yes') throw new OnboardingError(502, `the daemon refused the CRL: ${str(r.errmsg) ?? 'load-cert failed'}`);
  }

  /** The CA that issues certificate users, or why there is none. */
  private issuer(): { cert: Certificate; key: PrivateKey } {
    if (this.opts.caCert === undefined || this.opts.caKey === undefined) throw new OnboardingError(409, 'certificate users need ca_cert and ca_key in the console configuration');
    try {
      const cert = loadCertificate(new Uint8Array(readFileSync(this.opts.caCert)), this.opts.caCert);
      const key = loadPrivateKey(new Uint8Array(readFileSync(this.opts.caKey)), { name: this.opts.caKey });
      return { cert, key };
    } catch (e) {
      throw new OnboardingError(409, `the issuing CA: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Road-warrior connections of the profile configuration, with how their users authenticate. */
  connections(): { name: string; auth: string; eap: boolean; cert: boolean }[] {
    const src = this.source();
    const canIssue = this.opts.caCert !== undefined && this.opts.caKey !== undefined;
    const out: { name: string; auth: string; eap: boolean; cert: boolean }[] = [];
    for (const [name, conn] of src.config.connections) {
      // The first remote round is how users log in; EAP rounds are kept aside by buildForProfile.
      const round = conn.remote[0];
      const eap = [...src.eapAuth].find(([k]) => k.startsWith(`${name}.remote`))?.[1];
      const auth = (eap ?? round?.auth)?.text ?? '';
      const cls = (eap ?? round?.auth)?.class;
      out.push({ name, auth, eap: cls === 'eap' && auth !== 'eap-tls', cert: canIssue && (cls === 'pubkey' || auth === 'eap-tls') });
    }
    return out;
  }

  list(): { name: string; connection: string; created: string; kind: 'eap' | 'cert' }[] {
    return [
      ...this.users.map(({ name, connection, created }) => ({ name, connection, created, kind: 'eap' as const })),
      ...this.certUsers.map(({ name, connection, created }) => ({ name, connection, created, kind: 'cert' as const })),
    ];
  }

  private exists(user: string): boolean {
    return this.users.some((u) => u.name === user) || this.certUsers.some((u) => u.name === user);
  }

  /**
   * A certificate user: a P-256 key and a certificate (CN and subjectAltName = the user, clientAuth, two years)
   * issued by the configured CA, in a PKCS#12 whose password is returned once. The PKCS#12 is kept (0600) for
   * later profile downloads, which leave its password out.
   */
  async createCert(connection: string, user: string, by: string): Promise<{ user: string; secret: string }> {
    if (!USER_NAME.test(user)) throw new OnboardingError(400, `user name '${user}' may only have letters, digits and . _ @ - (at most 64)`);
    const conn = this.connections().find((c) => c.name === connection);
    if (!conn) throw new OnboardingError(400, `no road-warrior connection '${connection}' in ${this.opts.profileConfig}`);
    if (!conn.cert) throw new OnboardingError(400, `connection '${connection}' does not take certificate users (${conn.auth || 'no method'}), or no ca_cert/ca_key is configured`);
    if (this.exists(user)) throw new OnboardingError(409, `user '${user}' exists already (revoke it first)`);
    const { cert: ca, key: caKey } = this.issuer();
    const key = generateKey({ type: 'ecdsa', size: 256 });
    const serial = new Uint8Array(randomBytes(8));
    serial[0] = (serial[0] ?? 0) & 0x7f;
    const now = this.now();
    const cert = issueCertificate({ subject: `CN=${user}`, publicKey: publicKeyOf(key), issuer: ca, signingKey: caKey, serial, notBefore: now - 60_000, notAfter: now + 2 * 365 * 86_400_000, san: [user], flags: ['clientAuth'] });
    const password = newSecret();
    const p12 = buildPkcs12({ key, cert, chain: [ca], password, friendlyName: user, random: (n) => new Uint8Array(randomBytes(n)) });
    await mkdir(`${this.opts.usersFile}.d`, { recursive: true, mode: 0o700 });
    await writeFile(this.p12File(user), p12, { mode: 0o600 });
    this.certUsers.push({ name: user, connection, created: new Date(now).toISOString(), serial: Buffer.from(serial).toString('hex'), p12Password: password });
    await this.save();
    this.log(`console: user '${by}' issued a certificate for '${user}' (serial ${Buffer.from(serial).toString('hex')}) for connection '${connection}'`);
    return { user, secret: password };
  }

  async create(connection: string, user: string, by: string): Promise<{ user: string; secret: string }> {
    if (!USER_NAME.test(user)) throw new OnboardingError(400, `user name '${user}' may only have letters, digits and . _ @ - (at most 64)`);
    const conn = this.connections().find((c) => c.name === connection);
    if (!conn) throw new OnboardingError(400, `no road-warrior connection '${connection}' in ${this.opts.profileConfig}`);
    if (!conn.eap) throw new OnboardingError(400, `connection '${connection}' authenticates users with ${conn.auth || 'no method'}, not an EAP password: certificate users are not created by the console yet`);
    if (this.exists(user)) throw new OnboardingError(409, `user '${user}' exists already (revoke it first to make a new secret)`);
    const secret = newSecret();
    const r = await this.vici.request('load-shared', { id: viciId(user), type: 'EAP', data: secret, owners: [user] });
    if (str(r.success) !== 'yes') throw new OnboardingError(502, `the daemon refused the EAP secret: ${str(r.errmsg) ?? 'load-shared failed'}`);
    this.users.push({ name: user, connection, created: new Date(this.now()).toISOString(), secret });
    await this.save();
    this.log(`console: user '${by}' created EAP user '${user}' for connection '${connection}'`);
    return { user, secret };
  }

  /** Unload the secret, forget the user, terminate the user's IKE SAs. Returns how many SAs were terminated. */
  async revoke(user: string, by: string): Promise<number> {
    const u = this.users.find((x) => x.name === user);
    const c = this.certUsers.find((x) => x.name === user);
    if (!u && !c) throw new OnboardingError(404, `no user '${user}' created in the console`);
    if (u) {
      const r = await this.vici.request('unload-shared', { id: viciId(user) });
      if (str(r.success) !== 'yes') throw new OnboardingError(502, `the daemon did not unload the secret: ${str(r.errmsg) ?? 'unload-shared failed'}`);
      this.users = this.users.filter((x) => x !== u);
    }
    if (c) {
      // RFC 5280 5.1: a new CRL listing every certificate revoked here, loaded into the daemon over vici.
      const { cert: ca, key: caKey } = this.issuer();
      const now = this.now();
      const revoked = [...this.revoked, { serial: c.serial, date: new Date(now).toISOString() }];
      const crl = signCrl({
        issuer: ca,
        signingKey: caKey,
        thisUpdate: now,
        nextUpdate: now + 7 * 86_400_000,
        revoked: revoked.map((r) => ({ serial: new Uint8Array(Buffer.from(r.serial, 'hex')), date: Date.parse(r.date), reason: 'cessation-of-operation' as const })),
        crlNumber: Uint8Array.of(revoked.length),
      });
      await writeFile(this.crlFile(), crl.der, { mode: 0o644 });
      await this.loadCrl(crl.der);
      this.revoked = revoked;
      this.certUsers = this.certUsers.filter((x) => x !== c);
      await unlink(this.p12File(user)).catch(() => {});
    }
    await this.save();
    let terminated = 0;
    for (const m of await this.vici.list('list-sas', 'list-sa')) {
      for (const [name, body] of Object.entries(m)) {
        const sa = sasOf({ [name]: body })[0];
        const eapId = typeof body === 'object' && !Array.isArray(body) && !(body instanceof Uint8Array) ? str(body['remote-eap-id']) : undefined;
        if (!sa || (eapId !== user && sa.remoteId !== user && sa.remoteId !== `CN=${user}`)) continue;
        const t = await this.vici.control('terminate', { 'ike-id': Number(sa.uniqueId), timeout: 10_000 });
        if (t.success) terminated++;
        else this.log(`console: terminating IKE SA ${sa.name}[${sa.uniqueId}] of revoked user '${user}' failed: ${t.errmsg ?? ''}`);
      }
    }
    this.log(`console: user '${by}' revoked ${u ? 'EAP' : 'certificate'} user '${user}'${c ? ` (serial ${c.serial} in the CRL)` : ''} (${terminated} IKE SA${terminated === 1 ? '' : 's'} terminated)`);
    return terminated;
  }

  profile(connection: string, user: string, format: string): { body: string | Uint8Array; type: string; filename: string } {
    const u = this.users.find((x) => x.name === user && x.connection === connection);
    const c = this.certUsers.find((x) => x.name === user && x.connection === connection);
    if (format === 'p12') {
      if (!c) throw new OnboardingError(404, `no certificate user '${user}' for connection '${connection}'`);
      return { body: new Uint8Array(readFileSync(this.p12File(user))), type: 'application/x-pkcs12', filename: `${user}.p12` };
    }
    if (!(PROFILE_FORMATS as readonly string[]).includes(format)) throw new OnboardingError(400, `format '${format}' is not one of ${PROFILE_FORMATS.join(', ')}${c ? ', p12' : ''}`);
    const f = format as ProfileFormat;
    if (!u && !c) throw new OnboardingError(404, `no user '${user}' for connection '${connection}'`);
    const src = this.source();
    const ca = this.ca();
    const pkcs12 = c ? { der: new Uint8Array(readFileSync(this.p12File(user))), name: `${user}.p12`, password: c.p12Password } : undefined;
    let input: ClientProfileInput;
    try {
      const built = profileInput(src, { connection, user, ca, ...(pkcs12 ? { pkcs12 } : {}), ...(this.opts.profileServer !== undefined ? { server: this.opts.profileServer } : {}) }).input;
      // The PKCS#12's password is read here but never written into a profile: the device asks for it on import.
      input = built.pkcs12 ? { ...built, pkcs12: { ...built.pkcs12, password: undefined } } : built;
    } catch (e) {
      throw new OnboardingError(409, `cannot build a profile for '${connection}': ${e instanceof Error ? e.message : String(e)}`);
    }
    const random = (n: number) => new Uint8Array(randomBytes(n));
    const out = f === 'mobileconfig' ? buildMobileconfig(input, random) : f === 'windows' ? buildWindowsScript(input) : buildSswan(input, random);
    const file = FORMAT_FILES[f];
    return { body: out.text, type: file.type, filename: `${connection}-${user}.${file.ext}` };
  }

  /** A one-time download link for a phone, and its QR code as SVG. */
  link(connection: string, user: string, format: string, origin: string): { url: string; svg: string } {
    this.profile(connection, user, format); // fails now, not on the phone, if the profile cannot be built
    this.expire();
    const token = randomBytes(32).toString('base64url');
    this.links.set(token, { connection, user, format, expires: this.now() + LINK_TTL_MS });
    const url = `${origin}/p/${token}`;
    return { url, svg: renderSVG(url, { ecc: 'M', border: 2 }) };
  }

  /** Redeem a one-time link (undefined when unknown, used or expired). */
  redeem(token: string): { body: string | Uint8Array; type: string; filename: string } | undefined {
    this.expire();
    const l = this.links.get(token);
    if (!l) return undefined;
    this.links.delete(token);
    this.log(`console: one-time ${l.format} profile of '${l.user}' downloaded`);
    return this.profile(l.connection, l.user, l.format);
  }

  private expire(): void {
    const t = this.now();
    for (const [k, l] of this.links) if (l.expires <= t) this.links.delete(k);
  }

  private source(): ReturnType<typeof buildForProfile> {
    try {
      const tree = loadSettings(this.opts.profileConfig, { readFile: (f) => readFileSync(f, 'utf8'), listDir: (d) => readdirSync(d) });
      return buildForProfile(tree);
    } catch (e) {
      throw new OnboardingError(409, `the profile configuration: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private ca(): { der: Uint8Array; name: string } | undefined {
    const read = (file: string) => ({ der: new Uint8Array(readFileSync(file)), name: file });
    if (this.opts.profileCa !== undefined) return read(this.opts.profileCa);
    const dir = join(dirname(this.opts.profileConfig), 'x509ca');
    if (!existsSync(dir)) return undefined;
    const files = readdirSync(dir).filter((f) => /\.(pem|crt|cer|der)$/i.test(f));
    return files.length === 1 ? read(join(dir, files[0] ?? '')) : undefined;
  }

  private async save(): Promise<void> {
    const tmp = `${this.opts.usersFile}.tmp`;
    await writeFile(tmp, formatUsersFile(this.users, this.certUsers, this.revoked), { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, this.opts.usersFile);
  }
}

export function isProfileFormat(f: string): f is ProfileFormat {
  return (PROFILE_FORMATS as readonly string[]).includes(f);
}

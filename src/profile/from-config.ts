/**
 * From the gateway's swanctl.conf to a ClientProfileInput: which connection, where clients connect, who the
 * gateway is, how users authenticate, what the tunnel carries, and the credentials to ship. Pure: the CLI reads
 * the files and passes the parsed settings tree and the certificate bytes in.
 *
 * EAP: until the configuration builder accepts `auth = eap-...` (issue 14), a connection that uses it would be
 * refused as a whole. When the builder refuses a configuration with EAP rounds, buildForProfile reads those
 * rounds' `auth` from the parsed tree itself and lets the builder see `pubkey` in its place, so everything else
 * (proposals, lifetimes, pools, traffic selectors) still comes from the one builder, with its defaults and its
 * file:line errors. Only the methods issue 14 brings are stood in for; any other stays the builder's error. Once
 * the builder takes EAP, the first build succeeds and the stand-in is never used.
 */
import { defaultProposals, parseProposals, type ProposalProtocol } from '../crypto/proposals.js';
import { buildSwanctlConfig } from '../config/build.js';
import { ConfigError, type ConfigWarning } from '../config/errors.js';
import type { SettingsKey, SettingsSection } from '../config/parser.js';
import type { AuthMethod, ConnectionConfig, SwanctlConfig } from '../config/schema.js';
import { suggest } from '../config/suggest.js';
import type { TrafficSelectorSpec } from '../config/values.js';
import { loadCertificate, type Certificate } from '../pki/certificate.js';
import { PkiError } from '../pki/errors.js';
import { namesEqual } from '../pki/name.js';
import { certificateForKey, parsePkcs12 } from '../pki/pkcs12.js';
import type { ProposalEntry } from './algorithms.js';
import { ProfileError } from './errors.js';
import { usesCertificate, type ClientAuth, type ClientCa, type ClientPkcs12, type ClientProfileInput } from './input.js';

export interface ProfileSourceConfig {
  readonly config: SwanctlConfig;
  readonly warnings: readonly ConfigWarning[];
  /** The `auth` of each round the builder was shown `pubkey` for, by `<connection>.<section>`. */
  readonly eapAuth: ReadonlyMap<string, AuthMethod>;
}

/**
 * Builds the typed configuration from a parsed swanctl.conf tree, keeping EAP rounds (see the file comment):
 * as it is when the builder takes it, else with `pubkey` shown in place of each EAP round's auth.
 */
export function buildForProfile(root: SettingsSection): ProfileSourceConfig {
  try {
    const { config, warnings } = buildSwanctlConfig(root);
    return { config, warnings, eapAuth: new Map() };
  } catch (e) {
    if (!(e instanceof ConfigError) || !usesEap(root)) throw e;
  }
  const eapAuth = new Map<string, AuthMethod>();
  // Sections that inherit (`t520 : connections.rw`) may share key objects with their template: read every
  // original value first, then replace.
  const originals = new Map<SettingsKey, string>();
  const rounds: [string, SettingsKey][] = [];
  for (const conn of root.sections.get('connections')?.sections.values() ?? []) {
    for (const sub of conn.sections.values()) {
      const l = sub.name.toLowerCase();
      if (!l.startsWith('local') && !l.startsWith('remote')) continue;
      const key = sub.keys.get('auth');
      if (key === undefined || key.value === null) continue;
      if (!originals.has(key)) originals.set(key, key.value);
      rounds.push([`${conn.name}.${sub.name}`, key]);
    }
  }
  for (const [where, key] of rounds) {
    const text = (originals.get(key) ?? '').trim();
    if (!isEap(text)) continue;
    const l = text.toLowerCase();
    eapAuth.set(where, { class: 'eap', ...(l.startsWith('eap-') ? { method: l.slice(4) } : {}), text });
    key.value = 'pubkey';
  }
  const { config, warnings } = buildSwanctlConfig(root);
  return { config, warnings, eapAuth };
}

/** `eap` and the `eap-<method>` values issue 14 implements (strongSwan's names). */
const EAP_AUTH = new Set(['eap', 'eap-mschapv2', 'eap-tls', 'eap-md5', 'eap-dynamic', 'eap-radius']);
const isEap = (auth: string | null | undefined): boolean => EAP_AUTH.has((auth ?? '').trim().toLowerCase());

function usesEap(root: SettingsSection): boolean {
  for (const conn of root.sections.get('connections')?.sections.values() ?? []) {
    for (const sub of conn.sections.values()) if (isEap(sub.keys.get('auth')?.value)) return true;
  }
  return false;
}

export interface CredentialBytes {
  readonly der: Uint8Array;
  /** The file it came from, for messages. */
  readonly name: string;
}

export interface ProfileOptions {
  readonly connection: string;
  /** --server: where clients connect (default: the connection's first specific local_addrs). */
  readonly server?: string;
  /** --user: the client's identity or EAP user name. */
  readonly user?: string;
  /** --name: the profile's display name. */
  readonly displayName?: string;
  /** The CA that issued the gateway's certificate (--ca, or the only one in x509ca/). */
  readonly ca: CredentialBytes | undefined;
  /** The user's PKCS#12 (--p12) and its password (--p12-password). */
  readonly pkcs12?: CredentialBytes & { readonly password: string | undefined };
  /** The gateway's own certificate (its local.certs), to check the CA and the name clients verify. */
  readonly gatewayCert?: CredentialBytes;
}

export interface ProfileInputResult {
  readonly input: ClientProfileInput;
  readonly notes: readonly string[];
}

function entries(list: readonly string[], protocol: ProposalProtocol): ProposalEntry[] {
  const out: ProposalEntry[] = [];
  for (const source of list) {
    // The builder has checked every string with the same parser; `default` is strongSwan's list for the context.
    const parsed = source.trim().toLowerCase() === 'default' ? defaultProposals(protocol) : parseProposals(source, protocol);
    for (const proposal of parsed) out.push({ index: out.length + 1, source, proposal });
  }
  return out;
}

function clientAuth(auth: AuthMethod, where: string): ClientAuth {
  if (auth.class === 'pubkey') return { kind: 'pubkey' };
  if (auth.class === 'eap') {
    const method = (auth.method ?? '').toLowerCase();
    return method === 'tls' ? { kind: 'eap-tls' } : { kind: 'eap', method };
  }
  throw new ProfileError(
    'UNSUITABLE',
    `${where}: auth = ${auth.text}: road-warrior clients authenticate with EAP (eap-mschapv2, eap-tls...) or a certificate (pubkey); ` +
      'a key shared by every user is not something these profiles hand out',
  );
}

function credentialError(e: unknown, name: string, what: string): ProfileError {
  const why = e instanceof Error ? e.message : String(e);
  return new ProfileError('BAD_CREDENTIAL', `${name}: cannot read ${what}: ${why}`);
}

function commonName(cert: Certificate): string | undefined {
  // id-at-commonName (RFC 5280 appendix A); the last one is the most specific.
  return cert.subject.rdns.filter((r) => r.oid === '2.5.4.3').at(-1)?.value;
}

function readCa(ca: CredentialBytes): { ca: ClientCa; cert: Certificate; notes: string[] } {
  let cert: Certificate;
  try {
    cert = loadCertificate(ca.der, ca.name);
  } catch (e) {
    throw credentialError(e, ca.name, 'the CA certificate');
  }
  const notes: string[] = [];
  if (cert.basicConstraints?.ca !== true) {
    notes.push(`${ca.name} (${cert.subject.text}) is not a CA certificate (no basicConstraints CA:TRUE): devices will not accept it as a trust anchor`);
  }
  return { ca: { der: cert.der, subject: cert.subject.text, commonName: commonName(cert) }, cert, notes };
}

function readPkcs12(p12: CredentialBytes & { readonly password: string | undefined }): { pkcs12: ClientPkcs12; cert: Certificate } {
  let contents: ReturnType<typeof parsePkcs12>;
  try {
    contents = parsePkcs12(p12.der, p12.password ?? '', p12.name);
  } catch (e) {
    if (e instanceof PkiError && e.code === 'NEED_PASSPHRASE' && p12.password === undefined) {
      throw new ProfileError('BAD_CREDENTIAL', `${p12.name}: the PKCS#12 is protected by a password: pass --p12-password`);
    }
    throw credentialError(e, p12.name, 'the PKCS#12');
  }
  const key = contents.keys[0]?.value;
  if (key === undefined) throw new ProfileError('BAD_CREDENTIAL', `${p12.name}: the PKCS#12 holds no private key`);
  const cert = certificateForKey(key, contents.certs.map((c) => c.value));
  if (cert === undefined) throw new ProfileError('BAD_CREDENTIAL', `${p12.name}: the PKCS#12 holds no certificate for its private key`);
  const keyType =
    key.type === 'rsa' ? 'RSA' : key.type === 'ecdsa' && (key.bits === 256 || key.bits === 384 || key.bits === 521) ? (`ECDSA${key.bits}` as const) : undefined;
  return { pkcs12: { der: p12.der, password: p12.password, keyType, subject: cert.subject.text }, cert };
}

/** The identity a certificate user sends: its first e-mail or DNS subjectAltName, else the subject DN. */
function certificateIdentity(cert: Certificate): string {
  const san = cert.subjectAltNames.find((g) => g.type === 'email' || g.type === 'dns');
  return san !== undefined && (san.type === 'email' || san.type === 'dns') ? san.value : cert.subject.text;
}

function tunnelled(ts: readonly TrafficSelectorSpec[]): { subnets: string[]; v4: boolean; v6: boolean; dynamic: boolean } {
  const out = { subnets: [] as string[], v4: false, v6: false, dynamic: false };
  for (const t of ts) {
    if (t.kind === 'dynamic' || t.first === undefined || t.last === undefined) {
      out.dynamic = true;
      continue;
    }
    if (t.kind === 'subnet' && t.prefix === 0) {
      if (t.first.family === 4) out.v4 = true;
      else out.v6 = true;
      continue;
    }
    out.subnets.push(t.kind === 'subnet' ? `${t.first.text}/${t.prefix}` : `${t.first.text}-${t.last.text}`);
  }
  return out;
}

function serverOf(conn: ConnectionConfig): string | undefined {
  for (const a of conn.local_addrs) {
    if (a.kind === 'fqdn') return a.name;
    if (a.kind === 'ip') return a.address.text;
  }
  return undefined;
}

/** Everything a profile needs, or a ProfileError naming what is missing. */
export function profileInput(src: ProfileSourceConfig, opts: ProfileOptions): ProfileInputResult {
  const { config } = src;
  const conn = config.connections.get(opts.connection);
  if (conn === undefined) {
    const names = [...config.connections.keys()];
    const s = suggest(opts.connection, names);
    const hint = s !== undefined ? `; did you mean '${s}'?` : names.length > 0 ? ` (it has ${names.map((n) => `'${n}'`).join(', ')})` : ' (it has none)';
    throw new ProfileError('NO_CONNECTION', `no connection '${opts.connection}' in the configuration${hint}`);
  }
  const path = `${conn.loc.file}:${conn.loc.line}: connections.${conn.name}`;
  const notes: string[] = [];

  const remote = conn.remote[0];
  const local = conn.local[0];
  if (remote === undefined || local === undefined) throw new ProfileError('UNSUITABLE', `${path}: no local or remote authentication round`);
  const auth = clientAuth(src.eapAuth.get(`${conn.name}.${remote.section}`) ?? remote.auth, `${path}.${remote.section}`);
  const localAuth = src.eapAuth.get(`${conn.name}.${local.section}`) ?? local.auth;
  if (localAuth.class !== 'pubkey') {
    throw new ProfileError('UNSUITABLE', `${path}.${local.section}: auth = ${localAuth.text}: the clients expect the gateway to authenticate with its certificate (auth = pubkey)`);
  }
  const child = [...conn.children.values()][0];
  if (child === undefined) throw new ProfileError('UNSUITABLE', `${path}: no children { }: a client needs a CHILD SA to send traffic through`);
  if (conn.children.size > 1) notes.push(`${path}: has ${conn.children.size} children; the profile follows the first, '${child.name}'`);

  const server = opts.server ?? serverOf(conn);
  if (server === undefined) {
    throw new ProfileError('NO_SERVER', `${path}: local_addrs names no address or DNS name clients could connect to: pass --server HOST (the gateway's public name)`);
  }

  if (opts.ca === undefined) {
    throw new ProfileError(
      'NO_CA',
      `no CA certificate: pass --ca FILE with the CA that issued the gateway's certificate (clients trust the gateway through it), or keep exactly one in x509ca/ beside the configuration`,
    );
  }
  const ca = readCa(opts.ca);
  notes.push(...ca.notes);

  let gatewayCert: Certificate | undefined;
  if (opts.gatewayCert !== undefined) {
    try {
      gatewayCert = loadCertificate(opts.gatewayCert.der, opts.gatewayCert.name);
    } catch (e) {
      throw credentialError(e, opts.gatewayCert.name, "the gateway's certificate");
    }
    if (!namesEqual(gatewayCert.issuer, ca.cert.subject)) {
      notes.push(
        `the gateway's certificate ${opts.gatewayCert.name} is issued by "${gatewayCert.issuer.text}", not by the CA in the profile ("${ca.ca.subject}"): clients will not trust the gateway`,
      );
    }
    const names = gatewayCert.subjectAltNames.map((g) => (g.type === 'ip' || g.type === 'dn' || g.type === 'other' ? g.text : g.value));
    if (!names.some((n) => n.toLowerCase() === server.toLowerCase())) {
      notes.push(
        `the gateway's certificate ${opts.gatewayCert.name} has no subjectAltName '${server}' (it has ${names.length > 0 ? names.join(', ') : 'none'}): Windows and Apple clients check the server name against it`,
      );
    }
  }

  // strongSwan's default local identity is the certificate's subject (swanctl.conf(5) local.id).
  const serverId = (local.id ?? gatewayCert?.subject.text ?? server).replace(/^@/, '');
  if (local.id === undefined) {
    notes.push(`${path}.${local.section}: no id: clients are told to expect '${serverId}'; set local.id = ${server} so the gateway sends the name they check`);
  }

  let pkcs12: ClientPkcs12 | undefined;
  let user = opts.user;
  if (opts.pkcs12 !== undefined) {
    const p = readPkcs12(opts.pkcs12);
    pkcs12 = p.pkcs12;
    if (!namesEqual(p.cert.issuer, ca.cert.subject)) {
      notes.push(`the user certificate in ${opts.pkcs12.name} is issued by "${p.cert.issuer.text}", not by the profile's CA; the gateway must trust that issuer (remote.cacerts)`);
    }
    if (user === undefined && usesCertificate(auth)) user = certificateIdentity(p.cert);
    if (p.pkcs12.keyType === undefined) notes.push(`${opts.pkcs12.name}: the key is neither RSA nor ECDSA P-256/384/521, which Apple and Windows clients cannot use`);
  } else if (usesCertificate(auth)) {
    throw new ProfileError(
      'NO_PKCS12',
      `${path}.${remote.section}: auth = ${remote.auth.class === 'eap' ? 'eap-tls' : 'pubkey'}: users authenticate with a certificate, so the profile needs theirs: pass --p12 FILE --p12-password PW (cygnet pki --pkcs12 --create)`,
    );
  }
  if (auth.kind === 'eap' && auth.method === 'radius') {
    notes.push(`${path}.${remote.section}: auth = eap-radius: the EAP method is the RADIUS server's choice; the profiles assume user name and password (EAP-MSCHAPv2)`);
  }

  const ts = tunnelled(child.local_ts);
  if (ts.dynamic && ts.subnets.length === 0 && !ts.v4 && !ts.v6) {
    notes.push(`${path}.children.${child.name}: local_ts = dynamic: the tunnel carries traffic to the gateway's own address only`);
  }
  const dns: string[] = [];
  const families = { v4: false, v6: false };
  for (const p of conn.pools) {
    const pool = config.pools.get(p);
    if (pool === undefined) continue;
    for (const d of pool.dns) if (!dns.includes(d.text)) dns.push(d.text);
    if (pool.addrs.first.family === 4) families.v4 = true;
    else families.v6 = true;
  }
  if (conn.pools.length === 0) notes.push(`${path}: no pools: clients get no virtual IP and no DNS servers from the gateway`);

  const input: ClientProfileInput = {
    connection: conn.name,
    displayName: opts.displayName ?? server,
    server,
    port: conn.local_port,
    serverId,
    auth,
    user,
    ikeProposals: entries(conn.proposals, 'ike'),
    espProposals: entries(child.esp_proposals, 'esp'),
    ikeRekeyMs: conn.rekey_time !== 0 ? conn.rekey_time : conn.reauth_time,
    childRekeyMs: child.rekey_time,
    dpdDelayMs: conn.dpd_delay,
    subnets: ts.subnets,
    fullTunnel: { v4: ts.v4, v6: ts.v6 },
    poolFamilies: families,
    dns,
    ca: ca.ca,
    pkcs12,
  };
  return { input, notes };
}

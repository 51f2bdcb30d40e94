/**
 * What vici clients loaded (swanctl --load-all): connections, shared secrets, private keys, certificates,
 * authorities and pools, kept as charon's vici plugin keeps them (vici_config.c, vici_cred.c, vici_authority.c,
 * vici_attribute.c) beside whatever the daemon's own file configures.
 *
 * The store is pure data. `toSettingsObject()` turns it into swanctl.conf's tree (connections, secrets, pools,
 * authorities in swanctl.conf key names), which src/config's builder reads like the file itself: so a vici-loaded
 * connection is exactly what the same text in cygnet's file would give. Binary values swanctl sends in place of
 * file names (`certs`, `cacerts` and `cacert` hold the files' contents, swanctl load_conns.c add_file_list_key)
 * are parsed here and stand in the tree as `vici:<sha1 of the DER>` names, which the daemon's certificate
 * resolver looks up in `certificates()`.
 *
 * Every mutation is staged by the command layer: it snapshots (`clone`), changes, asks the daemon to apply, and
 * restores the snapshot when the daemon refuses (a connection that does not build), as charon answers
 * `success = no` and keeps the previous state.
 */
import { createHash } from 'node:crypto';
import { keyIdSha1, loadCertificate, loadCrl, loadPrivateKey, publicKeyOf, type Certificate, type Crl, type PrivateKey } from '../pki/index.js';
import type { ViciMessage, ViciValue } from './message.js';

/** A settings tree as src/config's settingsFromObject takes it. */
export interface SettingsTree {
  [key: string]: string | string[] | SettingsTree;
}

/** charon's shared_key_type_names for the types vici's load-shared accepts. */
export type SharedKeyType = 'IKE' | 'EAP' | 'NTLM' | 'PPK';

export interface ViciSharedKey {
  readonly type: SharedKeyType;
  readonly data: Uint8Array;
  /** Owner identities; empty means %any. */
  readonly owners: readonly string[];
}

/** certificate_type_names / x509_flag_names as swanctl sends them. */
export type ViciCertFlag = 'NONE' | 'CA' | 'AA' | 'OCSP';

export interface ViciCertEntry {
  readonly type: 'X509' | 'X509_CRL';
  readonly flag: ViciCertFlag;
  readonly der: Uint8Array;
  readonly cert?: Certificate;
  readonly crl?: Crl;
}

export interface ViciAuthorityEntry {
  readonly cacert: Certificate;
  readonly crlUris: readonly string[];
  readonly ocspUris: readonly string[];
  readonly certUriBase?: string;
}

export interface ViciPrivateKeyEntry {
  /** charon's key_type_names: RSA, ECDSA, ED25519. */
  readonly type: string;
  readonly key: PrivateKey;
}

/** A typed problem with what a client sent: becomes `success = no, errmsg = message`. */
export class ViciLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ViciLoadError';
  }
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** The stand-in name of a certificate sent as bytes: `vici:` and the SHA-1 of its DER. */
export function viciCertName(der: Uint8Array): string {
  return `vici:${createHash('sha1').update(der).digest('hex')}`;
}

function text(v: ViciValue): string {
  return typeof v === 'string' ? v : new TextDecoder().decode(v);
}

function bytes(v: ViciValue): Uint8Array {
  return typeof v === 'string' ? new TextEncoder().encode(v) : v;
}

/** Keys whose values swanctl replaces by file contents (load_conns.c is_file_list_key, load_authorities.c). */
const FILE_KEYS = new Set(['certs', 'cacerts', 'cacert']);

export class ViciStore {
  /** load-conn sections as received, in swanctl.conf key names. */
  conns = new Map<string, ViciMessage>();
  /** load-shared by unique id (swanctl sends the secrets section name). */
  shared = new Map<string, ViciSharedKey>();
  /** load-key by key id (hex SHA-1 of the public key bits, charon's KEYID_PUBKEY_SHA1). */
  keys = new Map<string, ViciPrivateKeyEntry>();
  certs: ViciCertEntry[] = [];
  authorities = new Map<string, ViciAuthorityEntry>();
  pools = new Map<string, ViciMessage>();
  /**
   * Pools unloaded while a vici connection still names them: swanctl --load-all unloads pools before
   * connections, and charon's pools are independent of its connections; ours must build as one configuration,
   * so such a pool stays (hidden) until no connection names it (`prune`).
   */
  private retiredPools = new Map<string, ViciMessage>();
  /** Certificates that arrived inside load-conn / load-authority (by their `vici:` name). */
  private embedded = new Map<string, Certificate>();
  private unnamedShared = 0;

  clone(): ViciStore {
    const s = new ViciStore();
    s.conns = new Map(this.conns);
    s.shared = new Map(this.shared);
    s.keys = new Map(this.keys);
    s.certs = [...this.certs];
    s.authorities = new Map(this.authorities);
    s.pools = new Map(this.pools);
    s.retiredPools = new Map(this.retiredPools);
    s.embedded = new Map(this.embedded);
    s.unnamedShared = this.unnamedShared;
    return s;
  }

  /** Replace this store's content by a snapshot's (rollback). */
  restore(from: ViciStore): void {
    Object.assign(this, from.clone());
  }

  // ------------------------------------------------------------------ credentials (vici_cred.c)

  /** load-shared: `type` ike/eap/xauth/ntlm/ppk, `data`, `owners`, optional unique `id`. Returns the id. */
  loadShared(id: string | undefined, type: string, data: Uint8Array, owners: readonly string[]): string {
    const t = type.toLowerCase();
    const kind: SharedKeyType | undefined =
      t === 'ike' ? 'IKE' : t === 'eap' || t === 'xauth' ? 'EAP' : t === 'ntlm' ? 'NTLM' : t === 'ppk' ? 'PPK' : undefined;
    if (kind === undefined) throw new ViciLoadError(`invalid shared key type: ${type}`);
    if (data.length === 0) throw new ViciLoadError('shared key data missing');
    const key = id ?? `%unnamed-${++this.unnamedShared}`;
    this.shared.set(key, { type: kind, data: data.slice(), owners: [...owners] });
    return key;
  }

  /**
   * load-key: `type` is rsa/ecdsa/ed25519 or "any" (swanctl's private/ and pkcs8/), `data` the DER (or PEM) key.
   * Returns the key id as charon prints it ("%+B": hex without colons).
   */
  loadKey(type: string, data: Uint8Array): { id: string; type: string } {
    const t = type.toLowerCase();
    if (!['any', 'rsa', 'ecdsa', 'ed25519'].includes(t)) throw new ViciLoadError(`invalid key type: ${type}`);
    if (data.length === 0) throw new ViciLoadError('key data missing');
    let key: PrivateKey;
    try {
      key = loadPrivateKey(data, { name: `${t} private key` });
    } catch (e) {
      throw new ViciLoadError(`parsing ${t === 'any' ? 'ANY' : t.toUpperCase()} private key failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (t !== 'any' && key.type !== t) throw new ViciLoadError(`parsing ${t.toUpperCase()} private key failed: it is an ${key.type.toUpperCase()} key`);
    const id = hex(keyIdSha1(publicKeyOf(key)));
    const name = key.type.toUpperCase();
    this.keys.set(id, { type: name, key });
    return { id, type: name };
  }

  unloadKey(id: string): void {
    if (!this.keys.delete(id.replace(/:/g, '').toLowerCase())) throw new ViciLoadError('key not found');
  }

  /** load-cert: `type` X509 (flag NONE, CA, AA, OCSP) or X509_CRL; `data` DER or PEM. Returns the subject. */
  loadCert(type: string, flag: string | undefined, data: Uint8Array): string {
    if (data.length === 0) throw new ViciLoadError('certificate data missing');
    const f = (flag ?? 'NONE').toUpperCase();
    if (!['NONE', 'CA', 'AA', 'OCSP'].includes(f)) throw new ViciLoadError(`invalid certificate flag '${flag}'`);
    switch (type.toUpperCase()) {
      case 'X509': {
        let cert: Certificate;
        try {
          cert = loadCertificate(data, 'X509 certificate');
        } catch (e) {
          throw new ViciLoadError(`parsing X509 certificate failed: ${e instanceof Error ? e.message : String(e)}`);
        }
        // vici_cred.c: a certificate with the CA basic constraint is a CA certificate whatever the flag says.
        const ca = cert.basicConstraints?.ca === true;
        if (f === 'CA' && !ca) throw new ViciLoadError('ca certificate lacks CA basic constraint, rejected');
        this.certs = this.certs.filter((c) => !(c.cert && bytesEq(c.der, cert.der)));
        this.certs.push({ type: 'X509', flag: ca ? 'CA' : (f as ViciCertFlag), der: cert.der, cert });
        return cert.subject.text;
      }
      case 'X509_CRL': {
        let crl: Crl;
        try {
          crl = loadCrl(data, 'X509 CRL');
        } catch (e) {
          throw new ViciLoadError(`parsing X509_CRL certificate failed: ${e instanceof Error ? e.message : String(e)}`);
        }
        this.certs = this.certs.filter((c) => !(c.crl && bytesEq(c.der, crl.der)));
        this.certs.push({ type: 'X509_CRL', flag: 'NONE', der: crl.der, crl });
        return crl.issuer.text;
      }
      default:
        // X509_AC, X509_OCSP_RESPONSE, PUBKEY, ...: cygnet has no use for them.
        throw new ViciLoadError(`invalid certificate type '${type}' (cygnet loads X509 and X509_CRL)`);
    }
  }

  /** clear-creds: everything vici_cred.c's clear drops (keys, shared secrets, certificates), not authorities. */
  clearCreds(): void {
    this.shared.clear();
    this.keys.clear();
    this.certs = [];
  }

  // ------------------------------------------------------------------ authorities (vici_authority.c)

  loadAuthority(name: string, sec: ViciMessage): void {
    const raw = sec.cacert;
    if (raw === undefined || Array.isArray(raw) || (typeof raw !== 'string' && !(raw instanceof Uint8Array))) {
      const file = sec.file;
      throw new ViciLoadError(file !== undefined ? `CA certificate missing: ${name} (cygnet reads 'cacert' data, not files or tokens)` : `CA certificate missing: ${name}`);
    }
    let cacert: Certificate;
    try {
      cacert = loadCertificate(bytes(raw), `authority ${name} cacert`);
    } catch (e) {
      throw new ViciLoadError(`parsing X509 certificate failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (cacert.basicConstraints?.ca !== true) throw new ViciLoadError('certificate without CA flag, rejected');
    const list = (k: string): string[] => {
      const v = sec[k];
      if (v === undefined) return [];
      if (Array.isArray(v)) return v.map(text);
      if (typeof v === 'string' || v instanceof Uint8Array) return [text(v)];
      throw new ViciLoadError(`invalid value for: ${k}, authority discarded`);
    };
    for (const k of Object.keys(sec)) {
      if (!['cacert', 'file', 'handle', 'slot', 'module', 'crl_uris', 'ocsp_uris', 'cert_uri_base'].includes(k)) {
        throw new ViciLoadError(`unknown option: ${k}, authority discarded`);
      }
    }
    const base = sec.cert_uri_base;
    this.authorities.set(name, {
      cacert,
      crlUris: list('crl_uris'),
      ocspUris: list('ocsp_uris'),
      ...(typeof base === 'string' || base instanceof Uint8Array ? { certUriBase: text(base) } : {}),
    });
  }

  unloadAuthority(name: string): void {
    if (!this.authorities.delete(name)) throw new ViciLoadError(`unload: authority '${name}' not found`);
  }

  // ------------------------------------------------------------------ connections and pools (vici_config.c, vici_attribute.c)

  /** load-conn: certificates sent as data are parsed now, so a bad one names the connection. */
  loadConn(name: string, sec: ViciMessage): void {
    this.collectCerts(sec, `connections.${name}`);
    this.conns.set(name, sec);
  }

  unloadConn(name: string): void {
    if (!this.conns.delete(name)) throw new ViciLoadError(`unloading connection '${name}' failed, not found`);
  }

  loadPool(name: string, sec: ViciMessage): void {
    if (sec.addrs === undefined) throw new ViciLoadError(`missing addresses for pool '${name}'`);
    this.pools.set(name, sec);
  }

  unloadPool(name: string): void {
    const sec = this.pools.get(name);
    if (!sec) throw new ViciLoadError(`${name} not found`);
    this.pools.delete(name);
    if (this.poolReferenced(name)) this.retiredPools.set(name, sec);
  }

  /** Drop retired pools no connection names any more (after a change was applied). */
  prune(): void {
    for (const name of [...this.retiredPools.keys()]) if (!this.poolReferenced(name) || this.pools.has(name)) this.retiredPools.delete(name);
  }

  private poolReferenced(name: string): boolean {
    for (const c of this.conns.values()) {
      const v = c.pools;
      const names = Array.isArray(v) ? v.map(text) : typeof v === 'string' || v instanceof Uint8Array ? text(v).split(/[\s,]+/) : [];
      if (names.includes(name)) return true;
    }
    return false;
  }

  // ------------------------------------------------------------------ views

  /** Certificates by their `vici:` name (embedded in connections, loaded with load-cert, authorities' cacerts). */
  certificate(name: string): Certificate | undefined {
    const e = this.embedded.get(name);
    if (e) return e;
    for (const c of this.certs) if (c.cert && viciCertName(c.der) === name) return c.cert;
    for (const a of this.authorities.values()) if (viciCertName(a.cacert.der) === name) return a.cacert;
    return undefined;
  }

  /** What the daemon's credential set gets: our certificates, CA certificates, CRLs and private keys. */
  credentials(): { certs: Certificate[]; cas: Certificate[]; crls: Crl[]; keys: PrivateKey[] } {
    const certs: Certificate[] = [];
    const cas: Certificate[] = [];
    const crls: Crl[] = [];
    for (const c of this.certs) {
      if (c.crl) crls.push(c.crl);
      else if (c.cert && (c.flag === 'CA' || (c.flag === 'NONE' && c.cert.basicConstraints?.ca === true))) cas.push(c.cert);
      else if (c.cert && c.flag === 'NONE') certs.push(c.cert);
    }
    for (const a of this.authorities.values()) if (!cas.some((c) => bytesEq(c.der, a.cacert.der))) cas.push(a.cacert);
    // Certificates named in connections: the peer's and CAs go with the CAs when they are CA certificates.
    for (const c of this.embedded.values()) {
      if (c.basicConstraints?.ca === true) {
        if (!cas.some((x) => bytesEq(x.der, c.der))) cas.push(c);
      } else if (!certs.some((x) => bytesEq(x.der, c.der))) certs.push(c);
    }
    return { certs, cas, crls, keys: [...this.keys.values()].map((k) => k.key) };
  }

  get empty(): boolean {
    return this.conns.size + this.shared.size + this.keys.size + this.certs.length + this.authorities.size + this.pools.size === 0;
  }

  /**
   * swanctl.conf's tree for src/config: `connections` (bytes in certs/cacerts replaced by `vici:` names), `secrets`
   * (each shared key as `<type>-vici-<n> { secret = 0x..., id-<n> = owner }`) and `pools`.
   */
  toSettingsObject(): SettingsTree {
    const out: SettingsTree = {};
    if (this.conns.size) {
      const conns: SettingsTree = {};
      for (const [name, sec] of this.conns) conns[name] = this.tree(sec);
      out.connections = conns;
    }
    if (this.shared.size) {
      const secrets: SettingsTree = {};
      let n = 0;
      for (const s of this.shared.values()) {
        const sec: SettingsTree = { secret: `0x${hex(s.data)}` };
        s.owners.forEach((o, i) => (sec[`id-${i + 1}`] = o));
        secrets[`${s.type.toLowerCase()}-vici-${++n}`] = sec;
      }
      out.secrets = secrets;
    }
    if (this.pools.size + this.retiredPools.size) {
      const pools: SettingsTree = {};
      for (const [name, sec] of this.retiredPools) if (this.poolReferenced(name)) pools[name] = this.tree(sec);
      for (const [name, sec] of this.pools) pools[name] = this.tree(sec);
      out.pools = pools;
    }
    // Authorities are not part of the tree: their CA certificates join the trust store through credentials(),
    // and cygnet has no per-authority CRL/OCSP/hash-and-URL handling for the builder to read (it would warn on
    // every rebuild); load-authority says so once.
    return out;
  }

  private tree(sec: ViciMessage): SettingsTree {
    const out: SettingsTree = Object.create(null) as SettingsTree;
    for (const [k, v] of Object.entries(sec)) {
      if (FILE_KEYS.has(k) && (typeof v === 'string' || v instanceof Uint8Array || Array.isArray(v))) {
        const items = Array.isArray(v) ? v : [v];
        out[k] = items.map((x) => {
          const data = certData(x);
          return data ? viciCertName(certDer(data)) : text(x);
        });
      } else if (k === 'pubkeys' && (typeof v === 'string' || v instanceof Uint8Array || Array.isArray(v))) {
        // Raw public keys (file contents too): cygnet does not implement them (the builder warns); named, not
        // pasted, so the warning stays printable.
        out[k] = (Array.isArray(v) ? v : [v]).map((x) => (certData(x) ? viciCertName(bytes(x)) : text(x)));
      } else if (Array.isArray(v)) out[k] = v.map(text);
      else if (typeof v === 'string' || v instanceof Uint8Array) out[k] = text(v);
      else out[k] = this.tree(v);
    }
    return out;
  }

  private collectCerts(sec: ViciMessage, path: string): void {
    for (const [k, v] of Object.entries(sec)) {
      if (FILE_KEYS.has(k) && (typeof v === 'string' || v instanceof Uint8Array || Array.isArray(v))) {
        for (const x of Array.isArray(v) ? v : [v]) {
          const data = certData(x);
          if (!data) continue;
          let cert: Certificate;
          try {
            cert = loadCertificate(data, `${path}.${k}`);
          } catch (e) {
            throw new ViciLoadError(`${path}.${k}: parsing X509 certificate failed: ${e instanceof Error ? e.message : String(e)}`);
          }
          this.embedded.set(viciCertName(cert.der), cert);
        }
      } else if (typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) {
        this.collectCerts(v, `${path}.${k}`);
      }
    }
  }
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The certificate bytes of a `certs`/`cacerts` value: swanctl sends the file's contents (DER arrives as bytes,
 * PEM as text); a short printable value without PEM armour is a name as written (a client other than swanctl).
 */
function certData(x: ViciValue): Uint8Array | undefined {
  // DER that happens to be valid UTF-8 arrives as text too: anything but a printable name is data.
  if (typeof x === 'string') return x.includes('-----BEGIN') || !/^[\x20-\x7e]{1,255}$/.test(x) ? new TextEncoder().encode(x) : undefined;
  if (x.length > 0 && x.length <= 255 && x.every((c) => c >= 0x20 && c <= 0x7e)) return undefined;
  return x;
}

/** The DER a `certs` entry stands for (PEM or DER), for its stand-in name. */
function certDer(b: Uint8Array): Uint8Array {
  try {
    return loadCertificate(b).der;
  } catch {
    return b;
  }
}

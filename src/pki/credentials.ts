/**
 * Loading credentials the way swanctl does (swanctl --load-creds), from a configuration directory laid out as
 *   x509/    end-entity certificates          x509ca/   trusted CA certificates
 *   x509crl/ CRLs                             private/  private keys of any type (also rsa/, ecdsa/, pkcs8/)
 *   pkcs12/  PKCS#12 bundles (key + certificate + chain)    pubkey/   raw public keys (swanctl `pubkeys`)
 * PEM or DER. Every private key found is loaded, so a certificate's key needs no configuration. Encrypted keys and
 * bundles take their passphrase from `secrets` (swanctl's `secrets { private-x { file = .., secret = .. } }`),
 * keyed by the file name as written there (relative to its folder) or by the full path.
 *
 * File access is injected (CredentialFs; node-fs.ts has the node:fs binding), so this stays sans-IO. A file that
 * cannot be used does not stop the others: it is reported in `errors` with its path and reason, as swanctl logs
 * and carries on.
 */
import { posix } from 'node:path';
import { parseCertificates, type Certificate } from './certificate.js';
import { loadCrl, type Crl } from './crl.js';
import { isPem } from './der.js';
import { causeOf, isPkiError, PkiError } from './errors.js';
import { loadPrivateKey, loadPublicKey, publicKeyOf, type PrivateKey, type PublicKey } from './keys.js';
import { bytesEqual } from './der.js';
import { parsePkcs12 } from './pkcs12.js';

export interface CredentialFs {
  readFile(path: string): Uint8Array;
  /** File names in a directory; undefined when it does not exist. */
  readdir(path: string): readonly string[] | undefined;
}

export interface Loaded<T> {
  readonly file: string;
  readonly value: T;
}

export interface LoadedCredentials {
  readonly certs: readonly Loaded<Certificate>[];
  readonly cas: readonly Loaded<Certificate>[];
  readonly crls: readonly Loaded<Crl>[];
  readonly keys: readonly Loaded<PrivateKey>[];
  readonly pubkeys: readonly Loaded<PublicKey>[];
  readonly errors: readonly { readonly file: string; readonly code: string; readonly message: string }[];
}

export interface LoadCredentialOptions {
  /** Passphrases by file name (relative to its folder, e.g. "moonKey.pem") or full path. */
  readonly secrets?: Readonly<Record<string, string>>;
}

export const CREDENTIAL_DIRS = {
  certs: ['x509'],
  cas: ['x509ca'],
  crls: ['x509crl'],
  keys: ['private', 'rsa', 'ecdsa', 'pkcs8'],
  pkcs12: ['pkcs12'],
  pubkeys: ['pubkey'],
} as const;

/** Resolves a credential file name from the configuration (`certs = moonCert.pem`) as swanctl does. */
export function resolveCredentialPath(confDir: string, folder: string, name: string): string {
  return posix.isAbsolute(name) ? name : posix.join(confDir, folder, name);
}

function list(fs: CredentialFs, dir: string): string[] {
  return [...(fs.readdir(dir) ?? [])].filter((n) => !n.startsWith('.')).sort();
}

function read(fs: CredentialFs, path: string): Uint8Array {
  try {
    return fs.readFile(path);
  } catch (e) {
    throw new PkiError('IO', `${path}: cannot read (${causeOf(e)})`);
  }
}

/** Loads every credential under `confDir` (the directory of swanctl.conf). */
export function loadCredentialDir(confDir: string, fs: CredentialFs, opts: LoadCredentialOptions = {}): LoadedCredentials {
  const certs: Loaded<Certificate>[] = [];
  const cas: Loaded<Certificate>[] = [];
  const crls: Loaded<Crl>[] = [];
  const keys: Loaded<PrivateKey>[] = [];
  const pubkeys: Loaded<PublicKey>[] = [];
  const errors: { file: string; code: string; message: string }[] = [];
  const secretFor = (folder: string, name: string, path: string) => opts.secrets?.[path] ?? opts.secrets?.[name] ?? opts.secrets?.[`${folder}/${name}`];
  const each = (folder: string, fn: (path: string, name: string) => void) => {
    const dir = posix.join(confDir, folder);
    for (const name of list(fs, dir)) {
      const path = posix.join(dir, name);
      try {
        fn(path, name);
      } catch (e) {
        errors.push({ file: path, code: isPkiError(e) ? e.code : 'IO', message: isPkiError(e) ? e.message : `${path}: ${causeOf(e)}` });
      }
    }
  };
  for (const f of CREDENTIAL_DIRS.certs) each(f, (path) => certs.push(...parseCertificates(read(fs, path), path).map((value) => ({ file: path, value }))));
  for (const f of CREDENTIAL_DIRS.cas) each(f, (path) => cas.push(...parseCertificates(read(fs, path), path).map((value) => ({ file: path, value }))));
  for (const f of CREDENTIAL_DIRS.crls) each(f, (path) => crls.push({ file: path, value: loadCrl(read(fs, path), path) }));
  for (const f of CREDENTIAL_DIRS.keys)
    each(f, (path, name) => {
      const passphrase = secretFor(f, name, path);
      keys.push({ file: path, value: loadPrivateKey(read(fs, path), { name: path, ...(passphrase !== undefined ? { passphrase } : {}) }) });
    });
  for (const f of CREDENTIAL_DIRS.pkcs12)
    each(f, (path, name) => {
      const data = read(fs, path);
      if (isPem(data)) throw new PkiError('BAD_PKCS12', `${path}: PKCS#12 bundles are binary (DER), this is PEM text`);
      const p = parsePkcs12(data, secretFor(f, name, path) ?? '', path);
      for (const k of p.keys) keys.push({ file: path, value: k.value });
      for (const c of p.certs) (c.value.basicConstraints?.ca ? cas : certs).push({ file: path, value: c.value });
    });
  for (const f of CREDENTIAL_DIRS.pubkeys) each(f, (path) => pubkeys.push({ file: path, value: loadPublicKey(read(fs, path), { name: path }) }));
  return { certs, cas, crls, keys, pubkeys, errors };
}

/** The loaded private key whose public half is the certificate's key. */
export function findKeyForCert(creds: Pick<LoadedCredentials, 'keys'>, cert: Certificate): PrivateKey | undefined {
  return creds.keys.find((k) => bytesEqual(publicKeyOf(k.value).spki, cert.publicKey.spki))?.value;
}

/** Loads one certificate file named in the configuration (`certs = ...` under x509/, `cacerts = ...` under x509ca/). */
export function loadCertFile(confDir: string, folder: 'x509' | 'x509ca', name: string, fs: CredentialFs): Certificate {
  const path = resolveCredentialPath(confDir, folder, name);
  const all = parseCertificates(read(fs, path), path);
  return all[0]!;
}

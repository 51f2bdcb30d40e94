/**
 * Certificates, keys and CRLs for the daemon, in swanctl's layout beside the configuration file: x509/ (our
 * certificates), x509ca/ (trust anchors and intermediates), x509crl/, and private/ (every key there is loaded,
 * as swanctl --load-creds does; also rsa/, ecdsa/, pkcs8/, pkcs12/). File names in `certs = ...` / `cacerts = ...`
 * resolve under x509/ and x509ca/. Problems name the file.
 */
import { dirname } from 'node:path';
import {
  certMatchesId,
  certSignedBy,
  findKeyForCert,
  loadCertFile,
  loadCredentialDir,
  sameCertificate,
  TrustStore,
  type Certificate,
  type Crl,
  type LoadedCredentials,
  type PrivateKey,
} from '../pki/index.js';
import { nodeCredentialFs } from '../pki/node-fs.js';
import type { CertResolver } from '../config/ike-adapter.js';

export interface DaemonCredentials {
  readonly resolver: CertResolver;
  readonly pki: { privateKeyFor(cert: Certificate): PrivateKey | undefined; trust: TrustStore };
  /** One line per file that could not be loaded (the daemon logs them as warnings). */
  readonly problems: readonly string[];
  readonly loaded: LoadedCredentials;
}

/**
 * Credentials loaded over vici (swanctl --load-creds, src/vici/store.ts): they join the folders' credentials, and
 * certificates sent inside a load-conn are named `vici:<sha1>` in the configuration and resolved here.
 */
export interface ExtraCredentials {
  readonly certs: readonly Certificate[];
  readonly cas: readonly Certificate[];
  readonly crls: readonly Crl[];
  readonly keys: readonly PrivateKey[];
  certificate(name: string): Certificate | undefined;
}

export function loadDaemonCredentials(configPath: string, secrets: Readonly<Record<string, string>> = {}, extra?: ExtraCredentials): DaemonCredentials {
  const dir = dirname(configPath);
  const fromDir = loadCredentialDir(dir, nodeCredentialFs, { secrets });
  const vici = <T>(list: readonly T[]) => list.map((value) => ({ file: 'vici', value }));
  const loaded: LoadedCredentials = extra
    ? {
        ...fromDir,
        certs: [...fromDir.certs, ...vici(extra.certs)],
        cas: [...fromDir.cas, ...vici(extra.cas)],
        crls: [...fromDir.crls, ...vici(extra.crls)],
        keys: [...fromDir.keys, ...vici(extra.keys)],
      }
    : fromDir;
  const cas = loaded.cas.map((c) => c.value);
  // Intermediate CAs (not self-signed) are sent after our certificate and help validate the peer's chain when
  // the peer does not send them (charon builds paths through locally loaded CA certificates too).
  const intermediates = cas.filter((c) => !isSelfSigned(c));
  const trust = new TrustStore(cas.filter(isSelfSigned), loaded.crls.map((c) => c.value), intermediates);
  const chain = (leaf: Certificate): Certificate[] => {
    const out: Certificate[] = [];
    let cur = leaf;
    for (let depth = 0; depth < 8; depth++) {
      const up = intermediates.find((i) => !out.includes(i) && certSignedBy(cur, i.publicKey));
      if (!up) break;
      out.push(up);
      cur = up;
    }
    return out;
  };
  const resolver: CertResolver = {
    cert: (name, folder) => {
      if (extra && name.startsWith('vici:')) {
        const c = extra.certificate(name);
        if (c) return c;
      }
      const found = (folder === 'x509' ? loaded.certs : loaded.cas).find((c) => c.file.endsWith(`/${name}`) || c.file === name);
      return found?.value ?? loadCertFile(dir, folder, name, nodeCredentialFs);
    },
    chain,
    byId: (id) => loaded.certs.find((c) => certMatchesId(c.value, id).ok && findKeyForCert({ keys: loaded.keys }, c.value) !== undefined)?.value,
  };
  const keys = loaded.keys;
  return {
    resolver,
    pki: { privateKeyFor: (c) => findKeyForCert({ keys }, c), trust },
    problems: loaded.errors.map((e) => `${e.file}: ${e.message}`),
    loaded,
  };
}

function isSelfSigned(c: Certificate): boolean {
  return sameCertificate(c, c) && c.subject.text === c.issuer.text && certSignedBy(c, c.publicKey);
}

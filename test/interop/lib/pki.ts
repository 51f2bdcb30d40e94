/**
 * Test PKI made with strongSwan's own `pki` tool (issue 6: "certificates made by strongSwan's pki are accepted
 * by cygnet"). Everything is PEM; files land in a directory the caller owns.
 * The tool prints TPM plugin warnings on stderr on this machine; they are harmless and ignored.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './exec.js';

export type KeyType = 'ecdsa256' | 'ecdsa384' | 'ecdsa521' | 'rsa2048' | 'rsa3072' | 'ed25519';

export interface Credential {
  /** Distinguished name as given to pki, e.g. `C=CH, O=cygnet, CN=left`. */
  dn: string;
  keyType: KeyType;
  keyFile: string;
  certFile: string;
  keyPem: string;
  certPem: string;
}

/** `pki --gen` arguments for a key type (strongSwan's pki and `cygnet pki` take the same flags). */
export function genArgs(type: KeyType): string[] {
  switch (type) {
    case 'ecdsa256':
      return ['--type', 'ecdsa', '--size', '256'];
    case 'ecdsa384':
      return ['--type', 'ecdsa', '--size', '384'];
    case 'ecdsa521':
      return ['--type', 'ecdsa', '--size', '521'];
    case 'rsa2048':
      return ['--type', 'rsa', '--size', '2048'];
    case 'rsa3072':
      return ['--type', 'rsa', '--size', '3072'];
    case 'ed25519':
      return ['--type', 'ed25519'];
  }
}

async function pki(args: string[]): Promise<string> {
  return (await run('pki', args, { timeoutMs: 60_000 })).stdout;
}

/** `pki --gen` into DIR/NAME.key (PEM: SEC1 for ECDSA, PKCS#1 for RSA, PKCS#8 for Ed25519). */
export async function genKey(dir: string, name: string, type: KeyType): Promise<string> {
  const file = join(dir, `${name}.key`);
  await writeFile(file, await pki(['--gen', ...genArgs(type), '--outform', 'pem']));
  return file;
}

export interface CaOptions {
  dn?: string;
  keyType?: KeyType;
  /** `pki --self --lifetime` in days. */
  lifetimeDays?: number;
  /** `--rsa-padding pss` for RSA CAs. */
  rsaPss?: boolean;
}

/** A self-signed CA (`pki --self --ca`). */
export async function makeCa(dir: string, name = 'ca', opts: CaOptions = {}): Promise<Credential> {
  const keyType = opts.keyType ?? 'ecdsa256';
  const dn = opts.dn ?? 'C=CH, O=cygnet, CN=cygnet interop CA';
  const keyFile = await genKey(dir, name, keyType);
  const args = ['--self', '--ca', '--in', keyFile, '--dn', dn, '--lifetime', String(opts.lifetimeDays ?? 30), '--outform', 'pem'];
  if (opts.rsaPss) args.push('--rsa-padding', 'pss');
  const certFile = join(dir, `${name}.crt`);
  await writeFile(certFile, await pki(args));
  return { dn, keyType, keyFile, certFile, keyPem: await readFile(keyFile, 'utf8'), certPem: await readFile(certFile, 'utf8') };
}

export interface IssueOptions {
  dn: string;
  keyType?: KeyType;
  /** subjectAltNames (`--san`), e.g. `left@cygnet.test`, `192.0.2.1`, `left.cygnet.test`. */
  san?: readonly string[];
  /** `--flag` values, e.g. `serverAuth`, `ikeIntermediate`. */
  flags?: readonly string[];
  /** Issue an intermediate CA (`--ca`). */
  ca?: boolean;
  lifetimeDays?: number;
  rsaPss?: boolean;
}

/** A certificate for a new key, signed by `issuer` (`pki --pub | pki --issue`). */
export async function issue(dir: string, name: string, issuer: Credential, opts: IssueOptions): Promise<Credential> {
  const keyType = opts.keyType ?? 'ecdsa256';
  const keyFile = await genKey(dir, name, keyType);
  const pubFile = join(dir, `${name}.pub`);
  await writeFile(pubFile, await pki(['--pub', '--in', keyFile, '--outform', 'pem']));
  const args = ['--issue', '--in', pubFile, '--type', 'pub', '--cacert', issuer.certFile, '--cakey', issuer.keyFile, '--dn', opts.dn];
  args.push('--lifetime', String(opts.lifetimeDays ?? 30), '--outform', 'pem');
  for (const s of opts.san ?? []) args.push('--san', s);
  for (const f of opts.flags ?? []) args.push('--flag', f);
  if (opts.ca) args.push('--ca');
  if (opts.rsaPss) args.push('--rsa-padding', 'pss');
  const certFile = join(dir, `${name}.crt`);
  await writeFile(certFile, await pki(args));
  return { dn: opts.dn, keyType, keyFile, certFile, keyPem: await readFile(keyFile, 'utf8'), certPem: await readFile(certFile, 'utf8') };
}

/** swanctl directory files for one side: its own cert and key, the trusted CA(s). */
export function swanctlFiles(own: Credential, cas: readonly Credential[], ownName = 'own'): Record<string, string> {
  const files: Record<string, string> = {
    [`x509/${ownName}.crt`]: own.certPem,
    // private/ auto-detects the key format (SEC1, PKCS#1, PKCS#8).
    [`private/${ownName}.key`]: own.keyPem,
  };
  cas.forEach((ca, i) => {
    files[`x509ca/ca${i}.crt`] = ca.certPem;
  });
  return files;
}

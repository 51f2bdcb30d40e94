/**
 * A test PKI made with `cygnet pki` (issue 6: "certificates made by cygnet pki are accepted by strongSwan"), with
 * the same shape as pki.ts (strongSwan's tool) so scenarios can swap one for the other. The commands follow seed
 * 001: `--gen`, `--self --ca`, `--pub | --issue` through stdin, `--san`, `--flag serverAuth --flag
 * ikeIntermediate`, `--signcrl`. Everything PEM, in a directory the caller owns.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CYGNET_MAIN, REPO_ROOT } from './cygnet.js';
import { run } from './exec.js';
import { genArgs, type Credential, type KeyType } from './pki.js';

/**
 * How `cygnet pki` runs: `'cli'` spawns `node --import tsx src/cli/main.ts pki` (the real command, ~1 s of
 * startup each under load); `'inproc'` calls the same `runPki(argv, io)` in this process (what src/cli/main.ts
 * dispatches to), for scenarios that need many certificates within their time budget.
 */
export type PkiMode = 'cli' | 'inproc';
let mode: PkiMode = 'cli';
export function setCygnetPkiMode(m: PkiMode): void {
  mode = m;
}

/** `cygnet pki ARGS`; stdout, or a CommandError / Error naming the cause. */
export async function cygnetPki(args: readonly string[], input?: string): Promise<string> {
  if (mode === 'inproc') return runInProcess(args, input);
  const r = await run(process.execPath, ['--import', 'tsx', CYGNET_MAIN, 'pki', ...args], {
    cwd: REPO_ROOT,
    timeoutMs: 60_000,
    ...(input === undefined ? {} : { input }),
  });
  return r.stdout;
}

async function runInProcess(args: readonly string[], input?: string): Promise<string> {
  const { runPki } = await import('../../../src/cli/pki.js');
  let out = '';
  let err = '';
  const code = await runPki(args, {
    stdin: (async function* () {
      if (input !== undefined) yield input;
    })(),
    stdout: { write: (c: string | Uint8Array) => (out += typeof c === 'string' ? c : Buffer.from(c).toString('latin1')) },
    stderr: { write: (c: string | Uint8Array) => (err += c.toString()) },
  });
  if (code !== 0) throw new Error(`cygnet pki ${args.join(' ')} failed (exit ${code}): ${err.trim()}`);
  return out;
}

/** `cygnet pki --gen ... --outform pem > DIR/NAME.key`. */
export async function cygGenKey(dir: string, name: string, type: KeyType | 'rsa4096'): Promise<string> {
  const file = join(dir, `${name}.key`);
  const args = type === 'rsa4096' ? ['--type', 'rsa', '--size', '4096'] : genArgs(type);
  await writeFile(file, await cygnetPki(['--gen', ...args, '--outform', 'pem']));
  return file;
}

export interface CygCaOptions {
  dn?: string;
  keyType?: KeyType | 'rsa4096';
  lifetimeDays?: number;
}

/** Seed 001's root CA: `cygnet pki --self --ca --lifetime N --in KEY --dn DN --outform pem`. */
export async function cygMakeCa(dir: string, name = 'ca', opts: CygCaOptions = {}): Promise<Credential> {
  const keyType = opts.keyType ?? 'ecdsa256';
  const dn = opts.dn ?? 'C=CH, O=cygnet, CN=cygnet pki Root CA';
  const keyFile = await cygGenKey(dir, name, keyType);
  const certFile = join(dir, `${name}.crt`);
  await writeFile(certFile, await cygnetPki(['--self', '--ca', '--lifetime', String(opts.lifetimeDays ?? 3650), '--in', keyFile, '--dn', dn, '--outform', 'pem']));
  return {
    dn,
    keyType: keyType === 'rsa4096' ? 'rsa3072' : keyType,
    keyFile,
    certFile,
    keyPem: await readFile(keyFile, 'utf8'),
    certPem: await readFile(certFile, 'utf8'),
  };
}

export interface CygIssueOptions {
  dn: string;
  keyType?: KeyType;
  san?: readonly string[];
  flags?: readonly string[];
  ca?: boolean;
  lifetimeDays?: number;
}

/**
 * Seed 001's host/client certificate: `cygnet pki --pub --in KEY | cygnet pki --issue --cacert .. --cakey .. ...`.
 * `issuerOrPending` may be a promise (the CA still being made), so key generation overlaps with it.
 */
export async function cygIssue(dir: string, name: string, issuerOrPending: Credential | Promise<Credential>, opts: CygIssueOptions): Promise<Credential> {
  const keyType = opts.keyType ?? 'ecdsa256';
  const keyFile = await cygGenKey(dir, name, keyType);
  const pub = await cygnetPki(['--pub', '--in', keyFile, '--outform', 'pem']);
  // The key and its public half do not need the CA: callers may pass the CA still being made.
  const issuer = await issuerOrPending;
  const args = ['--issue', '--lifetime', String(opts.lifetimeDays ?? 730), '--cacert', issuer.certFile, '--cakey', issuer.keyFile, '--dn', opts.dn];
  for (const s of opts.san ?? []) args.push('--san', s);
  for (const f of opts.flags ?? []) args.push('--flag', f);
  if (opts.ca) args.push('--ca');
  args.push('--outform', 'pem');
  const certFile = join(dir, `${name}.crt`);
  await writeFile(certFile, await cygnetPki(args, pub));
  return { dn: opts.dn, keyType, keyFile, certFile, keyPem: await readFile(keyFile, 'utf8'), certPem: await readFile(certFile, 'utf8') };
}

/** `cygnet pki --signcrl --cacert .. --cakey .. --reason key-compromise --cert FILE.. --outform pem` -> PEM CRL. */
export async function cygSignCrl(ca: Credential, revoked: readonly Credential[], lifetimeDays = 15): Promise<string> {
  const args = ['--signcrl', '--cacert', ca.certFile, '--cakey', ca.keyFile, '--lifetime', String(lifetimeDays)];
  for (const r of revoked) args.push('--reason', 'key-compromise', '--cert', r.certFile);
  args.push('--outform', 'pem');
  return cygnetPki(args);
}

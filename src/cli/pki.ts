/**
 * `cygnet pki`: strongSwan's pki tool for the commands the seeds use, with its flags and defaults
 * (DER output unless --outform pem, stdin/stdout when --in/redirection is used, lifetime 1095 days, RSA 2048,
 * ECDSA 384, random 8-byte serials):
 *
 *   --gen     [--type rsa|ecdsa|ed25519] [--size bits] [--outform der|pem]
 *   --pub     [--in file] [--type priv|rsa|ecdsa|ed25519|pub|x509] [--outform der|pem]
 *   --self    [--in file] [--type ...] --dn dn [--san san]+ [--lifetime days] [--serial hex] [--ca] [--pathlen n]
 *             [--flag serverAuth|clientAuth|ikeIntermediate|crlSign|ocspSigning|msSmartcardLogon]+
 *             [--digest sha256|sha384|sha512] [--rsa-padding pkcs1|pss] [--outform der|pem]
 *   --issue   [--in file] [--type pub|priv|rsa|ecdsa|ed25519] --cacert file --cakey file --dn dn [--san san]+
 *             [--lifetime days] [--serial hex] [--ca] [--pathlen n] [--flag ...]+ [--crl uri]+ [--digest ..]
 *             [--rsa-padding ..] [--outform der|pem]
 *   --print   [--in file] [--type x509|crl|pub|priv|rsa|ecdsa|ed25519]
 *   --signcrl --cacert file --cakey file [--lifetime days] [--lastcrl crl]
 *             [[--reason key-compromise|ca-compromise|affiliation-changed|superseded|cessation-of-operation|
 *               certificate-hold] [--date unixtime] --cert file|--serial hex]* [--digest ..] [--outform der|pem]
 *   --verify  [--in file] --cacert file [--cacert file]* [--crl file]*
 *   --pkcs12  [--in file] (--list | --export index [--outform der|pem]) [--password pw]   (as strongSwan)
 *   --pkcs12  --create --in cert --key key [--cacert file]* [--name friendly] --password pw   (cygnet extension,
 *             instead of `openssl pkcs12 -export`)
 * Encrypted inputs take --password (strongSwan prompts instead). Exit status 0, 1 on errors, 2 on usage errors.
 */
import { suggest } from '../config/suggest.js';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  buildPkcs12,
  certificateToPem,
  CRL_REASONS,

  exportPrivateKey,
  exportPublicKey,
  formatCertificate,
  formatCrl,
  formatKey,
  generateKey,
  isPkiError,
  loadCertificate,
  loadCrl,
  loadPrivateKey,
  loadPublicKey,
  normalizeSerial,
  parseCertificates,
  parsePkcs12,
  pemEncode,
  publicKeyOf,
  issueCertificate,
  signCrl,
  TrustStore,
  validateChain,
  type CertFlag,
  type CrlReasonName,
  type HashName,
  type PrivateKey,
  type PublicKey,
  type RevokedEntry,
} from '../pki/index.js';

export interface PkiIo {
  readonly stdin: AsyncIterable<Uint8Array | string>;
  readonly stdout: { write(chunk: string | Uint8Array): unknown };
  readonly stderr: { write(chunk: string | Uint8Array): unknown };
}

/** Test hooks: clock, serial randomness and file reading (defaults: Date.now, node:crypto, node:fs). */
export interface PkiEnv {
  readonly now?: () => number;
  readonly random?: (n: number) => Uint8Array;
  readonly readFile?: (path: string) => Uint8Array;
}

class UsageError extends Error {}
class CliError extends Error {}

const COMMANDS = ['gen', 'pub', 'self', 'issue', 'print', 'signcrl', 'verify', 'pkcs12'] as const;
type Command = (typeof COMMANDS)[number];
const FLAGS_NO_VALUE = new Set(['ca', 'list', 'create', 'help']);
const REPEATABLE = new Set(['san', 'flag', 'crl', 'cacert', 'cert', 'serial', 'reason', 'date']);
const SHORT: Record<string, string> = { i: 'in', t: 'type', f: 'outform', s: 'size', d: 'dn', a: 'san', l: 'lifetime', c: 'cacert', k: 'cakey', e: 'flag', b: 'ca', p: 'pathlen', g: 'digest', h: 'help', R: 'rsa-padding', z: 'cert', r: 'reason' };

interface Parsed {
  cmd: Command;
  /** Options in order (order matters for --signcrl: --reason applies to the following --cert/--serial). */
  seq: Array<[string, string]>;
  one: Map<string, string>;
  many: Map<string, string[]>;
}

function parseArgs(argv: readonly string[]): Parsed {
  let cmd: Command | undefined;
  const seq: Array<[string, string]> = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let name: string;
    let value: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      if (eq > 0) value = arg.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(arg)) {
      name = SHORT[arg[1]!] ?? '';
      if (!name) throw new UsageError(`unknown option '${arg}'`);
    } else throw new UsageError(`unexpected argument '${arg}'`);
    // An option no command knows is named at once (before it could swallow the next argument as its value).
    if (!(COMMANDS as readonly string[]).includes(name) && !knownOption(name)) {
      const near = closestOption(name);
      throw new UsageError(`unknown option '--${name}'${near ? ` (did you mean --${near}?)` : ''}`);
    }
    if ((COMMANDS as readonly string[]).includes(name) && cmd === undefined && value === undefined) {
      cmd = name as Command;
      continue;
    }
    if (name === 'help' || FLAGS_NO_VALUE.has(name)) {
      seq.push([name, 'yes']);
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`option --${name} needs a value`);
    }
    seq.push([name, value]);
  }
  if (!cmd) throw new UsageError(`missing command (one of ${COMMANDS.map((c) => `--${c}`).join(', ')})`);
  const one = new Map<string, string>();
  const many = new Map<string, string[]>();
  for (const [k, v] of seq) {
    if (REPEATABLE.has(k)) many.set(k, [...(many.get(k) ?? []), v]);
    one.set(k, v);
  }
  return { cmd, seq, one, many };
}

function knownOption(name: string): boolean {
  return Object.values(ALLOWED).some((opts) => opts.includes(name));
}

/** The known option (or command) nearest to a mistyped one, when it is close (src/config/suggest.ts). */
function closestOption(name: string): string | undefined {
  return suggest(name, new Set<string>([...COMMANDS, ...Object.values(ALLOWED).flat()]));
}

const ALLOWED: Record<Command, string[]> = {
  gen: ['type', 'size', 'outform', 'help'],
  pub: ['in', 'type', 'outform', 'password', 'help'],
  self: ['in', 'type', 'dn', 'san', 'lifetime', 'serial', 'ca', 'pathlen', 'flag', 'digest', 'rsa-padding', 'outform', 'password', 'crl', 'help'],
  issue: ['in', 'type', 'cacert', 'cakey', 'dn', 'san', 'lifetime', 'serial', 'ca', 'pathlen', 'flag', 'crl', 'digest', 'rsa-padding', 'outform', 'password', 'help'],
  print: ['in', 'type', 'password', 'help'],
  signcrl: ['cacert', 'cakey', 'lifetime', 'lastcrl', 'reason', 'date', 'cert', 'serial', 'digest', 'rsa-padding', 'outform', 'password', 'help'],
  verify: ['in', 'cacert', 'crl', 'help'],
  pkcs12: ['in', 'list', 'export', 'outform', 'password', 'create', 'key', 'cacert', 'name', 'help'],
};

const USAGE = `usage: cygnet pki --gen|--pub|--self|--issue|--print|--signcrl|--verify|--pkcs12 [options]
  --gen     [--type rsa|ecdsa|ed25519] [--size bits] [--outform der|pem]
  --pub     [--in file] [--type priv|rsa|ecdsa|ed25519|pub|x509] [--outform der|pem]
  --self    [--in file] [--type priv] --dn dn [--san san]+ [--lifetime days] [--serial hex] [--ca] [--pathlen n]
            [--flag serverAuth|clientAuth|ikeIntermediate|crlSign|ocspSigning|msSmartcardLogon]+
            [--digest sha256|sha384|sha512] [--rsa-padding pkcs1|pss] [--outform der|pem]
  --issue   [--in file] [--type pub|priv] --cacert file --cakey file --dn dn [--san san]+ [--lifetime days]
            [--serial hex] [--ca] [--pathlen n] [--flag ...]+ [--crl uri]+ [--digest ..] [--outform der|pem]
  --print   [--in file] [--type x509|crl|pub|priv|rsa|ecdsa|ed25519]
  --signcrl --cacert file --cakey file [--lifetime days] [--lastcrl crl]
            [[--reason key-compromise|ca-compromise|affiliation-changed|superseded|cessation-of-operation|certificate-hold]
             [--date unixtime] --cert file|--serial hex]* [--outform der|pem]
  --verify  [--in file] --cacert file [--crl file]*
  --pkcs12  [--in file] (--list | --export index) [--outform der|pem] [--password pw]
  --pkcs12  --create --in cert --key key [--cacert file]* [--name name] --password pw
Input is read from stdin without --in; output goes to stdout (DER unless --outform pem).`;

const FLAG_NAMES: Record<string, CertFlag> = {
  serverauth: 'serverAuth',
  clientauth: 'clientAuth',
  ikeintermediate: 'ikeIntermediate',
  crlsign: 'crlSign',
  ocspsigning: 'ocspSigning',
  mssmartcardlogon: 'msSmartcardLogon',
};

async function readAll(it: AsyncIterable<Uint8Array | string>): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
  return new Uint8Array(Buffer.concat(parts));
}

/** Runs `cygnet pki <argv>`; returns the exit status. */
export async function runPki(argv: readonly string[], io: PkiIo, env: PkiEnv = {}): Promise<number> {
  const now = env.now ?? (() => Date.now());
  const random = env.random ?? ((n: number) => new Uint8Array(randomBytes(n)));
  const readFile = env.readFile ?? ((p: string) => new Uint8Array(readFileSync(p)));
  let p: Parsed;
  try {
    p = parseArgs(argv);
    if (p.one.has('help')) {
      io.stdout.write(USAGE + '\n');
      return 0;
    }
    for (const [k] of p.seq) if (!ALLOWED[p.cmd].includes(k)) throw new UsageError(`--${p.cmd} does not take --${k}`);
  } catch (e) {
    if (argv.includes('--help') || argv.includes('-h') || argv.length === 0) {
      io.stdout.write(USAGE + '\n');
      return argv.length === 0 ? 2 : 0;
    }
    io.stderr.write(`cygnet pki: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }

  const file = (path: string, what: string): Uint8Array => {
    try {
      return readFile(path);
    } catch (e) {
      throw new CliError(`cannot read ${what} '${path}': ${(e as { code?: string }).code ?? (e as Error).message}`);
    }
  };
  const input = async (what: string): Promise<[Uint8Array, string]> => {
    const path = p.one.get('in');
    return path ? [file(path, what), path] : [await readAll(io.stdin), 'stdin'];
  };
  const outform = (): 'der' | 'pem' => {
    const f = p.one.get('outform') ?? 'der';
    if (f !== 'der' && f !== 'pem') throw new UsageError(`--outform must be der or pem, not '${f}'`);
    return f;
  };
  const password = () => p.one.get('password');
  const emit = (der: Uint8Array, label: string) => io.stdout.write(outform() === 'pem' ? pemEncode(label, der) : der);
  const int = (name: string, dflt: number): number => {
    const v = p.one.get(name);
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number, not '${v}'`);
    return Number(v);
  };
  const serialArg = (v: string | undefined): Uint8Array => {
    if (v === undefined) {
      const s = random(8);
      s[0]! &= 0x7f; // positive, as strongSwan's random serials
      return s;
    }
    const hex = v.replace(/[:\s]/g, '');
    if (!/^[0-9a-fA-F]+$/.test(hex)) throw new UsageError(`--serial must be hex, not '${v}'`);
    return Uint8Array.from(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex'));
  };
  const signing = () => {
    const digest = p.one.get('digest');
    if (digest !== undefined && !['sha1', 'sha256', 'sha384', 'sha512'].includes(digest)) throw new UsageError(`--digest must be sha256, sha384, sha512 or sha1, not '${digest}'`);
    const pad = p.one.get('rsa-padding');
    if (pad !== undefined && pad !== 'pkcs1' && pad !== 'pss') throw new UsageError(`--rsa-padding must be pkcs1 or pss`);
    return { ...(digest ? { digest: digest as HashName } : {}), ...(pad ? { rsaPadding: pad as 'pkcs1' | 'pss' } : {}) };
  };
  const flags = (): CertFlag[] =>
    (p.many.get('flag') ?? []).map((f) => {
      const n = FLAG_NAMES[f.toLowerCase()];
      if (!n) throw new UsageError(`unknown --flag '${f}' (serverAuth, clientAuth, ikeIntermediate, crlSign, ocspSigning, msSmartcardLogon)`);
      return n;
    });
  const privKey = (data: Uint8Array, name: string): PrivateKey => loadPrivateKey(data, { name, ...(password() !== undefined ? { passphrase: password()! } : {}) });

  try {
    switch (p.cmd) {
      case 'gen': {
        const type = p.one.get('type') ?? 'rsa';
        if (type !== 'rsa' && type !== 'ecdsa' && type !== 'ed25519') throw new UsageError(`--type must be rsa, ecdsa or ed25519, not '${type}'`);
        const size = p.one.has('size') ? int('size', 0) : undefined;
        const key = generateKey({ type, ...(size !== undefined ? { size } : {}) });
        io.stdout.write(exportPrivateKey(key, outform()));
        return 0;
      }
      case 'pub': {
        const [data, name] = await input('input');
        const type = p.one.get('type') ?? 'priv';
        let pub: PublicKey;
        if (type === 'x509') pub = loadCertificate(data, name).publicKey;
        else if (type === 'pub') pub = loadPublicKey(data, { name });
        else if (['priv', 'rsa', 'ecdsa', 'ed25519'].includes(type)) pub = publicKeyOf(privKey(data, name));
        else throw new UsageError(`--type must be priv, rsa, ecdsa, ed25519, pub or x509, not '${type}'`);
        io.stdout.write(exportPublicKey(pub, outform()));
        return 0;
      }
      case 'self':
      case 'issue': {
        const dn = p.one.get('dn');
        if (!dn) throw new UsageError(`--${p.cmd} needs --dn "C=.., O=.., CN=.."`);
        if (p.cmd === 'issue' && (!p.one.get('cacert') || !p.one.get('cakey'))) throw new UsageError('--issue needs --cacert and --cakey');
        const [data, name] = await input(p.cmd === 'self' ? 'private key' : 'public key');
        const type = p.one.get('type') ?? (p.cmd === 'self' ? 'priv' : 'pub');
        let subjectKey: PublicKey;
        let ownKey: PrivateKey | undefined;
        if (type === 'pub') subjectKey = loadPublicKey(data, { name, ...(password() !== undefined ? { passphrase: password()! } : {}) });
        else if (['priv', 'rsa', 'ecdsa', 'ed25519'].includes(type)) {
          ownKey = privKey(data, name);
          subjectKey = publicKeyOf(ownKey);
        } else throw new UsageError(`--type must be pub, priv, rsa, ecdsa or ed25519, not '${type}'`);
        const lifetime = int('lifetime', 1095);
        if (lifetime === 0) throw new UsageError('--lifetime must be at least 1 day');
        const t = now();
        const common = {
          subject: dn,
          publicKey: subjectKey,
          serial: serialArg(p.one.get('serial')),
          notBefore: t,
          notAfter: t + lifetime * 86400_000,
          ...(p.one.has('ca') ? { ca: true } : {}),
          ...(p.one.has('pathlen') ? { pathLen: int('pathlen', 0) } : {}),
          san: p.many.get('san') ?? [],
          flags: flags(),
          crlUris: p.many.get('crl') ?? [],
          ...signing(),
        };
        let cert;
        if (p.cmd === 'self') {
          if (!ownKey) throw new UsageError('--self needs a private key (--type priv)');
          cert = issueCertificate({ ...common, signingKey: ownKey });
        } else {
          const caCertPath = p.one.get('cacert');
          const caKeyPath = p.one.get('cakey');
          if (!caCertPath || !caKeyPath) throw new UsageError('--issue needs --cacert and --cakey');
          const caCert = loadCertificate(file(caCertPath, 'CA certificate'), caCertPath);
          const caKey = privKey(file(caKeyPath, 'CA key'), caKeyPath);
          if (!Buffer.from(publicKeyOf(caKey).spki).equals(Buffer.from(caCert.publicKey.spki)))
            throw new CliError(`CA key '${caKeyPath}' does not belong to CA certificate '${caCertPath}' ("${caCert.subject.text}")`);
          if (!caCert.basicConstraints?.ca) io.stderr.write(`warning: "${caCert.subject.text}" is not a CA certificate (no basicConstraints CA:TRUE)\n`);
          cert = issueCertificate({ ...common, issuer: caCert, signingKey: caKey });
        }
        emit(cert.der, 'CERTIFICATE');
        return 0;
      }
      case 'print': {
        const [data, name] = await input('input');
        const type = p.one.get('type') ?? 'x509';
        const t = now();
        if (type === 'x509') for (const c of parseCertificates(data, name)) io.stdout.write(formatCertificate(c, t));
        else if (type === 'crl') io.stdout.write(formatCrl(loadCrl(data, name), t));
        else if (type === 'pub') io.stdout.write(formatKey(loadPublicKey(data, { name })));
        else if (['priv', 'rsa', 'ecdsa', 'ed25519'].includes(type)) io.stdout.write(formatKey(privKey(data, name)));
        else throw new UsageError(`--type must be x509, crl, pub, priv, rsa, ecdsa or ed25519, not '${type}'`);
        return 0;
      }
      case 'signcrl': {
        const caCertPath = p.one.get('cacert');
        const caKeyPath = p.one.get('cakey');
        if (!caCertPath || !caKeyPath) throw new UsageError('--signcrl needs --cacert and --cakey');
        const caCert = loadCertificate(file(caCertPath, 'CA certificate'), caCertPath);
        const caKey = privKey(file(caKeyPath, 'CA key'), caKeyPath);
        const t = now();
        const revoked: RevokedEntry[] = [];
        let crlNumber = Uint8Array.of(1);
        const last = p.one.get('lastcrl');
        if (last) {
          const lastCrl = loadCrl(file(last, 'last CRL'), last);
          for (const r of lastCrl.revoked)
            revoked.push({ serial: r.serial, date: r.date, ...(r.reason > 0 && r.reason <= 6 ? { reason: Object.keys(CRL_REASONS)[r.reason] as CrlReasonName } : {}) });
          const n = BigInt(`0x${Buffer.from(lastCrl.crlNumber ?? Uint8Array.of(0)).toString('hex') || '0'}`) + 1n;
          crlNumber = Uint8Array.from(Buffer.from(n.toString(16).padStart(2 * Math.ceil(n.toString(16).length / 2), '0'), 'hex'));
        }
        // --reason and --date apply to the --cert/--serial options that follow them (strongSwan semantics).
        let reason: CrlReasonName | undefined;
        let date: number | undefined;
        for (const [k, v] of p.seq) {
          if (k === 'reason') {
            if (!(v in CRL_REASONS)) throw new UsageError(`unknown --reason '${v}' (${Object.keys(CRL_REASONS).join(', ')})`);
            reason = v as CrlReasonName;
          } else if (k === 'date') {
            if (!/^\d+$/.test(v)) throw new UsageError(`--date must be a unix timestamp, not '${v}'`);
            date = Number(v) * 1000;
          } else if (k === 'cert' || k === 'serial') {
            const serial = k === 'cert' ? loadCertificate(file(v, 'certificate'), v).serial : serialArg(v);
            revoked.push({ serial: normalizeSerial(serial), date: date ?? t, ...(reason ? { reason } : {}) });
          }
        }
        const crl = signCrl({ issuer: caCert, signingKey: caKey, thisUpdate: t, nextUpdate: t + int('lifetime', 15) * 86400_000, revoked, crlNumber, ...signing() });
        emit(crl.der, 'X509 CRL');
        return 0;
      }
      case 'verify': {
        const [data, name] = await input('certificate');
        const cas = (p.many.get('cacert') ?? []).flatMap((f) => parseCertificates(file(f, 'CA certificate'), f));
        const crls = (p.many.get('crl') ?? []).map((f) => loadCrl(file(f, 'CRL'), f));
        const [leaf, ...rest] = parseCertificates(data, name);
        const store = new TrustStore(cas, crls);
        if (cas.length === 0 && leaf!.selfSigned) store.addCa(leaf!);
        const r = validateChain(leaf!, rest, store, now());
        if (!r.ok) {
          io.stdout.write(`certificate untrusted: ${r.message} [${r.code}]\n`);
          return 1;
        }
        for (const w of r.warnings) io.stdout.write(`warning: ${w}\n`);
        io.stdout.write(`certificate trusted, lifetimes valid${crls.length ? ', certificate not revoked' : ''}\n`);
        return 0;
      }
      case 'pkcs12': {
        if (p.one.has('create')) {
          const pw = password();
          if (pw === undefined) throw new UsageError('--pkcs12 --create needs --password');
          const [certData, certName] = await input('certificate');
          const keyPath = p.one.get('key');
          const cert = loadCertificate(certData, certName);
          const key = keyPath ? loadPrivateKey(file(keyPath, 'private key'), { name: keyPath }) : undefined;
          if (key && !Buffer.from(publicKeyOf(key).spki).equals(Buffer.from(cert.publicKey.spki)))
            throw new CliError(`key '${keyPath}' does not belong to certificate '${certName}' ("${cert.subject.text}")`);
          const chain = (p.many.get('cacert') ?? []).flatMap((f) => parseCertificates(file(f, 'CA certificate'), f));
          const name = p.one.get('name');
          io.stdout.write(buildPkcs12({ cert, chain, password: pw, random, ...(key ? { key } : {}), ...(name ? { friendlyName: name } : {}) }));
          return 0;
        }
        const [data, name] = await input('PKCS#12 file');
        const bundle = parsePkcs12(data, password() ?? '', name);
        const items: Array<{ label: string; der: Uint8Array; pem: string }> = [];
        for (const c of bundle.certs) items.push({ label: `"${c.value.subject.text}"${c.value.basicConstraints?.ca ? ' (CA)' : ''}`, der: c.value.der, pem: certificateToPem(c.value) });
        for (const k of bundle.keys) {
          const der = exportPrivateKey(k.value, 'der');
          items.push({ label: `${k.value.type.toUpperCase()} ${k.value.bits} bits`, der, pem: Buffer.from(exportPrivateKey(k.value, 'pem')).toString() });
        }
        if (p.one.has('list')) {
          const nc = bundle.certs.length;
          if (nc) io.stdout.write('Certificates:\n');
          items.forEach((it, i) => {
            if (i === nc) io.stdout.write('Private keys:\n');
            io.stdout.write(`[${String(i + 1).padStart(2)}] ${it.label}\n`);
          });
          return 0;
        }
        const idx = p.one.get('export');
        if (idx === undefined) throw new UsageError('--pkcs12 needs --list, --export index or --create');
        const item = items[Number(idx) - 1];
        if (!/^\d+$/.test(idx) || !item) throw new UsageError(`--export ${idx}: no such credential (1..${items.length})`);
        io.stdout.write(outform() === 'pem' ? item.pem : item.der);
        return 0;
      }
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`cygnet pki: ${e.message}\n`);
      return 2;
    }
    if (e instanceof CliError || isPkiError(e)) {
      io.stderr.write(`cygnet pki --${p.cmd}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}



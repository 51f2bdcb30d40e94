/**
 * `cygnet client-profile`: writes what a user imports on a device to reach one road-warrior connection of this
 * gateway (issue 14): an Apple .mobileconfig, a Windows PowerShell script or a strongSwan Android .sswan
 * (src/profile). This file does the I/O: reads swanctl.conf (with includes), the CA (--ca, else the only
 * certificate in x509ca/ beside the configuration), the gateway's own certificate from x509/ (to check it), the
 * user's PKCS#12, and writes the profile to stdout or --output.
 *
 * Exit codes: 0 written, 2 usage, configuration or credential problem (each message names the file or option).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { isConfigError, loadSettings } from '../config/index.js';
import {
  buildForProfile,
  buildMobileconfig,
  buildSswan,
  buildWindowsScript,
  PROFILE_FORMATS,
  ProfileError,
  profileInput,
  type CredentialBytes,
  type ProfileFormat,
  type ProfileOutput,
  type ProfileSourceConfig,
} from '../profile/index.js';
import { parseArgs, UsageError } from './args.js';

export const CLIENT_PROFILE_USAGE = `usage: cygnet client-profile --config FILE --connection NAME --format mobileconfig|windows|sswan
         [--user NAME] [--ca CERT] [--p12 FILE --p12-password PW] [--server HOST] [--name TEXT] [--output FILE]
  --config FILE        the gateway's swanctl.conf
  --connection NAME    the road-warrior connection clients use
  --format F           mobileconfig (iOS, iPadOS, macOS), windows (PowerShell script for Windows 10/11),
                       sswan (strongSwan VPN Client for Android)
  --user NAME          the user's identity: EAP user name, or the certificate identity (default: from --p12)
  --ca CERT            the CA that issued the gateway's certificate (default: the only one in x509ca/)
  --p12 FILE           the user's certificate and key (cygnet pki --pkcs12 --create); needed for certificate users
  --p12-password PW    its password (Apple profiles carry it; Windows and Android ask for it on import)
  --server HOST        the name or address clients connect to (default: the connection's local_addrs)
  --name TEXT          the profile's name on the device (default: the server)
  --output FILE        write there (mode 0600) instead of printing
The profile uses the gateway's first IKE and ESP proposals the client can express; the ones it cannot are named
on stderr. docs/ROAD-WARRIORS.md lists what each client proposes by default.
Exit status: 0 written, 2 usage, configuration or credential error.`;

const SPEC = {
  config: {},
  connection: {},
  format: {},
  user: {},
  ca: {},
  p12: {},
  'p12-password': {},
  server: {},
  name: {},
  output: {},
} as const;

interface Out {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

function required(opts: Map<string, string>, name: string): string {
  const v = opts.get(name);
  if (v === undefined || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

function readBytes(file: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : e instanceof Error ? e.message : String(e);
    throw new ProfileError('BAD_CREDENTIAL', `${file}: cannot read ${what}: ${why}`);
  }
}

const CERT_FILE = /\.(pem|crt|cer|der)$/i;

/** --ca, else the one certificate in x509ca/ beside the configuration (swanctl's layout). */
function findCa(opt: string | undefined, configFile: string): CredentialBytes | undefined {
  if (opt !== undefined) return { der: readBytes(opt, 'the CA certificate (--ca)'), name: opt };
  const dir = join(dirname(configFile), 'x509ca');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return undefined;
  const files = readdirSync(dir).filter((f) => CERT_FILE.test(f)).sort();
  if (files.length === 0) return undefined;
  if (files.length > 1) {
    throw new ProfileError('NO_CA', `${dir} holds ${files.length} certificates (${files.join(', ')}): pass --ca FILE with the one that issued the gateway's certificate`);
  }
  const file = join(dir, files[0] ?? '');
  return { der: readBytes(file, 'the CA certificate'), name: file };
}

/** The gateway's certificate (local.certs, relative names under x509/), when it can be read; only for checks. */
function findGatewayCert(src: ProfileSourceConfig, connection: string, configFile: string): CredentialBytes | undefined {
  const cert = src.config.connections.get(connection)?.local[0]?.certs[0];
  if (cert === undefined) return undefined;
  const file = isAbsolute(cert) ? cert : join(dirname(configFile), 'x509', cert);
  if (!existsSync(file)) return undefined;
  return { der: readBytes(file, "the gateway's certificate"), name: file };
}

function write(format: ProfileFormat, src: ProfileSourceConfig, opts: Map<string, string>, configFile: string): ProfileOutput & { readonly secret: boolean } {
  const connection = required(opts, 'connection');
  const p12File = opts.get('p12');
  const p12Password = opts.get('p12-password');
  if (p12Password !== undefined && p12File === undefined) throw new UsageError('--p12-password without --p12');
  const { input, notes } = profileInput(src, {
    connection,
    server: opts.get('server'),
    user: opts.get('user'),
    displayName: opts.get('name'),
    ca: findCa(opts.get('ca'), configFile),
    gatewayCert: findGatewayCert(src, connection, configFile),
    ...(p12File !== undefined ? { pkcs12: { der: readBytes(p12File, 'the PKCS#12 (--p12)'), name: p12File, password: p12Password } } : {}),
  });
  const random = (n: number) => new Uint8Array(randomBytes(n));
  const out = format === 'mobileconfig' ? buildMobileconfig(input, random) : format === 'windows' ? buildWindowsScript(input) : buildSswan(input, random);
  return { text: out.text, notes: [...notes, ...out.notes], secret: input.pkcs12 !== undefined };
}

export async function runClientProfile(argv: readonly string[], out: Out = process): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.stdout.write(`${CLIENT_PROFILE_USAGE}\n`);
    return 0;
  }
  const fail = (msg: string, usage = false): number => {
    out.stderr.write(`cygnet client-profile: ${msg}\n${usage ? `${CLIENT_PROFILE_USAGE}\n` : ''}`);
    return 2;
  };
  let opts: Map<string, string>;
  let format: ProfileFormat;
  let configFile: string;
  try {
    opts = parseArgs(argv, SPEC);
    configFile = required(opts, 'config');
    required(opts, 'connection');
    const f = required(opts, 'format');
    if (!(PROFILE_FORMATS as readonly string[]).includes(f)) throw new UsageError(`--format: '${f}' is not one of ${PROFILE_FORMATS.join(', ')}`);
    format = f as ProfileFormat;
  } catch (e) {
    if (e instanceof UsageError) return fail(e.message, true);
    throw e;
  }
  try {
    const tree = loadSettings(configFile, { readFile: (f) => readFileSync(f, 'utf8'), listDir: (d) => readdirSync(d) });
    const result = write(format, buildForProfile(tree), opts, configFile);
    for (const n of result.notes) out.stderr.write(`cygnet client-profile: note: ${n}\n`);
    const file = opts.get('output');
    if (file === undefined) out.stdout.write(result.text);
    else {
      writeFileSync(file, result.text, { mode: 0o600 });
      out.stderr.write(`cygnet client-profile: wrote ${file} (${format}${result.secret ? ', holds the user\'s PKCS#12: keep it private' : ''})\n`);
    }
    return 0;
  } catch (e) {
    if (isConfigError(e)) {
      const list = e.errors.length > 0 ? e.errors : [e];
      return fail(`${configFile} has ${list.length} error${list.length === 1 ? '' : 's'}:\n${list.map((x) => `  ${x.message}`).join('\n')}`);
    }
    if (e instanceof ProfileError) return fail(e.message);
    if (e instanceof UsageError) return fail(e.message, true);
    throw e;
  }
}

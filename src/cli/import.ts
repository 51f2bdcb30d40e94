/**
 * `cygnet import [--ipsec-conf FILE] [--secrets FILE] [--output FILE]`: strongSwan's legacy ipsec.conf and
 * ipsec.secrets converted to a commented swanctl.conf (src/config/ipsec-conf), printed or written; what could
 * not be carried is listed on stderr with the line it came from.
 *
 * Also the daemon's `--ipsec-conf FILE`: the converted file is kept in a private directory (0700, the file
 * 0600: it holds the PSKs) whose x509/, x509ca/, x509crl/ and private/ point at ipsec.d's certs/, cacerts/,
 * crls/ and private/ beside ipsec.conf, so certificates are found where strongSwan's starter keeps them.
 *
 * Exit codes: 0 converted, 1 the input has errors (all of them printed), 2 usage.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { isConfigError } from '../config/index.js';
import { convertIpsecConf, type ImportResult } from '../config/ipsec-conf/index.js';
import { parseArgs, UsageError } from './args.js';

export const IMPORT_USAGE = `usage: cygnet import [--ipsec-conf FILE] [--secrets FILE] [--output FILE]
  --ipsec-conf FILE   strongSwan's ipsec.conf (default /etc/ipsec.conf; includes are followed)
  --secrets FILE      its ipsec.secrets (default: ipsec.secrets beside it, if there is one)
  --output FILE       write the swanctl.conf there (mode 0600: it holds the secrets) instead of printing it
Prints a swanctl.conf that cygnet daemon --config and strongSwan's swanctl load; every option that could not be
carried (IKEv1, aggressive mode, XAUTH, pluto settings) is named on stderr with its file:line.
Exit status: 0 converted, 1 errors in the input (all of them listed), 2 usage.`;

const SPEC = { 'ipsec-conf': {}, secrets: {}, output: {} } as const;

const diskIo = { readFile: (f: string) => readFileSync(f, 'utf8'), listDir: (d: string) => readdirSync(d) };

/** The secrets file for an ipsec.conf: the one named, else ipsec.secrets beside it when it exists. */
export function secretsFor(conf: string, named: string | undefined): string | undefined {
  if (named !== undefined) return named;
  const beside = join(dirname(conf), 'ipsec.secrets');
  return existsSync(beside) ? beside : undefined;
}

export function importIpsecConf(conf: string, secrets: string | undefined): ImportResult {
  return convertIpsecConf(conf, diskIo, secrets !== undefined ? { secretsFile: secrets } : {});
}

export async function runImport(argv: readonly string[], out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.stdout.write(IMPORT_USAGE + '\n');
    return 0;
  }
  let opts: Map<string, string>;
  try {
    opts = parseArgs(argv, SPEC);
  } catch (e) {
    if (e instanceof UsageError) {
      out.stderr.write(`cygnet import: ${e.message}\n${IMPORT_USAGE}\n`);
      return 2;
    }
    throw e;
  }
  const conf = opts.get('ipsec-conf') ?? '/etc/ipsec.conf';
  const secrets = secretsFor(conf, opts.get('secrets'));
  let result: ImportResult;
  try {
    result = importIpsecConf(conf, secrets);
  } catch (e) {
    if (isConfigError(e)) {
      out.stderr.write(`cygnet import: ${conf} cannot be converted (${e.errors.length} error${e.errors.length === 1 ? '' : 's'}):\n`);
      for (const x of e.errors) out.stderr.write(`  ${x.message}\n`);
      return 1;
    }
    throw e;
  }
  for (const n of result.notes) out.stderr.write(`cygnet import: not carried: ${n.loc.file}:${n.loc.line}: ${n.what}: ${n.why}\n`);
  const outFile = opts.get('output');
  if (outFile !== undefined) {
    writeFileSync(outFile, result.text, { mode: 0o600 });
    const on = result.connections.filter((c) => c.disabled === undefined).length;
    out.stderr.write(`cygnet import: wrote ${outFile}: ${on} connection(s) active, ${result.connections.length - on} commented out, ${result.notes.length} note(s)\n`);
  } else {
    out.stdout.write(result.text);
  }
  return 0;
}

/**
 * The daemon's view of an ipsec.conf: a swanctl.conf path that `refresh()` rewrites from the ipsec.conf (at
 * start and on every reload) in a private directory, with ipsec.d's credential folders linked in.
 */
export interface MaterializedIpsecConf {
  readonly path: string;
  readonly result: () => ImportResult;
  refresh(): void;
  cleanup(): void;
}

export function materializeIpsecConf(conf: string, secretsNamed?: string): MaterializedIpsecConf {
  const dir = mkdtempSync(join(tmpdir(), 'cygnet-ipsec-conf-'));
  const path = join(dir, 'swanctl.conf');
  const ipsecD = join(dirname(resolve(conf)), 'ipsec.d');
  for (const [swanctl, starter] of [['x509', 'certs'], ['x509ca', 'cacerts'], ['x509crl', 'crls'], ['private', 'private']] as const) {
    if (existsSync(join(ipsecD, starter))) symlinkSync(join(ipsecD, starter), join(dir, swanctl));
  }
  let last: ImportResult | undefined;
  const m: MaterializedIpsecConf = {
    path,
    result: () => last!,
    refresh() {
      last = importIpsecConf(conf, secretsFor(conf, secretsNamed));
      writeFileSync(path, last.text, { mode: 0o600 });
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  m.refresh();
  process.once('exit', () => m.cleanup());
  return m;
}

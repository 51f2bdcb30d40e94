/**
 * `cygnet check` and `cygnet import` as commands: exit statuses, every error at once with file:line, the
 * default paths, the conversion written 0600 and loadable by `cygnet check`.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { credentialProblemAt, defaultConfigPath, runCheck } from '../../src/cli/check.js';
import { parseSwanctlConfig } from '../../src/config/index.js';
import { runImport } from '../../src/cli/import.js';

const FIX = new URL('../fixtures/ipsec-conf/', import.meta.url).pathname;

async function run(fn: (argv: string[], out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }) => Promise<number>, argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d) => (o += String(d)));
  stderr.on('data', (d) => (e += String(d)));
  const code = await fn(argv, { stdout, stderr });
  return { code, out: o, err: e };
}

describe('cygnet check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cygnet-check-'));

  it('lists every error and warning with file:line and exits 1', async () => {
    const f = join(dir, 'bad.conf');
    writeFileSync(f, 'connections {\n  a {\n    remote_adrs = 1.2.3.4\n    local {\n      auth = psk  id = x\n    }\n    children {\n      c {\n        rekey_time = 5s\n        esp_proposals = aes129gcm16\n      }\n    }\n  }\n}\n');
    const r = await run(runCheck, [f]);
    expect(r.code).toBe(1);
    expect(r.out.split('\n').filter((l) => l.startsWith('error: ')).map((l) => l.replace(f, 'F').slice(0, 48))).toEqual([
      "error: F:3: connections.a.remote_adrs: unknown k",
      "error: F:5: 'id =' on the same line as 'auth =':",
      'error: F:10: connections.a.children.c.esp_propos',
    ]);
    expect(r.out).toMatch(/warning: .*:9: .*rekey_time = 5s leaves the rekey no room/);
    expect(r.err).toMatch(/3 errors, 1 warning/);
  });

  it('a configuration that loads exits 0', async () => {
    const f = join(dir, 'good.conf');
    writeFileSync(f, 'connections {\n  a {\n    remote_addrs = 192.0.2.1\n    local {\n      auth = psk\n    }\n    remote {\n      auth = psk\n    }\n    children {\n      c {\n        remote_ts = 10.0.0.0/8\n      }\n    }\n  }\n}\nsecrets {\n  ike-1 {\n    secret = s3cr3t-s3cr3t\n  }\n}\n');
    const r = await run(runCheck, [f]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/0 errors, 0 warnings: configuration OK/);
  });

  it('the default file is /etc/cygnet/swanctl.conf, strongSwan\'s with --swanctl; a missing one is an error saying so', async () => {
    expect(defaultConfigPath(false)).toBe('/etc/cygnet/swanctl.conf');
    expect(defaultConfigPath(true)).toBe('/etc/swanctl/swanctl.conf');
    const r = await run(runCheck, [join(dir, 'nothere.conf')]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/nothere.conf: no such file/);
    expect((await run(runCheck, ['a', 'b'])).code).toBe(2);
  });

  it('checks an ipsec.conf through its conversion: the seed 004 loads, its pluto settings are warnings', async () => {
    const r = await run(runCheck, ['--ipsec-conf', `${FIX}004-openswan-psk/ipsec.conf`]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/warning: .*ipsec.conf:8: nat_traversal=yes: not carried/);
  });
});

describe('credential problems at their secrets line', () => {
  it('a key file with a passphrase section is reported at that section', () => {
    const { config } = parseSwanctlConfig('secrets {\n  private-gw {\n    file = gw.pem\n    secret = "pass"\n  }\n}\n', '/etc/cygnet/swanctl.conf');
    expect(credentialProblemAt(config, '/etc/cygnet/private/gw.pem: wrong passphrase')).toBe(
      '/etc/cygnet/swanctl.conf:2: secrets.private-gw: /etc/cygnet/private/gw.pem: wrong passphrase',
    );
    expect(credentialProblemAt(config, '/etc/cygnet/x509/other.pem: not a certificate')).toBe('/etc/cygnet/x509/other.pem: not a certificate');
  });
});

describe('cygnet import', () => {
  it('writes the converted seed 000 with mode 0600, names what it did not carry, and check accepts the result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cygnet-import-'));
    const out = join(dir, 'swanctl.conf');
    const r = await run(runImport, ['--ipsec-conf', `${FIX}000-ipfire-net2net/ipsec.conf`, '--output', out]);
    expect(r.code, r.err).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(r.err).toMatch(/not carried: .*ipsec.conf:26: dpdtimeout=120/);
    expect(r.err).toMatch(/2 connection\(s\) active, 0 commented out/);
    expect(readFileSync(out, 'utf8')).toMatch(/^ {4}id-1 = @ipfire1.example.org$/m);
    // the certificate connection needs its certificate files: check names them at the certs line
    const c = await run(runCheck, [out]);
    expect(c.out).toMatch(/error: .*swanctl.conf:\d+: connections.IPFire2Cert.local.certs: cannot load 'hostcert.pem'/);
  });

  it('an ipsec.conf with errors: all listed, exit 1, nothing printed on stdout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cygnet-import-'));
    const f = join(dir, 'ipsec.conf');
    writeFileSync(f, 'conn a\n  lefsubnet=10.0.0.0/8\n  auto=add\n  right=1.2.3.4 left=5.6.7.8\n');
    const r = await run(runImport, ['--ipsec-conf', f]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/ipsec.conf:2: conn a: unknown key 'lefsubnet'; did you mean 'leftsubnet'\?/);
    expect(r.err).toMatch(/ipsec.conf:4: 'left =' on the same line as 'right ='/);
  });
});

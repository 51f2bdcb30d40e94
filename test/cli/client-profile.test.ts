/**
 * `cygnet client-profile` on the road-warrior configurations of src/profile/fixtures (EAP with a pool, and
 * certificate users), in process: every format comes out parseable by the format's checker, and each bad input
 * (unknown connection, no CA, wrong PKCS#12 password, bad option) is exit code 2 with a message naming the cause.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIENT_PROFILE_USAGE, runClientProfile } from '../../src/cli/client-profile.js';
import { checkPowerShell, checkSswan, cmdletParameters, isPlistDict, parsePlist } from '../../src/profile/test-support.js';

const FIX = join(import.meta.dirname, '..', '..', 'src', 'profile', 'fixtures');
const EAP = join(FIX, 'eap.conf');
const CERT = join(FIX, 'cert.conf');
const P12 = join(FIX, 'carol.p12');
const tmp = mkdtempSync(join(tmpdir(), 'cygnet-client-profile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  stdout.on('data', (c: Buffer) => chunks.out.push(c));
  stderr.on('data', (c: Buffer) => chunks.err.push(c));
  const code = await runClientProfile(args, { stdout, stderr });
  return { code, stdout: Buffer.concat(chunks.out).toString('utf8'), stderr: Buffer.concat(chunks.err).toString('utf8') };
}

describe('cygnet client-profile', () => {
  it('EAP road warrior with a pool: all three formats, CA found in x509ca/ beside the configuration', async () => {
    const base = ['--config', EAP, '--connection', 'rw-eap', '--server', 'vpn.example.org', '--user', 'carol'];
    const apple = await run([...base, '--format', 'mobileconfig']);
    expect(apple.code, apple.stderr).toBe(0);
    const plist = parsePlist(apple.stdout);
    expect(isPlistDict(plist) && plist.PayloadType).toBe('Configuration');
    // the proposal Apple cannot say is named on stderr
    expect(apple.stderr).toContain('cygnet client-profile: note: IKE proposal 1 (aes192-sha256-prfsha256-modp3072) cannot be expressed in an Apple profile');

    const windows = await run([...base, '--format', 'windows']);
    expect(windows.code, windows.stderr).toBe(0);
    expect(checkPowerShell(windows.stdout)).toEqual([]);
    expect(Object.fromEntries(cmdletParameters(windows.stdout, 'Set-VpnConnectionIPsecConfiguration') ?? [])).toMatchObject({
      EncryptionMethod: 'AES256',
      IntegrityCheckMethod: 'SHA256',
      DHGroup: 'Group14',
    });
    // the first proposal's modp3072 is not among Windows' groups
    expect(windows.stderr).toContain('note: IKE proposal 1 (aes192-sha256-prfsha256-modp3072) cannot be used by Windows: Windows has none of its key exchange methods (MODP_3072)');

    const android = await run([...base, '--format', 'sswan']);
    expect(android.code, android.stderr).toBe(0);
    const doc = JSON.parse(android.stdout) as Record<string, unknown>;
    expect(checkSswan(doc)).toEqual([]);
    expect(doc).toMatchObject({ type: 'ikev2-eap', local: { eap_id: 'carol' }, 'dns-servers': ['10.10.0.53'] });
  }, 60_000);

  it('certificate users: --p12 with its password, --output written 0600', async () => {
    const out = join(tmp, 'carol.mobileconfig');
    const r = await run(['--config', CERT, '--connection', 'rw-cert', '--format', 'mobileconfig', '--p12', P12, '--p12-password', 'carol-p12', '--output', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`cygnet client-profile: wrote ${out} (mobileconfig, holds the user's PKCS#12: keep it private)`);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const plist = parsePlist(readFileSync(out, 'utf8'));
    const types = isPlistDict(plist) && Array.isArray(plist.PayloadContent) ? plist.PayloadContent.map((p) => isPlistDict(p) && p.PayloadType) : [];
    expect(types).toEqual(['com.apple.security.root', 'com.apple.security.pkcs12', 'com.apple.vpn.managed']);

    const ps = await run(['--config', CERT, '--connection', 'rw-cert', '--format', 'windows', '--p12', P12, '--p12-password', 'carol-p12']);
    expect(ps.code, ps.stderr).toBe(0);
    expect(checkPowerShell(ps.stdout)).toEqual([]);
    expect(cmdletParameters(ps.stdout, 'Add-VpnConnection')?.get('AuthenticationMethod')).toBe('MachineCertificate');
  }, 60_000);

  it('an unknown connection: exit 2 naming it and the nearest one', async () => {
    const r = await run(['--config', EAP, '--connection', 'rw-epa', '--format', 'sswan', '--server', 'vpn.example.org']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("cygnet client-profile: no connection 'rw-epa' in the configuration; did you mean 'rw-eap'?\n");
  });

  it('no CA (no --ca, no x509ca/ beside the configuration): exit 2 saying to pass --ca', async () => {
    const dir = join(tmp, 'no-ca');
    mkdirSync(dir);
    copyFileSync(EAP, join(dir, 'swanctl.conf'));
    const r = await run(['--config', join(dir, 'swanctl.conf'), '--connection', 'rw-eap', '--format', 'windows', '--server', 'vpn.example.org']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^cygnet client-profile: no CA certificate: pass --ca FILE with the CA that issued the gateway's certificate/);
    // --ca fixes it
    const ok = await run(['--config', join(dir, 'swanctl.conf'), '--connection', 'rw-eap', '--format', 'windows', '--server', 'vpn.example.org', '--ca', join(FIX, 'x509ca', 'ca.pem')]);
    expect(ok.code, ok.stderr).toBe(0);
    const missing = await run(['--config', EAP, '--connection', 'rw-eap', '--format', 'windows', '--server', 'vpn.example.org', '--ca', join(dir, 'nope.pem')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`cygnet client-profile: ${join(dir, 'nope.pem')}: cannot read the CA certificate (--ca): no such file\n`);
  });

  it('a wrong PKCS#12 password, a missing server, certificate users without --p12: exit 2 with the cause', async () => {
    const wrong = await run(['--config', CERT, '--connection', 'rw-cert', '--format', 'sswan', '--p12', P12, '--p12-password', 'nope']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('integrity check failed: wrong password');
    const noServer = await run(['--config', EAP, '--connection', 'rw-eap', '--format', 'sswan']);
    expect(noServer.code).toBe(2);
    expect(noServer.stderr).toContain('pass --server HOST');
    const noP12 = await run(['--config', CERT, '--connection', 'rw-cert', '--format', 'sswan']);
    expect(noP12.code).toBe(2);
    expect(noP12.stderr).toContain('pass --p12 FILE --p12-password PW');
  });

  it('no gateway proposal the client can do: exit 2 naming each proposal and why', async () => {
    const dir = join(tmp, 'x25519-only');
    mkdirSync(join(dir, 'x509ca'), { recursive: true });
    copyFileSync(join(FIX, 'x509ca', 'ca.pem'), join(dir, 'x509ca', 'ca.pem'));
    writeFileSync(join(dir, 'swanctl.conf'), readFileSync(EAP, 'utf8').replace(/ {8}proposals = .*\n/, '        proposals = aes256gcm16-prfsha256-x25519\n'));
    const r = await run(['--config', join(dir, 'swanctl.conf'), '--connection', 'rw-eap', '--format', 'windows', '--server', 'vpn.example.org']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "cygnet client-profile: no IKE proposal of connection 'rw-eap' is one Windows can do: proposal 1 (aes256gcm16-prfsha256-curve25519): Windows has none of its key exchange methods (CURVE_25519)\n",
    );
    // the same gateway is fine for Apple (group 31) and Android
    expect((await run(['--config', join(dir, 'swanctl.conf'), '--connection', 'rw-eap', '--format', 'mobileconfig', '--server', 'vpn.example.org', '--user', 'carol'])).code).toBe(0);
  });

  it('usage errors: exit 2 with the usage; configuration errors: exit 2 with file:line', async () => {
    const noFormat = await run(['--config', EAP, '--connection', 'rw-eap']);
    expect(noFormat.code).toBe(2);
    expect(noFormat.stderr).toBe(`cygnet client-profile: --format is required\n${CLIENT_PROFILE_USAGE}\n`);
    const badFormat = await run(['--config', EAP, '--connection', 'rw-eap', '--format', 'openvpn']);
    expect(badFormat.stderr).toMatch(/^cygnet client-profile: --format: 'openvpn' is not one of mobileconfig, windows, sswan\n/);
    const pwOnly = await run(['--config', EAP, '--connection', 'rw-eap', '--format', 'sswan', '--server', 'x', '--p12-password', 'pw']);
    expect(pwOnly.code).toBe(2);
    expect(pwOnly.stderr).toMatch(/^cygnet client-profile: --p12-password without --p12\n/);
    const missing = await run(['--config', join(tmp, 'nope.conf'), '--connection', 'rw', '--format', 'sswan']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^cygnet client-profile: .*nope\.conf has 1 error:\n {2}.*nope\.conf/);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(`${CLIENT_PROFILE_USAGE}\n`);
  });
});

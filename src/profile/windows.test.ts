import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCertificate } from '../pki/certificate.js';
import { ProfileError } from './errors.js';
import { checkPowerShell, cmdletParameters, fixtureInput } from './test-support.js';
import { buildWindowsScript, psQuote } from './windows.js';

const read = (p: string) => new Uint8Array(readFileSync(p));
const EAP_CONF = new TextDecoder().decode(read('src/profile/fixtures/eap.conf'));

/** The EAP fixture with other proposal lines. */
function withProposals(ike: string, esp: string) {
  const text = EAP_CONF.replace(/ {8}proposals = .*\n/, `        proposals = ${ike}\n`).replace(/esp_proposals = .*\n/, `esp_proposals = ${esp}\n`);
  return fixtureInput(read, 'eap.conf', { text }).input;
}

/** Windows' documented values (Set-VpnConnectionIPsecConfiguration). */
const ALLOWED: Record<string, readonly string[]> = {
  EncryptionMethod: ['DES', 'DES3', 'AES128', 'AES192', 'AES256', 'GCMAES128', 'GCMAES192', 'GCMAES256'],
  IntegrityCheckMethod: ['MD5', 'SHA1', 'SHA256', 'SHA384'],
  DHGroup: ['None', 'Group1', 'Group2', 'Group14', 'ECP256', 'ECP384', 'Group24'],
  PfsGroup: ['None', 'PFS1', 'PFS2', 'PFS2048', 'ECP256', 'ECP384', 'PFSMM', 'PFS24'],
  CipherTransformConstants: ['DES', 'DES3', 'AES128', 'AES192', 'AES256', 'GCMAES128', 'GCMAES192', 'GCMAES256', 'None'],
  AuthenticationTransformConstants: ['MD596', 'SHA196', 'SHA256128', 'GCMAES128', 'GCMAES192', 'GCMAES256', 'None'],
};

function ipsecParameters(script: string): Record<string, string> {
  const p = cmdletParameters(script, 'Set-VpnConnectionIPsecConfiguration');
  if (p === undefined) throw new Error('no Set-VpnConnectionIPsecConfiguration line');
  expect(p.get('ConnectionName')).toBe('$Name');
  expect(p.get('Force')).toBe(true);
  const out: Record<string, string> = {};
  for (const k of Object.keys(ALLOWED)) {
    const v = p.get(k);
    expect(typeof v, k).toBe('string');
    expect(ALLOWED[k], `${k} = ${String(v)}`).toContain(v);
    out[k] = String(v);
  }
  return out;
}

describe('Windows PowerShell script', () => {
  it.each([
    [
      "Windows' own weak default, accepted by a gateway that still allows it",
      'aes256-sha1-modp1024',
      'aes256-sha1',
      { EncryptionMethod: 'AES256', IntegrityCheckMethod: 'SHA1', DHGroup: 'Group2', CipherTransformConstants: 'AES256', AuthenticationTransformConstants: 'SHA196', PfsGroup: 'None' },
    ],
    [
      "seed 003's CNSA suite (RFC 6379)",
      'aes256gcm16-prfsha384-ecp384',
      'aes256gcm16-ecp384',
      { EncryptionMethod: 'GCMAES256', IntegrityCheckMethod: 'SHA384', DHGroup: 'ECP384', CipherTransformConstants: 'GCMAES256', AuthenticationTransformConstants: 'GCMAES256', PfsGroup: 'ECP384' },
    ],
    [
      'first proposal needs x25519 and chacha20 (Windows has neither), the second fits',
      'chacha20poly1305-prfsha256-x25519, aes128-sha256-modp2048',
      'chacha20poly1305, aes128gcm16-modp2048',
      { EncryptionMethod: 'AES128', IntegrityCheckMethod: 'SHA256', DHGroup: 'Group14', CipherTransformConstants: 'GCMAES128', AuthenticationTransformConstants: 'GCMAES128', PfsGroup: 'PFS2048' },
    ],
    [
      "the gateway's preference inside a proposal: the first algorithm of each kind Windows has",
      'aes128ctr-aes192-aes256-sha512-sha384-sha256-curve25519-ecp256-modp2048',
      'aes256-sha512-sha256-modpnone-ecp256',
      { EncryptionMethod: 'AES192', IntegrityCheckMethod: 'SHA384', DHGroup: 'ECP256', CipherTransformConstants: 'AES256', AuthenticationTransformConstants: 'SHA256128', PfsGroup: 'None' },
    ],
    [
      "strongSwan's default proposals",
      'default',
      'default',
      { EncryptionMethod: 'AES128', IntegrityCheckMethod: 'SHA256', DHGroup: 'ECP256', CipherTransformConstants: 'GCMAES128', AuthenticationTransformConstants: 'GCMAES128', PfsGroup: 'None' },
    ],
  ])('%s: %s / %s', (_what, ike, esp, expected) => {
    const out = buildWindowsScript(withProposals(ike, esp));
    expect(ipsecParameters(out.text)).toEqual(expected);
    expect(checkPowerShell(out.text)).toEqual([]);
  });

  it('names the proposals Windows cannot use and why', () => {
    const out = buildWindowsScript(withProposals('chacha20poly1305-prfsha256-x25519, aes128-sha256-modp2048', 'aes256gcm12, aes256gcm16'));
    expect(out.notes).toEqual([
      'IKE proposal 1 (chacha20poly1305-prfsha256-curve25519) cannot be used by Windows: Windows has none of its encryption algorithms (CHACHA20_POLY1305)',
      'ESP proposal 1 (aes256gcm12) cannot be used by Windows: Windows has none of its encryption algorithms (AES_GCM_12_256)',
    ]);
  });

  it.each([
    [
      'IKE with only groups Windows lacks',
      'aes256-sha256-curve25519-modp3072',
      'aes256gcm16',
      "no IKE proposal of connection 'rw-eap' is one Windows can do: proposal 1 (aes256-sha256-prfsha256-curve25519-modp3072): Windows has none of its key exchange methods (CURVE_25519, MODP_3072)",
    ],
    [
      'IKE integrity without the matching PRF',
      'aes256-sha256-prfsha512-ecp256',
      'aes256gcm16',
      "no IKE proposal of connection 'rw-eap' is one Windows can do: proposal 1 (aes256-sha256-prfsha512-ecp256): Windows has none of its integrity algorithms with the PRF of the same hash (HMAC_SHA2_256_128; PRFs PRF_HMAC_SHA2_512)",
    ],
    [
      'ESP integrity Windows lacks and PFS it lacks',
      'aes256-sha256-modp2048',
      'aes256-sha384, aes256gcm16-curve25519',
      "no ESP proposal of connection 'rw-eap' is one Windows can do: proposal 1 (aes256-sha384): Windows has none of its integrity algorithms (HMAC_SHA2_384_192); proposal 2 (aes256gcm16-curve25519): it requires PFS with a group Windows does not have (CURVE_25519)",
    ],
  ])('%s: a clear error', (_what, ike, esp, message) => {
    let err: unknown;
    try {
      buildWindowsScript(withProposals(ike, esp));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProfileError);
    expect((err as ProfileError).code).toBe('NO_PROPOSAL');
    expect((err as ProfileError).message).toBe(message);
  });

  it('EAP-MSCHAPv2: New-EapConfiguration, Add-VpnConnection with EAP, full tunnel, CA into the computer root store', () => {
    const { input } = fixtureInput(read, 'eap.conf');
    const { text } = buildWindowsScript(input);
    expect(checkPowerShell(text)).toEqual([]);
    expect(text).toContain('\r\n');
    const lines = text.split('\r\n');
    expect(lines).toContain('$Eap = New-EapConfiguration');
    const add = cmdletParameters(text, 'Add-VpnConnection');
    expect(Object.fromEntries(add ?? [])).toEqual({
      Name: '$Name',
      ServerAddress: '$Server',
      TunnelType: 'Ikev2',
      EncryptionLevel: 'Required',
      Force: true,
      AuthenticationMethod: 'Eap',
      EapConfigXmlStream: '$Eap.EapConfigXmlStream',
      RememberCredential: true,
    });
    expect(lines).toContain("$Server = 'vpn.example.org'");
    expect(cmdletParameters(text, 'Import-Certificate')?.get('CertStoreLocation')).toBe('Cert:\\LocalMachine\\Root');
    // The embedded CA is the fixture's, byte for byte.
    const b64 = /FromBase64String\('([A-Za-z0-9+/=]+)'\)/.exec(text)?.[1] ?? '';
    expect(new Uint8Array(Buffer.from(b64, 'base64'))).toEqual(loadCertificate(read('src/profile/fixtures/x509ca/ca.pem')).der);
    expect(text).not.toContain('Import-PfxCertificate');
    expect(text).not.toContain('Add-VpnConnectionRoute');
  });

  it('certificate users: machine certificate, PKCS#12 password asked for (never in the script), split-tunnel routes', () => {
    const { input } = fixtureInput(read, 'cert.conf');
    const { text } = buildWindowsScript(input);
    expect(checkPowerShell(text)).toEqual([]);
    expect(cmdletParameters(text, 'Add-VpnConnection')?.get('AuthenticationMethod')).toBe('MachineCertificate');
    expect(cmdletParameters(text, 'Add-VpnConnection')?.get('SplitTunneling')).toBe(true);
    expect(cmdletParameters(text, 'Import-PfxCertificate')?.get('CertStoreLocation')).toBe('Cert:\\LocalMachine\\My');
    expect(text).not.toContain('carol-p12');
    expect(text).toContain('Read-Host -AsSecureString');
    const routes = text.split('\r\n').filter((l) => l.startsWith('Add-VpnConnectionRoute'));
    expect(routes).toEqual([
      "Add-VpnConnectionRoute -ConnectionName $Name -DestinationPrefix '10.1.0.0/16'",
      "Add-VpnConnectionRoute -ConnectionName $Name -DestinationPrefix '192.168.50.0/24'",
    ]);
  });

  it('quotes names so nothing in them runs', () => {
    expect(psQuote("it's $(calc)")).toBe("'it''s $(calc)'");
    expect(psQuote('a\u2019b')).toBe("'a\u2019\u2019b'");
    expect(() => psQuote('two\nlines')).toThrow(/line break/);
    const { input } = fixtureInput(read, 'eap.conf', { displayName: "Carol's \"VPN\" $(rm -rf)" });
    const { text } = buildWindowsScript(input);
    expect(checkPowerShell(text)).toEqual([]);
    expect(text).toContain("$Name = 'Carol''s \"VPN\" $(rm -rf)'");
  });

  it('the sanity checker itself catches broken scripts', () => {
    expect(checkPowerShell("$a = 'open")).toEqual(['line 1: unterminated single-quoted string']);
    expect(checkPowerShell('if ($x) {')).toEqual(["unclosed '{' at the end"]);
    expect(checkPowerShell('Add-VpnConnection -Name x; Set-VpnConnectionIPsecConfiguration -Force')).toContain('line 1: two cmdlet calls on one line');
    expect(checkPowerShell('$x Add-VpnConnection -Name x')).toEqual(['line 1: Add-VpnConnection is not at the start of a statement']);
  });
});

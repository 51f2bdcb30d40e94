import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCertificate } from '../pki/certificate.js';
import { ProfileError } from './errors.js';
import { buildMobileconfig, deadPeerDetectionRate, payloadIdentifier } from './mobileconfig.js';
import { writePlist } from './plist.js';
import { countingRandom, fixtureInput, isPlistDict, parsePlist, type PlistParsed } from './test-support.js';

const read = (p: string) => new Uint8Array(readFileSync(p));

/** Apple's documented values (mdm/profiles/com.apple.vpn.managed.yaml, SecurityAssociationParameters). */
const APPLE_ENCRYPTION = ['DES', '3DES', 'AES-128', 'AES-256', 'AES-128-GCM', 'AES-256-GCM', 'ChaCha20Poly1305'];
const APPLE_INTEGRITY = ['SHA1-96', 'SHA1-160', 'SHA2-256', 'SHA2-384', 'SHA2-512'];
const APPLE_GROUPS = [1, 2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 31, 32];
const UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;

function dict(v: PlistParsed | undefined, what: string): { [key: string]: PlistParsed } {
  if (!isPlistDict(v)) throw new Error(`${what} is not a dict`);
  return v;
}

function payloads(text: string) {
  const root = dict(parsePlist(text), 'root');
  const content = root.PayloadContent;
  if (!Array.isArray(content)) throw new Error('PayloadContent is not an array');
  const byType = new Map(content.map((p) => [String(dict(p, 'payload').PayloadType), dict(p, 'payload')]));
  return { root, content: content.map((p) => dict(p, 'payload')), byType };
}

function checkSaParameters(sa: { [key: string]: PlistParsed }, child: boolean): void {
  expect(APPLE_ENCRYPTION).toContain(sa.EncryptionAlgorithm);
  if (!child || sa.IntegrityAlgorithm !== undefined) expect(APPLE_INTEGRITY).toContain(sa.IntegrityAlgorithm);
  expect(APPLE_GROUPS).toContain(sa.DiffieHellmanGroup);
  if (sa.LifeTimeInMinutes !== undefined) {
    expect(sa.LifeTimeInMinutes).toBeGreaterThanOrEqual(10);
    expect(sa.LifeTimeInMinutes).toBeLessThanOrEqual(1440);
  }
}

describe('the strict plist reader (test-support) refuses what plutil -lint refuses', () => {
  const wrap = (body: string) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n${body}\n</plist>\n`;
  it('reads what the writer writes, escapes included', () => {
    const data = Uint8Array.from([0, 1, 2, 250, 255]);
    const text = writePlist({ s: 'a < b & "c" > d', n: -42, t: true, f: false, d: data, a: ['x', 1], e: {} });
    expect(parsePlist(text)).toEqual({ s: 'a < b & "c" > d', n: -42, t: true, f: false, d: data, a: ['x', 1], e: {} });
  });
  it.each([
    ['a value without its key', wrap('<dict><string>x</string></dict>')],
    ['a duplicate key', wrap('<dict><key>a</key><integer>1</integer><key>a</key><integer>2</integer></dict>')],
    ['mismatched tags', wrap('<dict><key>a</key><string>x</dict></string>')],
    ['a bare ampersand', wrap('<dict><key>a</key><string>x & y</string></dict>')],
    ['an unknown entity', wrap('<dict><key>a</key><string>&nbsp;</string></dict>')],
    ['a non-integer', wrap('<dict><key>a</key><integer>1.5</integer></dict>')],
    ['bad base64', wrap('<dict><key>a</key><data>!!!</data></dict>')],
    ['an unknown element', wrap('<dict><key>a</key><real>1.0</real></dict>')],
    ['no DOCTYPE', '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict/></plist>'],
    ['trailing content', `${wrap('<dict/>')}<dict/>`],
  ])('refuses %s', (_what, text) => {
    expect(() => parsePlist(text)).toThrow();
  });
  it('the writer refuses characters XML cannot carry', () => {
    expect(() => writePlist({ s: 'bell\u0007' })).toThrow(/U\+0007/);
  });
});

describe('Apple .mobileconfig', () => {
  it('EAP-MSCHAPv2 road warrior: well-formed plist with the VPN and CA payloads and the gateway’s algorithms', () => {
    const { input, notes } = fixtureInput(read, 'eap.conf');
    expect(notes).toEqual([]);
    const out = buildMobileconfig(input, countingRandom());
    const { root, content, byType } = payloads(out.text);
    expect(root).toMatchObject({ PayloadType: 'Configuration', PayloadVersion: 1, PayloadIdentifier: 'org.example.vpn.cygnet.rw-eap' });
    expect(content.map((p) => p.PayloadType)).toEqual(['com.apple.security.root', 'com.apple.vpn.managed']);
    // Every payload has its own random v4 UUID and an identifier under the profile's.
    const uuids = [root.PayloadUUID, ...content.map((p) => p.PayloadUUID)];
    for (const u of uuids) expect(String(u)).toMatch(UUID);
    expect(new Set(uuids).size).toBe(uuids.length);
    for (const p of content) expect(String(p.PayloadIdentifier).startsWith(`${String(root.PayloadIdentifier)}.`)).toBe(true);

    const ca = byType.get('com.apple.security.root');
    expect(ca?.PayloadContent).toEqual(loadCertificate(read('src/profile/fixtures/x509ca/ca.pem')).der);
    const vpn = byType.get('com.apple.vpn.managed');
    expect(vpn).toMatchObject({ VPNType: 'IKEv2', UserDefinedName: 'vpn.example.org' });
    const ikev2 = dict(vpn?.IKEv2, 'IKEv2');
    expect(ikev2).toMatchObject({
      RemoteAddress: 'vpn.example.org',
      RemoteIdentifier: 'vpn.example.org',
      LocalIdentifier: 'carol',
      AuthenticationMethod: 'None',
      ExtendedAuthEnabled: 1,
      AuthName: 'carol',
      ServerCertificateIssuerCommonName: 'cygnet Example CA',
      // dpd_delay = 300s: the device checks every minute
      DeadPeerDetectionRate: 'High',
    });
    expect(ikev2.PayloadCertificateUUID).toBeUndefined();
    expect(ikev2.EnablePFS).toBeUndefined();
    // proposals = aes192-sha256-modp3072, aes256-sha256-modp2048, ...: Apple has no AES-192, so the second.
    const ike = dict(ikev2.IKESecurityAssociationParameters, 'IKE SA');
    expect(ike).toEqual({ EncryptionAlgorithm: 'AES-256', IntegrityAlgorithm: 'SHA2-256', DiffieHellmanGroup: 14, LifeTimeInMinutes: 240 });
    checkSaParameters(ike, false);
    const child = dict(ikev2.ChildSecurityAssociationParameters, 'CHILD SA');
    expect(child).toEqual({ EncryptionAlgorithm: 'AES-256-GCM', DiffieHellmanGroup: 14, LifeTimeInMinutes: 60 });
    checkSaParameters(child, true);
    expect(out.notes).toEqual([
      'IKE proposal 1 (aes192-sha256-prfsha256-modp3072) cannot be expressed in an Apple profile: Apple has none of its encryption algorithms (AES_CBC_192)',
    ]);
  });

  it('certificate road warrior: PKCS#12 payload referenced by the VPN, ECDSA certificate type, PFS from the ESP proposal', () => {
    const { input } = fixtureInput(read, 'cert.conf');
    const out = buildMobileconfig(input, countingRandom());
    const { content, byType } = payloads(out.text);
    expect(content.map((p) => p.PayloadType)).toEqual(['com.apple.security.root', 'com.apple.security.pkcs12', 'com.apple.vpn.managed']);
    const p12 = byType.get('com.apple.security.pkcs12');
    expect(p12?.PayloadContent).toEqual(read('src/profile/fixtures/carol.p12'));
    expect(p12?.Password).toBe('carol-p12');
    const ikev2 = dict(byType.get('com.apple.vpn.managed')?.IKEv2, 'IKEv2');
    expect(ikev2).toMatchObject({
      RemoteAddress: 'vpn.example.org',
      RemoteIdentifier: 'vpn.example.org',
      // from the certificate's subjectAltName
      LocalIdentifier: 'carol@example.org',
      AuthenticationMethod: 'Certificate',
      PayloadCertificateUUID: p12?.PayloadUUID,
      CertificateType: 'ECDSA256',
      ServerCertificateIssuerCommonName: 'cygnet Example CA',
      DeadPeerDetectionRate: 'High',
      EnablePFS: 1,
    });
    expect(ikev2.ExtendedAuthEnabled).toBeUndefined();
    expect(ikev2.AuthName).toBeUndefined();
    // aes256gcm16-prfsha384-ecp384: AEAD, so the integrity key names the PRF's hash
    expect(ikev2.IKESecurityAssociationParameters).toEqual({ EncryptionAlgorithm: 'AES-256-GCM', IntegrityAlgorithm: 'SHA2-384', DiffieHellmanGroup: 20, LifeTimeInMinutes: 240 });
    expect(ikev2.ChildSecurityAssociationParameters).toEqual({ EncryptionAlgorithm: 'AES-256-GCM', DiffieHellmanGroup: 20, LifeTimeInMinutes: 30 });
    expect(out.notes).toContain('the profile carries the PKCS#12 password: hand it to the user as privately as the PKCS#12 itself');
  });

  it('EAP-TLS: EAP with the PKCS#12 identity, no IKE certificate authentication', () => {
    const text = new TextDecoder().decode(read('src/profile/fixtures/eap.conf')).replace('auth = eap-mschapv2', 'auth = eap-tls');
    const { input } = fixtureInput(read, 'eap.conf', { text, user: undefined, pkcs12: { der: read('src/profile/fixtures/carol.p12'), name: 'carol.p12', password: 'carol-p12' } });
    const { byType } = payloads(buildMobileconfig(input, countingRandom()).text);
    const ikev2 = dict(byType.get('com.apple.vpn.managed')?.IKEv2, 'IKEv2');
    expect(ikev2).toMatchObject({
      AuthenticationMethod: 'None',
      ExtendedAuthEnabled: 1,
      LocalIdentifier: 'carol@example.org',
      PayloadCertificateUUID: byType.get('com.apple.security.pkcs12')?.PayloadUUID,
    });
    expect(ikev2.AuthName).toBeUndefined();
    expect(ikev2.CertificateType).toBeUndefined();
  });

  it('a gateway none of whose proposals Apple can express: a ProfileError naming each and why', () => {
    const text = new TextDecoder()
      .decode(read('src/profile/fixtures/eap.conf'))
      .replace(/proposals = aes192-sha256-modp3072.*\n/, 'proposals = aes192-sha256-modp2048, aes128ctr-sha256-ecp256\n');
    const { input } = fixtureInput(read, 'eap.conf', { text });
    let err: unknown;
    try {
      buildMobileconfig(input, countingRandom());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProfileError);
    expect((err as ProfileError).code).toBe('NO_PROPOSAL');
    expect((err as ProfileError).message).toBe(
      "no IKE proposal of connection 'rw-eap' can be expressed in an Apple profile: " +
        'proposal 1 (aes192-sha256-prfsha256-modp2048): Apple has none of its encryption algorithms (AES_CBC_192); ' +
        'proposal 2 (aes128ctr-sha256-prfsha256-ecp256): Apple has none of its encryption algorithms (AES_CTR_128)',
    );
  });

  it('ESP that needs extended sequence numbers or a PFS group Apple lacks is skipped with the reason', () => {
    const text = new TextDecoder()
      .decode(read('src/profile/fixtures/eap.conf'))
      .replace('esp_proposals = aes256gcm16, aes256-sha256', 'esp_proposals = aes256gcm16-esn, aes128-sha256-modp2048s256, aes128-sha1-ecp256');
    const { input } = fixtureInput(read, 'eap.conf', { text });
    const out = buildMobileconfig(input, countingRandom());
    const ikev2 = dict(payloads(out.text).byType.get('com.apple.vpn.managed')?.IKEv2, 'IKEv2');
    expect(ikev2.ChildSecurityAssociationParameters).toEqual({ EncryptionAlgorithm: 'AES-128', IntegrityAlgorithm: 'SHA1-96', DiffieHellmanGroup: 19, LifeTimeInMinutes: 60 });
    expect(ikev2.EnablePFS).toBe(1);
    expect(out.notes).toEqual(
      expect.arrayContaining([
        'ESP proposal 1 (aes256gcm16-esn) cannot be expressed in an Apple profile: it requires extended sequence numbers, which Apple does not negotiate',
        'ESP proposal 2 (aes128-sha256-modp2048s256) cannot be expressed in an Apple profile: it requires PFS with a group Apple does not have (MODP_2048_256)',
      ]),
    );
  });

  it('EAP without a user name: Apple requires LocalIdentifier, so the error says to pass --user', () => {
    const { input } = fixtureInput(read, 'eap.conf', { user: undefined });
    expect(() => buildMobileconfig(input, countingRandom())).toThrow(/pass --user NAME/);
  });

  it('lifetimes outside Apple’s 10..1440 minutes are clamped with a note', () => {
    const text = new TextDecoder().decode(read('src/profile/fixtures/eap.conf')).replace('rekey_time = 4h', 'rekey_time = 2d');
    const { input } = fixtureInput(read, 'eap.conf', { text });
    const out = buildMobileconfig(input, countingRandom());
    const ikev2 = dict(payloads(out.text).byType.get('com.apple.vpn.managed')?.IKEv2, 'IKEv2');
    expect(dict(ikev2.IKESecurityAssociationParameters, 'IKE').LifeTimeInMinutes).toBe(1440);
    expect(out.notes).toContain("IKE SA lifetime: the gateway's 2880 minutes is outside Apple's 10-1440; the profile says 1440");
  });

  it('DeadPeerDetectionRate follows dpd_delay; identifiers are reverse DNS', () => {
    expect([0, 30_000, 300_000, 600_000, 1_200_000, 3_600_000].map(deadPeerDetectionRate)).toEqual(['None', 'High', 'High', 'Medium', 'Medium', 'Low']);
    expect(payloadIdentifier('vpn.example.org', 'rw')).toBe('org.example.vpn.cygnet.rw');
    expect(payloadIdentifier('192.0.2.1', 'road warriors')).toBe('192-0-2-1.cygnet.road-warriors');
    expect(payloadIdentifier('2001:db8::1', 'rw')).toBe('2001-db8-1.cygnet.rw');
  });
});

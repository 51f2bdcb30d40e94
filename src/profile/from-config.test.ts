import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSettings } from '../config/parser.js';
import { ProfileError, type ProfileErrorCode } from './errors.js';
import { buildForProfile, profileInput } from './from-config.js';
import { fixtureInput } from './test-support.js';

const read = (p: string) => new Uint8Array(readFileSync(p));
const EAP_CONF = new TextDecoder().decode(read('src/profile/fixtures/eap.conf'));

function fails(f: () => unknown): { code: ProfileErrorCode; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof ProfileError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('no ProfileError');
}

describe('profile input from swanctl.conf', () => {
  it('reads EAP rounds whether or not the builder takes them yet, everything else through the builder', () => {
    const src = buildForProfile(parseSettings(EAP_CONF, 'eap.conf'));
    // either the builder typed it, or the stand-in kept it
    const remote = src.eapAuth.get('rw-eap.remote') ?? src.config.connections.get('rw-eap')?.remote[0]?.auth;
    expect(remote).toEqual({ class: 'eap', method: 'mschapv2', text: 'eap-mschapv2' });
    const { input } = fixtureInput(read, 'eap.conf');
    expect(input.auth).toEqual({ kind: 'eap', method: 'mschapv2' });
    expect(input).toMatchObject({
      connection: 'rw-eap',
      server: 'vpn.example.org',
      serverId: 'vpn.example.org',
      port: 500,
      user: 'carol',
      ikeRekeyMs: 4 * 3600_000,
      childRekeyMs: 3600_000,
      dpdDelayMs: 300_000,
      subnets: [],
      fullTunnel: { v4: true, v6: false },
      poolFamilies: { v4: true, v6: false },
      dns: ['10.10.0.53'],
    });
    expect(input.ikeProposals.map((p) => [p.index, p.source])).toEqual([
      [1, 'aes192-sha256-modp3072'],
      [2, 'aes256-sha256-modp2048'],
      [3, 'aes256gcm16-prfsha384-ecp384'],
    ]);
  });

  it('a template sharing the auth key with its parent is EAP too', () => {
    const text = EAP_CONF.replace('pools {', 'connections {\n    rw-eap2 : connections.rw-eap {\n        pools = rw-pool\n    }\n}\n\npools {');
    for (const connection of ['rw-eap', 'rw-eap2']) {
      expect(fixtureInput(read, 'eap.conf', { text, connection }).input.auth).toEqual({ kind: 'eap', method: 'mschapv2' });
    }
  });

  it('an EAP method issue 14 does not bring stays the builder’s error', () => {
    expect(() => buildForProfile(parseSettings(EAP_CONF.replace('auth = eap-mschapv2', 'auth = eap-gtc'), 'eap.conf'))).toThrow(/eap\.conf:\d+: .*EAP/);
  });

  it('plain `eap` and eap-radius are password methods, eap-tls a certificate one', () => {
    const auth = (a: string, p12 = false) =>
      fixtureInput(read, 'eap.conf', {
        text: EAP_CONF.replace('auth = eap-mschapv2', `auth = ${a}`),
        ...(p12 ? { pkcs12: { der: read('src/profile/fixtures/carol.p12'), name: 'carol.p12', password: 'carol-p12' } } : {}),
      });
    expect(auth('eap').input.auth).toEqual({ kind: 'eap', method: '' });
    const radius = auth('eap-radius');
    expect(radius.input.auth).toEqual({ kind: 'eap', method: 'radius' });
    expect(radius.notes.some((n) => n.includes('auth = eap-radius: the EAP method is the RADIUS server'))).toBe(true);
    expect(auth('eap-tls', true).input.auth).toEqual({ kind: 'eap-tls' });
  });

  it.each<[string, ProfileErrorCode, () => unknown, RegExp]>([
    ['an unknown connection, with the nearest name', 'NO_CONNECTION', () => fixtureInput(read, 'eap.conf', { connection: 'rw-epa' }), /^no connection 'rw-epa' in the configuration; did you mean 'rw-eap'\?$/],
    ['no server for local_addrs = %any', 'NO_SERVER', () => fixtureInput(read, 'eap.conf', { server: undefined }), /eap\.conf:\d+: connections\.rw-eap: local_addrs names no address .* pass --server HOST/],
    ['no CA', 'NO_CA', () => fixtureInput(read, 'eap.conf', { ca: undefined }), /^no CA certificate: pass --ca FILE/],
    ['a CA file that is no certificate', 'BAD_CREDENTIAL', () => fixtureInput(read, 'eap.conf', { ca: { der: new TextEncoder().encode('hello'), name: 'ca.txt' } }), /^ca\.txt: cannot read the CA certificate: /],
    ['certificate users without a PKCS#12', 'NO_PKCS12', () => fixtureInput(read, 'cert.conf', { pkcs12: undefined }), /auth = pubkey: users authenticate with a certificate.*pass --p12 FILE --p12-password PW/],
    [
      'a wrong PKCS#12 password',
      'BAD_CREDENTIAL',
      () => fixtureInput(read, 'cert.conf', { pkcs12: { der: read('src/profile/fixtures/carol.p12'), name: 'carol.p12', password: 'wrong' } }),
      /^carol\.p12: cannot read the PKCS#12: carol\.p12: integrity check failed: wrong password/,
    ],
    [
      'a PKCS#12 password not given',
      'BAD_CREDENTIAL',
      () => fixtureInput(read, 'cert.conf', { pkcs12: { der: read('src/profile/fixtures/carol.p12'), name: 'carol.p12', password: undefined } }),
      /^carol\.p12: the PKCS#12 is protected by a password: pass --p12-password$/,
    ],
    [
      'a PSK road warrior',
      'UNSUITABLE',
      () => fixtureInput(read, 'eap.conf', { text: EAP_CONF.replace('auth = eap-mschapv2', 'auth = psk') }),
      /connections\.rw-eap\.remote: auth = psk: road-warrior clients authenticate with EAP/,
    ],
    [
      'a gateway that does not use its certificate',
      'UNSUITABLE',
      () => fixtureInput(read, 'eap.conf', { text: EAP_CONF.replace(/auth = pubkey\n {12}certs = gateway.pem/, 'auth = psk') }),
      /connections\.rw-eap\.local: auth = psk: the clients expect the gateway to authenticate with its certificate/,
    ],
    ['no children', 'UNSUITABLE', () => fixtureInput(read, 'eap.conf', { text: EAP_CONF.replace(/children \{[\s\S]*?\n {8}\}\n/, '') }), /no children \{ \}/],
  ])('%s: ProfileError %s', (_what, code, f, message) => {
    const e = fails(f);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  it('configuration errors stay the builder’s ConfigErrors with file:line', () => {
    expect(() => buildForProfile(parseSettings(EAP_CONF.replace('dpd_delay = 300s', 'dpd_delay = soon'), 'eap.conf'))).toThrow(/eap\.conf:\d+: .*dpd_delay/);
  });

  it('notes what clients will trip over: no local id, a certificate without the server name, a foreign CA', () => {
    const { input, notes } = fixtureInput(read, 'eap.conf', { text: EAP_CONF.replace('            id = vpn.example.org\n', ''), server: 'gw.example.net' });
    // strongSwan's default local identity is the certificate's subject
    expect(input.serverId).toBe('C=CH, O=cygnet example, CN=vpn.example.org');
    expect(notes).toEqual([
      "the gateway's certificate x509/gateway.pem has no subjectAltName 'gw.example.net' (it has vpn.example.org): Windows and Apple clients check the server name against it",
      "src/profile/fixtures/eap.conf:8: connections.rw-eap.local: no id: clients are told to expect 'C=CH, O=cygnet example, CN=vpn.example.org'; set local.id = gw.example.net so the gateway sends the name they check",
    ]);
    const foreign = fixtureInput(read, 'eap.conf', { ca: { der: read('src/profile/fixtures/x509/gateway.pem'), name: 'gateway.pem' } }).notes;
    expect(foreign).toEqual([
      'gateway.pem (C=CH, O=cygnet example, CN=vpn.example.org) is not a CA certificate (no basicConstraints CA:TRUE): devices will not accept it as a trust anchor',
      `the gateway's certificate x509/gateway.pem is issued by "C=CH, O=cygnet example, CN=cygnet Example CA", not by the CA in the profile ("C=CH, O=cygnet example, CN=vpn.example.org"): clients will not trust the gateway`,
    ]);
  });

  it('profileInput is usable without the gateway certificate', () => {
    const src = buildForProfile(parseSettings(EAP_CONF, 'eap.conf'));
    const { input } = profileInput(src, { connection: 'rw-eap', server: 'vpn.example.org', ca: { der: read('src/profile/fixtures/x509ca/ca.pem'), name: 'ca.pem' } });
    expect(input.user).toBeUndefined();
    expect(input.ca.commonName).toBe('cygnet Example CA');
  });
});

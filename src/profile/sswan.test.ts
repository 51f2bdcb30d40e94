import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCertificate } from '../pki/certificate.js';
import { buildSswan } from './sswan.js';
import { checkSswan, countingRandom, fixtureInput } from './test-support.js';

const read = (p: string) => new Uint8Array(readFileSync(p));
const caDer = () => loadCertificate(read('src/profile/fixtures/x509ca/ca.pem')).der;
const b64 = (s: unknown) => new Uint8Array(Buffer.from(String(s), 'base64'));

describe('strongSwan Android .sswan', () => {
  it('EAP road warrior: valid JSON the documented schema accepts, strongSwan proposal syntax, DNS, IPv6 blocked', () => {
    const { input } = fixtureInput(read, 'eap.conf');
    const out = buildSswan(input, countingRandom());
    const doc = JSON.parse(out.text) as Record<string, unknown>;
    expect(checkSswan(doc)).toEqual([]);
    expect(doc).toEqual({
      uuid: '00010203-0405-4607-8809-0a0b0c0d0e0f',
      name: 'vpn.example.org',
      type: 'ikev2-eap',
      remote: { addr: 'vpn.example.org', id: 'vpn.example.org', cert: expect.any(String) },
      local: { eap_id: 'carol' },
      'ike-proposal': 'aes192-sha256-prfsha256-modp3072',
      'esp-proposal': 'aes256gcm16',
      'dns-servers': ['10.10.0.53'],
      // full IPv4 tunnel, no IPv6 pool: IPv6 must not leak around the tunnel
      'split-tunneling': { 'block-ipv6': true },
    });
    expect(b64((doc.remote as Record<string, unknown>).cert)).toEqual(caDer());
    expect(out.notes).toEqual([
      "the app takes one IKE proposal: the profile has the gateway's first (aes192-sha256-prfsha256-modp3072), not the 2 after it",
      "the app takes one ESP proposal: the profile has the gateway's first (aes256gcm16), not the 1 after it",
    ]);
  });

  it('certificate road warrior: ikev2-cert with the PKCS#12, the identity from its certificate, split subnets', () => {
    const { input } = fixtureInput(read, 'cert.conf');
    const doc = JSON.parse(buildSswan(input, countingRandom()).text) as Record<string, unknown>;
    expect(checkSswan(doc)).toEqual([]);
    expect(doc.type).toBe('ikev2-cert');
    const local = doc.local as Record<string, unknown>;
    expect(local.id).toBe('carol@example.org');
    expect(b64(local.p12)).toEqual(read('src/profile/fixtures/carol.p12'));
    expect(local.eap_id).toBeUndefined();
    expect(doc['split-tunneling']).toEqual({ subnets: ['10.1.0.0/16', '192.168.50.0/24'] });
    expect(doc['ike-proposal']).toBe('aes256gcm16-prfsha384-ecp384');
    expect(doc['esp-proposal']).toBe('aes256gcm16-ecp384');
    expect(doc['dns-servers']).toEqual(['10.1.0.53', '10.1.0.54']);
  });

  it('EAP-TLS and a non-default port; `default` proposals are left to the app', () => {
    const text = new TextDecoder()
      .decode(read('src/profile/fixtures/eap.conf'))
      .replace('auth = eap-mschapv2', 'auth = eap-tls')
      .replace(/ {8}proposals = .*\n/, '        local_port = 4501\n')
      .replace(/esp_proposals = .*\n/, 'esp_proposals = default\n');
    const { input } = fixtureInput(read, 'eap.conf', { text, pkcs12: { der: read('src/profile/fixtures/carol.p12'), name: 'carol.p12', password: 'carol-p12' } });
    const doc = JSON.parse(buildSswan(input, countingRandom()).text) as Record<string, unknown>;
    expect(checkSswan(doc)).toEqual([]);
    expect(doc.type).toBe('ikev2-eap-tls');
    expect((doc.remote as Record<string, unknown>).port).toBe(4501);
    expect(doc['ike-proposal']).toBeUndefined();
    expect(doc['esp-proposal']).toBeUndefined();
    expect((doc.local as Record<string, unknown>).id).toBe('carol');
  });

  it('the schema checker refuses what the app refuses', () => {
    expect(checkSswan({ name: 'x', type: 'ikev2-eap', remote: { addr: 'a' } })).toEqual(['uuid: required']);
    expect(checkSswan({ uuid: 'not-a-uuid', name: 'x', type: 'ikev2-psk', remote: {} })).toEqual([
      'uuid: not an RFC 4122 UUID',
      'type: not one of ikev2-eap, ikev2-cert, ikev2-cert-eap, ikev2-eap-tls, ikev2-byod-eap',
      'remote.addr: required',
    ]);
    const ok = { uuid: '00010203-0405-4607-8809-0a0b0c0d0e0f', name: 'x', type: 'ikev2-eap', remote: { addr: 'a' } };
    expect(checkSswan({ ...ok, 'ike-proposal': 'aes256-sha256' })).toEqual([
      "ike-proposal: invalid proposal: 'aes256-sha256' (proposal 1, column 1): no key exchange method: IKE proposals need one (e.g. x25519, modp2048)",
    ]);
    expect(checkSswan({ ...ok, remote: { addr: 'a', port: 70000, cert: 'x!' } })).toEqual(['remote.port: not in 1..65535', 'remote.cert: not base64']);
    expect(checkSswan({ ...ok, 'split-tunneling': { subnets: ['10.0.0.0/8', 'bogus'] }, colour: 'red' })).toEqual([
      "split-tunneling.subnets: 'bogus' is not an address, subnet or range",
      'colour: not a documented key',
    ]);
    expect(checkSswan({ ...ok, mtu: '1400' })).toEqual(['mtu: expected integer, found "1400"']);
  });
});

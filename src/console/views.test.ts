import { describe, expect, it } from 'vitest';
import { generateKey } from '../pki/keygen.js';
import { publicKeyOf } from '../pki/keys.js';
import { issueCertificate } from '../pki/build.js';
import { certView, connViews, poolViews, sasOf } from './views.js';

const DAY = 86_400_000;

describe('console views of vici messages', () => {
  it('reads charon list-sa layouts, with suites and counters as numbers', () => {
    const [sa] = sasOf({
      home: {
        uniqueid: '3',
        state: 'ESTABLISHED',
        'encr-alg': 'AES_GCM_16',
        'encr-keysize': '256',
        'prf-alg': 'PRF_HMAC_SHA2_384',
        'dh-group': 'ECP_384',
        'remote-eap-id': 'dave',
        initiator: 'yes',
        'child-sas': { 'home-1': { name: 'home', uniqueid: '1', 'bytes-in': '1234', 'packets-in': '5', 'encr-alg': 'AES_CBC', 'encr-keysize': '128', 'integ-alg': 'HMAC_SHA2_256_128' } },
      },
    });
    expect(sa?.suite).toBe('AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384');
    expect(sa?.remoteEapId).toBe('dave');
    expect(sa?.initiator).toBe(true);
    expect(sa?.children[0]).toMatchObject({ name: 'home', bytesIn: 1234, packetsIn: 5, bytesOut: 0, suite: 'AES_CBC-128/HMAC_SHA2_256_128' });
  });

  it('reads connections and pools with leases', () => {
    const [c] = connViews({ rw: { local_addrs: ['%any'], remote_addrs: [], version: 'IKEv2', 'local-1': { class: 'public key', id: 'vpn' }, 'remote-1': { class: 'EAP', id: '%any' }, children: { net: { mode: 'TUNNEL', 'local-ts': ['0.0.0.0/0'], 'remote-ts': ['dynamic'] } } } });
    expect(c).toMatchObject({ name: 'rw', local: ['public key: vpn'], remote: ['EAP: %any'], children: [{ name: 'net', localTs: ['0.0.0.0/0'] }] });
    const [p] = poolViews({ 'rw-pool': { base: '10.3.0.1', size: '254', online: '1', offline: '0', leases: { '0': { address: '10.3.0.1', identity: 'dave', status: 'online' } } } });
    expect(p).toEqual({ name: 'rw-pool', base: '10.3.0.1', size: 254, online: 1, offline: 0, leases: [{ address: '10.3.0.1', identity: 'dave', status: 'online' }] });
  });

  it('warns of certificates expiring within 30 days and of expired ones; a broken one is an error, not a crash', () => {
    const now = Date.UTC(2026, 11, 6);
    const cert = (days: number) => {
      const key = generateKey({ type: 'ecdsa', size: 256 });
      return issueCertificate({ subject: 'CN=t', publicKey: publicKeyOf(key), signingKey: key, serial: Uint8Array.of(1), notBefore: now - 400 * DAY, notAfter: now + days * DAY }).der;
    };
    expect(certView({ type: 'X509', flag: 'NONE', data: cert(200) }, now)).toMatchObject({ status: 'ok', daysLeft: 200 });
    expect(certView({ type: 'X509', flag: 'NONE', data: cert(12) }, now)).toMatchObject({ status: 'expiring', daysLeft: 12 });
    expect(certView({ type: 'X509', flag: 'NONE', data: cert(-3) }, now)).toMatchObject({ status: 'expired', daysLeft: -3 });
    expect(certView({ type: 'X509', data: Uint8Array.of(0x30, 0x03, 1, 2, 3) }, now)).toEqual({ error: expect.stringMatching(/^certificate does not parse/) });
    expect(certView({ type: 'X509' }, now)).toEqual({ error: 'list-cert event without DER data' });
  });
});

/**
 * The commands `swanctl --load-all`, --list-certs, --list-pols, --list-authorities, --list-pools, --counters and
 * --list-algs send (charon's vici_config.c, vici_cred.c, vici_authority.c, vici_attribute.c, vici_query.c
 * layouts), against the fake backend with a ViciStore-applying `applyVici`: replies, the store the daemon would
 * rebuild from, rollback when the daemon refuses, and what src/config's builder makes of the store's tree.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ViciServer } from '../../src/vici/server.js';
import { registerViciCommands } from '../../src/vici/commands.js';
import { ViciClient } from '../../src/vici/client.js';
import type { ViciMessage } from '../../src/vici/message.js';
import type { ViciPolicy, ViciPool, ViciResult } from '../../src/vici/backend.js';
import { IkeCounters, messageCounter } from '../../src/vici/counters.js';
import { viciCertName, type ViciStore } from '../../src/vici/store.js';
import { buildSwanctlConfig, settingsFromObject } from '../../src/config/index.js';
import { certificateToPem, exportPrivateKey, generateKey, issueCertificate, keyIdSha1, publicKeyOf, signCrl, type Certificate, type PrivateKey } from '../../src/pki/index.js';
import { FakeBackend } from './fake-backend.js';

const DAY = 86_400_000;

function pki(): { ca: Certificate; caKey: PrivateKey; leaf: Certificate; leafKey: PrivateKey } {
  const caKey = generateKey({ type: 'ecdsa', size: 256 });
  const now = Date.now();
  const ca = issueCertificate({ subject: 'C=CH, O=cygnet, CN=Test CA', publicKey: publicKeyOf(caKey), signingKey: caKey, serial: Uint8Array.of(1), notBefore: now - DAY, notAfter: now + 30 * DAY, ca: true });
  const leafKey = generateKey({ type: 'ecdsa', size: 256 });
  const leaf = issueCertificate({ subject: 'C=CH, O=cygnet, CN=moon', publicKey: publicKeyOf(leafKey), issuer: ca, signingKey: caKey, serial: Uint8Array.of(2), notBefore: now - DAY, notAfter: now + 30 * DAY, san: ['moon.example'] });
  return { ca, caKey, leaf, leafKey };
}
const P = pki();

/** The fake daemon: applying means building the store's tree with src/config, as the real daemon does. */
class StoreBackend extends FakeBackend {
  applied: ViciStore | undefined;
  applies = 0;
  refuse: string | undefined;
  livePools: ViciPool[] = [];
  trapPolicies: ViciPolicy[] = [];
  readonly counters = new IkeCounters();
  applyVici(store: ViciStore): ViciResult {
    this.applies++;
    if (this.refuse) return { success: false, errmsg: this.refuse };
    try {
      buildSwanctlConfig(settingsFromObject(store.toSettingsObject(), 'vici'));
    } catch (e) {
      return { success: false, errmsg: (e as Error).message };
    }
    this.applied = store;
    return { success: true };
  }
  pools(): ViciPool[] {
    return this.livePools;
  }
  policies(): ViciPolicy[] {
    return this.trapPolicies;
  }
}

const CONN = (extra: Record<string, unknown> = {}) => ({
  local_addrs: ['192.0.2.1'],
  remote_addrs: ['192.0.2.2'],
  local: { auth: 'pubkey', certs: [P.leaf.der], id: 'moon.example' },
  remote: { auth: 'pubkey', id: 'sun.example' },
  children: { net: { local_ts: ['10.1.0.0/16'], remote_ts: ['10.2.0.0/16'] } },
  ...extra,
});

describe('vici configuration commands (swanctl --load-all)', () => {
  let dir: string;
  let server: ViciServer;
  let backend: StoreBackend;
  let c: ViciClient;
  const logs: string[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cygnet-vici-cfg-'));
    backend = new StoreBackend();
    server = new ViciServer({ path: join(dir, 'vici') });
    registerViciCommands(server, backend, { log: (_l, m) => logs.push(m) });
    await server.listen();
    c = await ViciClient.connect(join(dir, 'vici'));
  });
  afterEach(async () => {
    c?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function events(event: string, command: string, msg: Record<string, unknown> = {}): Promise<ViciMessage[]> {
    const got: ViciMessage[] = [];
    const off = c.on(event, (m) => got.push(m));
    await c.register(event);
    await c.request(command, msg as never);
    off();
    await c.unregister(event);
    return got;
  }

  it('load-conn stores the section, certificates sent as data become vici: names the builder reads', async () => {
    expect(await c.request('load-conn', { gw: CONN() })).toEqual({ success: 'yes' });
    expect(await c.request('get-conns')).toEqual({ conns: ['gw'] });
    expect(logs).toContain('added vici connection: gw');
    const tree = backend.applied!.toSettingsObject() as { connections: { gw: { local: { certs: string[] } } } };
    expect(tree.connections.gw.local.certs).toEqual([viciCertName(P.leaf.der)]);
    expect(backend.applied!.certificate(viciCertName(P.leaf.der))?.subject.text).toBe('C=CH, O=cygnet, CN=moon');
    const { config } = buildSwanctlConfig(settingsFromObject(backend.applied!.toSettingsObject(), 'vici'));
    expect(config.connections.get('gw')?.local[0]?.certs).toEqual([viciCertName(P.leaf.der)]);
    // PEM text (what swanctl sends for a .pem file) names the same certificate.
    expect(await c.request('load-conn', { gw: CONN({ local: { auth: 'pubkey', certs: [certificateToPem(P.leaf)], id: 'moon.example' } }) })).toEqual({ success: 'yes' });
    expect(logs).toContain('updated vici connection: gw');
    // Raw public keys (not implemented by cygnet) are accepted with a warning and named, not pasted, in the tree.
    const raw = Uint8Array.of(0x30, 0x82, 0xff, 0x00, 0x10);
    expect(await c.request('load-conn', { pk: CONN({ remote: { auth: 'pubkey', pubkeys: [raw] } }) })).toEqual({ success: 'yes' });
    expect((backend.applied!.toSettingsObject() as { connections: { pk: { remote: { pubkeys: string[] } } } }).connections.pk.remote.pubkeys).toEqual([viciCertName(raw)]);
    expect((backend.applied!.toSettingsObject() as { connections: { gw: { local: { certs: string[] } } } }).connections.gw.local.certs).toEqual([viciCertName(P.leaf.der)]);
  });

  it('a connection the daemon refuses is not kept; the previous state stays', async () => {
    await c.request('load-conn', { gw: CONN() });
    const bad = await c.request('load-conn', { bad: CONN({ dpd_delay: 'soon' }) });
    expect(bad.success).toBe('no');
    expect(String(bad.errmsg)).toMatch(/vici.*connections\.bad\.dpd_delay/);
    expect(await c.request('get-conns')).toEqual({ conns: ['gw'] });
    backend.refuse = 'pool overlaps';
    expect(await c.request('unload-conn', { name: 'gw' })).toEqual({ success: 'no', errmsg: 'pool overlaps' });
    expect(await c.request('get-conns')).toEqual({ conns: ['gw'] });
    backend.refuse = undefined;
    expect(await c.request('unload-conn', { name: 'gw' })).toEqual({ success: 'yes' });
    expect(await c.request('unload-conn', { name: 'gw' })).toEqual({ success: 'no', errmsg: "unloading connection 'gw' failed, not found" });
    expect(await c.request('load-conn', { gw: CONN({ local: { auth: 'pubkey', certs: [Uint8Array.of(0x30, 0x03, 1, 2, 3)] } }) })).toMatchObject({ success: 'no', errmsg: expect.stringMatching(/connections\.gw\.local\.certs: parsing X509 certificate failed/) });
    expect(await c.request('load-conn', { a: {}, b: {} })).toMatchObject({ success: 'no' });
  });

  it('load-shared / get-shared / unload-shared (vici_cred.c), secrets in the built configuration', async () => {
    expect(await c.request('load-shared', { id: 'ike-1', type: 'IKE', data: 'sekrit', owners: ['moon.example', 'sun.example'] })).toEqual({ success: 'yes' });
    expect(logs).toContain("loaded IKE shared key with id 'ike-1' for: 'moon.example', 'sun.example'");
    expect(await c.request('load-shared', { type: 'xauth', data: 'x' })).toEqual({ success: 'yes' });
    expect(await c.request('get-shared')).toEqual({ keys: ['ike-1'] });
    const { config } = buildSwanctlConfig(settingsFromObject(backend.applied!.toSettingsObject(), 'vici'));
    expect(config.secrets.ike).toHaveLength(1);
    expect(config.secrets.ike[0]!.ids).toEqual(['moon.example', 'sun.example']);
    expect(new TextDecoder().decode(config.secrets.ike[0]!.secret)).toBe('sekrit');
    expect(config.secrets.eap).toHaveLength(1);
    expect(await c.request('load-shared', { type: 'rsa', data: 'x' })).toEqual({ success: 'no', errmsg: 'invalid shared key type: rsa' });
    expect(await c.request('load-shared', { type: 'ike' })).toEqual({ success: 'no', errmsg: 'shared key data missing' });
    expect(await c.request('load-shared', { data: 'x' })).toEqual({ success: 'no', errmsg: 'shared key type missing' });
    expect(await c.request('unload-shared', { id: 'ike-1' })).toEqual({ success: 'yes' });
    expect(await c.request('get-shared')).toEqual({ keys: [] });
    expect(await c.request('unload-shared', {})).toEqual({ success: 'no', errmsg: 'unique identifier missing' });
  });

  it('load-key answers the key id (SHA-1 of the public key bits); get-keys / unload-key use it', async () => {
    const der = exportPrivateKey(P.leafKey, 'der');
    const id = Buffer.from(keyIdSha1(publicKeyOf(P.leafKey))).toString('hex');
    expect(await c.request('load-key', { type: 'any', data: der })).toEqual({ success: 'yes', id });
    expect(await c.request('load-key', { type: 'ecdsa', data: exportPrivateKey(P.leafKey, 'pem') })).toEqual({ success: 'yes', id });
    expect(logs).toContain('loaded ECDSA private key');
    expect(await c.request('get-keys')).toEqual({ keys: [id] });
    expect(backend.applied!.credentials().keys).toHaveLength(1);
    expect(await c.request('load-key', { type: 'rsa', data: der })).toMatchObject({ success: 'no', errmsg: expect.stringMatching(/^parsing RSA private key failed/) });
    expect(await c.request('load-key', { type: 'any', data: Uint8Array.of(1, 2, 3) })).toMatchObject({ success: 'no', errmsg: expect.stringMatching(/^parsing ANY private key failed/) });
    expect(await c.request('load-key', { type: 'dsa', data: der })).toEqual({ success: 'no', errmsg: 'invalid key type: dsa' });
    expect(await c.request('unload-key', { id })).toEqual({ success: 'yes' });
    expect(await c.request('unload-key', { id })).toEqual({ success: 'no', errmsg: 'key not found' });
    expect(await c.request('get-keys')).toEqual({ keys: [] });
  });

  it('load-cert (X509 with flags, X509_CRL) and list-certs events as swanctl --list-certs reads them', async () => {
    expect(await c.request('load-cert', { type: 'X509', flag: 'CA', data: P.ca.der })).toEqual({ success: 'yes' });
    expect(await c.request('load-cert', { type: 'X509', flag: 'NONE', data: certificateToPem(P.leaf) })).toEqual({ success: 'yes' });
    expect(logs).toContain("loaded certificate 'C=CH, O=cygnet, CN=moon'");
    expect(await c.request('load-cert', { type: 'X509', flag: 'CA', data: P.leaf.der })).toEqual({ success: 'no', errmsg: 'ca certificate lacks CA basic constraint, rejected' });
    expect(await c.request('load-cert', { type: 'X509_AC', data: P.leaf.der })).toMatchObject({ success: 'no', errmsg: expect.stringMatching(/^invalid certificate type 'X509_AC'/) });
    expect(await c.request('load-cert', { type: 'X509', flag: 'WHAT', data: P.leaf.der })).toEqual({ success: 'no', errmsg: "invalid certificate flag 'WHAT'" });
    const crl = signCrl({ issuer: P.ca, signingKey: P.caKey, thisUpdate: Date.now() - 1000, nextUpdate: Date.now() + DAY, revoked: [], crlNumber: Uint8Array.of(1) });
    expect(await c.request('load-cert', { type: 'X509_CRL', data: crl.der })).toEqual({ success: 'yes' });
    await c.request('load-key', { type: 'any', data: exportPrivateKey(P.leafKey, 'der') });
    const creds = backend.applied!.credentials();
    expect(creds.cas.map((x) => x.subject.text)).toEqual(['C=CH, O=cygnet, CN=Test CA']);
    expect(creds.certs.map((x) => x.subject.text)).toEqual(['C=CH, O=cygnet, CN=moon']);
    expect(creds.crls).toHaveLength(1);

    const all = await events('list-cert', 'list-certs');
    expect(all.map((m) => [m.type, m.flag, m.has_privkey])).toEqual([
      ['X509', 'CA', undefined],
      ['X509', 'NONE', 'yes'],
      ['X509_CRL', undefined, undefined],
    ]);
    expect(all[1]!.data).toEqual(P.leaf.der);
    expect((await events('list-cert', 'list-certs', { type: 'X509', flag: 'CA' })).map((m) => m.flag)).toEqual(['CA']);
    expect(await c.request('clear-creds')).toEqual({ success: 'yes' });
    expect(await events('list-cert', 'list-certs')).toEqual([]);
    expect(await c.request('get-keys')).toEqual({ keys: [] });
    expect(await c.request('flush-certs', { type: 'x509' })).toEqual({ success: 'yes' });
  });

  it('load-authority / get-authorities / list-authorities / unload-authority (vici_authority.c)', async () => {
    expect(await c.request('load-authority', { strongswan: { cacert: P.ca.der, crl_uris: ['http://crl.example/ca.crl'], cert_uri_base: 'http://certs.example/' } })).toEqual({ success: 'yes' });
    expect(await c.request('get-authorities')).toEqual({ authorities: ['strongswan'] });
    expect(await events('list-authority', 'list-authorities')).toEqual([
      { strongswan: { cacert: 'C=CH, O=cygnet, CN=Test CA', crl_uris: ['http://crl.example/ca.crl'], ocsp_uris: [], cert_uri_base: 'http://certs.example/' } },
    ]);
    // Its CA certificate is trusted like a loaded CA certificate, and listed as one.
    expect(backend.applied!.credentials().cas.map((x) => x.subject.text)).toEqual(['C=CH, O=cygnet, CN=Test CA']);
    expect((await events('list-cert', 'list-certs')).map((m) => m.flag)).toEqual(['CA']);
    expect(await c.request('load-authority', { leaf: { cacert: P.leaf.der } })).toEqual({ success: 'no', errmsg: 'certificate without CA flag, rejected' });
    expect(await c.request('load-authority', { x: { file: '/etc/ca.pem' } })).toMatchObject({ success: 'no', errmsg: expect.stringMatching(/^CA certificate missing: x/) });
    expect(await c.request('load-authority', { x: { cacert: P.ca.der, bogus: '1' } })).toEqual({ success: 'no', errmsg: 'unknown option: bogus, authority discarded' });
    expect(await c.request('unload-authority', { name: 'strongswan' })).toEqual({ success: 'yes' });
    expect(await c.request('unload-authority', { name: 'strongswan' })).toEqual({ success: 'no', errmsg: "unload: authority 'strongswan' not found" });
  });

  it('load-pool / get-pools / unload-pool (vici_attribute.c); a pool a connection names stays until the connection goes', async () => {
    expect(await c.request('load-pool', { rw: { addrs: '10.3.0.0/24', dns: ['10.3.0.1'] } })).toEqual({ success: 'yes' });
    expect(await c.request('load-pool', { bad: { dns: ['10.3.0.1'] } })).toEqual({ success: 'no', errmsg: "missing addresses for pool 'bad'" });
    const { config } = buildSwanctlConfig(settingsFromObject(backend.applied!.toSettingsObject(), 'vici'));
    expect(config.pools.get('rw')?.addrs.text).toBe('10.3.0.0/24');
    backend.livePools = [{ name: 'rw', base: '10.3.0.1', size: 254, online: 1, offline: 0, leases: [{ address: '10.3.0.1', identity: 'carol', online: true }] }];
    expect(await c.request('get-pools')).toEqual({ rw: { base: '10.3.0.1', size: '254', online: '1', offline: '0' } });
    expect(await c.request('get-pools', { leases: 'yes', name: 'rw' })).toEqual({
      rw: { base: '10.3.0.1', size: '254', online: '1', offline: '0', leases: { '0': { address: '10.3.0.1', identity: 'carol', status: 'online' } } },
    });
    expect(await c.request('unload-pool', { name: 'rw' })).toEqual({ success: 'no', errmsg: 'rw has online leases, unable to unload' });
    backend.livePools = [];
    // swanctl --load-all unloads pools before connections: the builder still sees the pool while `rw` names it.
    expect(await c.request('load-conn', { road: { ...CONN(), pools: ['rw'] } })).toEqual({ success: 'yes' });
    expect(await c.request('unload-pool', { name: 'rw' })).toEqual({ success: 'yes' });
    expect(Object.keys((backend.applied!.toSettingsObject() as { pools: object }).pools)).toEqual(['rw']);
    expect(await c.request('unload-conn', { name: 'road' })).toEqual({ success: 'yes' });
    expect(backend.applied!.toSettingsObject().pools).toBeUndefined();
    expect(await c.request('unload-pool', { name: 'rw' })).toEqual({ success: 'no', errmsg: 'rw not found' });
  });

  it('list-policies streams trap policies as charon (drop/pass only when asked)', async () => {
    backend.trapPolicies = [
      { ike: 'gw', child: 'net', mode: 'TUNNEL', localTs: ['10.1.0.0/16'], remoteTs: ['10.2.0.0/16'] },
      { ike: 'gw', child: 'lan', mode: 'PASS', localTs: ['192.168.0.0/24'], remoteTs: ['192.168.0.0/24'] },
    ];
    expect(await events('list-policy', 'list-policies', { trap: 'yes' })).toEqual([
      { 'gw/net': { child: 'net', ike: 'gw', mode: 'TUNNEL', 'local-ts': ['10.1.0.0/16'], 'remote-ts': ['10.2.0.0/16'] } },
    ]);
    expect((await events('list-policy', 'list-policies', { trap: 'yes', pass: 'yes', drop: 'yes' })).map((m) => Object.keys(m)[0])).toEqual(['gw/net', 'gw/lan']);
    expect(await events('list-policy', 'list-policies', { trap: 'yes', child: 'other' })).toEqual([]);
  });

  it('get-counters / reset-counters with the counters plugin names; the global section is named ""', async () => {
    backend.counters.count('ike-init-out-req', 'gw');
    backend.counters.count('child-rekey', 'gw');
    backend.counters.count('invalid');
    const gw = await c.request('get-counters', { name: 'gw' });
    expect(gw.success).toBe('yes');
    const sec = (gw.counters as ViciMessage).gw as ViciMessage;
    expect(Object.keys(sec)).toHaveLength(21);
    expect(sec).toMatchObject({ 'ike-rekey-init': '0', 'child-rekey': '1', 'ike-init-out-req': '1', 'info-out-resp': '0' });
    const all = await c.request('get-counters', { all: 'yes' });
    expect(Object.keys(all.counters as ViciMessage)).toEqual(['', 'gw']);
    expect(((all.counters as ViciMessage)[''] as ViciMessage).invalid).toBe('1');
    expect(await c.request('get-counters', { name: 'nope' })).toEqual({ counters: {}, success: 'no', errmsg: 'no counters found for this connection' });
    expect(await c.request('reset-counters', { name: 'gw' })).toEqual({ success: 'yes' });
    expect((await c.request('get-counters', { name: 'gw' })).success).toBe('no');
    expect(await c.request('reset-counters', { all: 'yes' })).toEqual({ success: 'yes' });
    expect(((await c.request('get-counters')).counters as ViciMessage)['']).toMatchObject({ invalid: '0' });
  });

  it('get-algorithms lists what cygnet implements by strongSwan names', async () => {
    const r = await c.request('get-algorithms');
    expect(r.encryption).toMatchObject({ AES_CBC: 'cygnet' });
    expect(r.aead).toMatchObject({ AES_GCM_16: 'cygnet', CHACHA20_POLY1305: 'cygnet' });
    expect(r.integrity).toMatchObject({ HMAC_SHA2_256_128: 'cygnet' });
    expect(r.prf).toMatchObject({ PRF_HMAC_SHA2_256: 'cygnet' });
    expect(r.dh).toMatchObject({ CURVE_25519: 'cygnet', MODP_2048: 'cygnet' });
    expect(r['nonce-gen']).toEqual({ NONCE_GEN: 'cygnet' });
  });

  it('load-token, redirect, install and uninstall answer "not supported" clearly', async () => {
    expect(await c.request('load-token', { handle: '01' })).toEqual({ success: 'no', errmsg: 'loading private keys from tokens is not supported by cygnet (no PKCS#11)' });
    expect(await c.request('redirect', { ike: 'gw', gateway: '192.0.2.9' })).toMatchObject({ success: 'no', errmsg: expect.stringMatching(/redirect is not supported/) });
    expect(await c.request('install', { child: 'net' })).toMatchObject({ success: 'no', errmsg: expect.stringMatching(/not supported/) });
    expect(await c.request('uninstall', { child: 'net' })).toMatchObject({ success: 'no', errmsg: expect.stringMatching(/not supported/) });
    expect(await c.request('install', {})).toEqual({ success: 'no', errmsg: 'missing configuration name' });
  });
});

describe('counters plugin names from IKE headers', () => {
  it('maps exchange type and the Response flag (RFC 7296 3.1)', () => {
    const hdr = (exchange: number, flags: number): Uint8Array => {
      const b = new Uint8Array(28);
      b[17] = 0x20;
      b[18] = exchange;
      b[19] = flags;
      return b;
    };
    expect(messageCounter(hdr(34, 0x08), 'out')).toBe('ike-init-out-req');
    expect(messageCounter(hdr(34, 0x20), 'in')).toBe('ike-init-in-resp');
    expect(messageCounter(hdr(35, 0x08), 'in')).toBe('ike-auth-in-req');
    expect(messageCounter(hdr(36, 0x28), 'out')).toBe('create-child-out-resp');
    expect(messageCounter(hdr(37, 0x00), 'in')).toBe('info-in-req');
    expect(messageCounter(hdr(43, 0x00), 'in')).toBeUndefined();
    expect(messageCounter(new Uint8Array(10), 'in')).toBeUndefined();
  });
});

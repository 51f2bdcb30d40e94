/**
 * What the daemon makes of a ViciStore (src/daemon/vici.ts ViciConfigSource + loadDaemonConfig): the vici tree is
 * merged into the file's before src/config's one build, so vici connections use the file's pools and secrets;
 * certificates and keys loaded over vici become the daemon's credentials; the driver applies pools on reload and
 * lists its trap policies for list-policies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDaemonConfig } from '../../src/daemon/connections.js';
import { daemonPolicies, daemonPools, ViciConfigSource } from '../../src/daemon/vici.js';
import { Daemon } from '../../src/daemon/driver.js';
import { Logger } from '../../src/daemon/logger.js';
import { diffConfigs } from '../../src/config/index.js';
import { ViciStore } from '../../src/vici/store.js';
import { exportPrivateKey, generateKey, issueCertificate, publicKeyOf } from '../../src/pki/index.js';
import { ANY_IDENTITY, parseIdentity } from '../../src/ike/identity.js';

const DAY = 86_400_000;
const caKey = generateKey({ type: 'ecdsa', size: 256 });
const ca = issueCertificate({ subject: 'CN=Daemon Test CA', publicKey: publicKeyOf(caKey), signingKey: caKey, serial: Uint8Array.of(1), notBefore: Date.now() - DAY, notAfter: Date.now() + DAY, ca: true });
const key = generateKey({ type: 'ecdsa', size: 256 });
const leaf = issueCertificate({ subject: 'CN=moon', publicKey: publicKeyOf(key), issuer: ca, signingKey: caKey, serial: Uint8Array.of(2), notBefore: Date.now() - DAY, notAfter: Date.now() + DAY, san: ['moon.example'] });

const FILE = `
connections {
  file-conn {
    remote_addrs = 192.0.2.9
    local { auth = psk
      id = moon.example }
    remote { auth = psk
      id = sun.example }
    children { net { } }
  }
}
pools {
  file-pool { addrs = 10.9.0.0/24 }
}
`;

describe('daemon configuration from the file plus what vici loaded', () => {
  let dir: string;
  let path: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cygnet-vici-daemon-'));
    path = join(dir, 'cygnet.conf');
    await writeFile(path, FILE);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function source(): { src: ViciConfigSource; store: ViciStore } {
    const store = new ViciStore();
    const src = new ViciConfigSource();
    src.store = store;
    return { src, store };
  }

  it('nothing loaded: exactly the file', () => {
    expect(new ViciConfigSource().extra()).toBeUndefined();
    const { daemon } = loadDaemonConfig(path, new ViciConfigSource().extra());
    expect(daemon.connections.map((c) => c.name)).toEqual(['file-conn']);
  });

  it('a vici connection with a vici certificate and key, and one using the file pool, build with the file', () => {
    const { src, store } = source();
    store.loadConn('cert-conn', {
      remote_addrs: ['192.0.2.2'],
      local: { auth: 'pubkey', certs: [leaf.der], id: 'moon.example' },
      remote: { auth: 'pubkey' },
      children: { net: { local_ts: ['10.1.0.0/16'], remote_ts: ['10.2.0.0/16'], start_action: 'trap' } },
    });
    store.loadConn('rw', { local: { auth: 'psk', id: 'moon.example' }, remote: { auth: 'psk' }, pools: ['file-pool'], children: { road: {} } });
    store.loadKey('any', exportPrivateKey(key, 'der'));
    store.loadCert('X509', 'CA', ca.der);
    store.loadShared('ike-rw', 'ike', new TextEncoder().encode('road-secret'), ['moon.example']);
    store.loadPool('vici-pool', { addrs: '10.3.0.0/24' });

    const { daemon, config } = loadDaemonConfig(path, src.extra());
    expect(daemon.connections.map((c) => c.name)).toEqual(['file-conn', 'cert-conn', 'rw']);
    expect(daemon.trapChildren).toEqual([{ conn: 'cert-conn', child: 'net' }]);
    expect(daemon.pools.map((p) => p.name).sort()).toEqual(['file-pool', 'vici-pool']);
    const cert = daemon.connections.find((c) => c.name === 'cert-conn')!.local.certs![0]!;
    expect(cert.subject.text).toBe('CN=moon');
    expect(daemon.credentials.privateKeyFor?.(cert)).toBeDefined();
    expect(daemon.credentials.trust?.cas.map((c) => c.subject.text)).toEqual(['CN=Daemon Test CA']);
    expect(daemon.credentials.sharedKey(parseIdentity('moon.example'), ANY_IDENTITY)).toEqual(new TextEncoder().encode('road-secret'));
    expect(config.connections.get('cert-conn')?.loc.file).toBe('vici');
  });

  it('a broken vici connection fails the build with a ConfigError naming vici', () => {
    const { src, store } = source();
    store.loadConn('bad', { remote_addrs: ['192.0.2.2'], dpd_delay: 'soon', local: { auth: 'psk' }, remote: { auth: 'psk' } });
    expect(() => loadDaemonConfig(path, src.extra())).toThrow(/vici.*connections\.bad\.dpd_delay/);
  });

  it('the driver applies a pool added by a reload, and lists trap policies and pools for vici', () => {
    const { src, store } = source();
    const first = loadDaemonConfig(path);
    const d = new Daemon({ config: first.daemon, logger: new Logger({ write: () => {} }) });
    expect(daemonPools(d).map((p) => p.name)).toEqual(['file-pool']);
    store.loadPool('vici-pool', { addrs: '10.3.0.0/24' });
    store.loadConn('t', { remote_addrs: ['192.0.2.2'], local: { auth: 'psk' }, remote: { auth: 'psk' }, children: { net: { local_ts: ['10.1.0.0/16'], remote_ts: ['10.2.0.0/16'], start_action: 'trap' } } });
    const next = loadDaemonConfig(path, src.extra());
    d.reload(next.daemon, diffConfigs(first.config, next.config));
    expect(daemonPools(d)).toEqual([
      { name: 'file-pool', base: '10.9.0.1', size: 254, online: 0, offline: 0 },
      { name: 'vici-pool', base: '10.3.0.1', size: 254, online: 0, offline: 0 },
    ]);
    expect(daemonPolicies(d)).toEqual([{ ike: 't', child: 'net', mode: 'TUNNEL', localTs: ['10.1.0.0/16'], remoteTs: ['10.2.0.0/16'] }]);
    expect(d.uninstallTrapPolicy('net')).toBe(true);
    expect(daemonPolicies(d)).toEqual([]);
    expect(d.installTrapPolicy('t', 'net')).toBe(true);
    expect(daemonPolicies(d)).toHaveLength(1);
    // Unloading the pool again removes it (no leases online).
    store.unloadPool('vici-pool');
    const third = loadDaemonConfig(path, src.extra());
    d.reload(third.daemon, diffConfigs(next.config, third.config));
    expect(daemonPools(d).map((p) => p.name)).toEqual(['file-pool']);
  });
});

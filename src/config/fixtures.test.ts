/**
 * The sample configurations under test/fixtures/config, written the way the seeds' administrators set up their
 * tunnels (site-to-site PSK, road warrior with pools and DNS, certificates), load unchanged from disk.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSwanctlConfig } from './build.js';
import type { ConfigIo } from './parser.js';

const dir = fileURLToPath(new URL('../../test/fixtures/config/', import.meta.url));
const io: ConfigIo = { readFile: (f) => readFileSync(f, 'utf8'), listDir: (d) => readdirSync(d) };

describe('fixtures load unchanged', () => {
  it('site-to-site PSK with two subnets each side, on demand', () => {
    const { config, warnings } = loadSwanctlConfig(`${dir}site-to-site-psk/swanctl.conf`, io);
    expect(warnings).toEqual([]);
    const c = config.connections.get('hq-branch')!;
    expect(c.version).toBe(2);
    expect(c.remote_addrs).toEqual([{ kind: 'fqdn', name: 'branch.example.net' }]);
    expect(c.proposals).toEqual(['aes256-sha256-modp2048', 'aes256gcm16-prfsha384-ecp384']);
    expect(c.local[0]).toMatchObject({ auth: { class: 'psk' }, id: 'hq.example.com' });
    expect(c.remote[0]).toMatchObject({ auth: { class: 'psk' }, id: 'branch.example.net' });
    expect([c.rekey_time, c.dpd_delay, c.keyingtries, c.encap]).toEqual([3 * 3600_000, 30_000, 0, true]);
    const ch = c.children.get('nets')!;
    expect(ch.local_ts.map((t) => t.text)).toEqual(['10.1.0.0/24', '10.2.0.0/24']);
    expect(ch.remote_ts.map((t) => t.text)).toEqual(['10.10.0.0/24', '10.20.0.0/24']);
    expect([ch.start_action, ch.dpd_action, ch.close_action]).toEqual(['trap', 'restart', 'start']);
    const s = config.secrets.ike[0]!;
    expect(s.ids).toEqual(['hq.example.com', 'branch.example.net']);
    expect(s.secret).toHaveLength(32);
  });

  it('road warrior gateway with pools, DNS and a referenced connection', () => {
    const { config, warnings } = loadSwanctlConfig(`${dir}roadwarrior/swanctl.conf`, io);
    expect(warnings).toEqual([]);
    const rw = config.connections.get('rw')!;
    expect(rw.pools).toEqual(['rw-pool']);
    expect(rw.remote_addrs).toEqual([{ kind: 'any' }]);
    expect(rw.local[0]).toMatchObject({ certs: ['vpnHostCert.pem'], id: 'vpn.heap.example' });
    expect(rw.remote[0]).toMatchObject({ cacerts: ['caCert.pem'], id: '%any' });
    expect(rw.children.get('rw')!.local_ts.map((t) => t.text)).toEqual(['0.0.0.0/0', '::/0']);
    // t520 inherits everything from rw but its pool and remote identity
    const t520 = config.connections.get('t520')!;
    expect(t520.pools).toEqual(['t520-pool']);
    expect(t520.remote[0]).toMatchObject({ id: 'C=DE, O=heap.example, CN=t520', auth: { class: 'pubkey' } });
    expect(t520.proposals).toEqual(rw.proposals);
    expect([...t520.children.keys()]).toEqual(['rw']);
    const pool = config.pools.get('rw-pool')!;
    expect(pool.addrs.text).toBe('10.10.10.0/24');
    expect(pool.dns.map((d) => d.text)).toEqual(['1.1.1.1', '1.0.0.1']);
    expect(config.pools.get('t520-pool')!.addrs.first.text).toBe('10.10.11.5');
  });

  it('road warrior client requesting virtual IPs', () => {
    const { config, warnings } = loadSwanctlConfig(`${dir}roadwarrior/client.conf`, io);
    expect(warnings).toEqual([]);
    const home = config.connections.get('home')!;
    expect(home.vips.map((v) => v.text)).toEqual(['0.0.0.0', '::']);
    expect(home.children.get('home')!.start_action).toBe('start');
    expect(config.secrets.keys[0]).toMatchObject({ type: 'ecdsa', file: 'laptopKey.pem', secret: 'correct horse battery staple' });
  });

  it('net-to-net with certificates', () => {
    const { config, warnings } = loadSwanctlConfig(`${dir}certs/swanctl.conf`, io);
    // revocation is known but not acted on; `relaxed` is what cygnet does, so no warning
    expect(warnings).toEqual([]);
    const c = config.connections.get('ipfire2')!;
    expect(c.local[0]).toMatchObject({ auth: { class: 'pubkey' }, certs: ['IPFire1Host.pem'], id: 'C=CH, O=IPFire1, CN=ipfire1.example.org' });
    expect(c.remote[0]).toMatchObject({ cacerts: ['IPFire2Root.pem'], id: 'C=CH, O=IPFire2, CN=ipfire2.example.org' });
    expect(config.secrets.keys[0]).toMatchObject({ type: 'rsa', secret: '0x736563726574' });
  });

  it('split files: conf.d/*.conf in order, later files extending earlier connections, secrets file', () => {
    const { config, warnings } = loadSwanctlConfig(`${dir}includes/swanctl.conf`, io);
    expect(warnings).toEqual([]);
    expect([...config.connections.keys()]).toEqual(['a', 'b']);
    const a = config.connections.get('a')!;
    expect(a.dpd_delay).toBe(10_000);
    expect(a.loc.file).toMatch(/conf\.d\/10-a\.conf$/);
    expect(a.children.get('a')!.remote_ts[0]!.text).toBe('10.0.2.0/24');
    expect(new TextDecoder().decode(config.secrets.ike[0]!.secret)).toBe('a secret with # and spaces');
  });
});

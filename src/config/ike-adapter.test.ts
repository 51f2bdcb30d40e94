import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatProposalsString } from '../crypto/proposals.js';
import { formatIdentity, parseIdentity } from '../ike/identity.js';
import { loadSwanctlConfig, parseSwanctlConfig } from './build.js';
import { toCredentials, toIkeConnection, toIkeConnections } from './ike-adapter.js';

const dir = fileURLToPath(new URL('../../test/fixtures/config/', import.meta.url));
const readFile = (f: string) => readFileSync(f, 'utf8');

describe('swanctl.conf -> IKE endpoint configuration', () => {
  it('maps the site-to-site fixture', () => {
    const { config } = loadSwanctlConfig(`${dir}site-to-site-psk/swanctl.conf`, readFile);
    const [c] = toIkeConnections(config);
    expect(c!.name).toBe('hq-branch');
    expect(c!.localAddrs).toEqual(['198.51.100.1']);
    expect(c!.remoteAddrs).toEqual(['branch.example.net']);
    expect(formatProposalsString(c!.proposals)).toMatch(/^aes256-sha256-prfsha256-modp2048,aes256gcm16-prfsha384-ecp384$/);
    expect(c!.local.method).toBe('psk');
    expect(formatIdentity(c!.local.id)).toBe('hq.example.com');
    expect(formatIdentity(c!.remote.id)).toBe('branch.example.net');
    expect([c!.dpdDelayMs, c!.rekeyTimeMs, c!.keyingTries, c!.encap, c!.fragmentation]).toEqual([30_000, 3 * 3600_000, 0, true, true]);
    const ch = c!.children[0]!;
    expect(ch.startAction).toBe('trap');
    expect(ch.localTs).toHaveLength(2);
    expect(ch.localTs[0]).toEqual({ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 65535, startAddr: Uint8Array.of(10, 1, 0, 0), endAddr: Uint8Array.of(10, 1, 0, 255) });
    expect(ch.replayWindow).toBe(1024);
    expect(ch.espProposals).toHaveLength(2);
  });

  it('finds the PSK by the two identities', () => {
    const { config } = loadSwanctlConfig(`${dir}site-to-site-psk/swanctl.conf`, readFile);
    const creds = toCredentials(config.secrets);
    const key = creds.sharedKey(parseIdentity('hq.example.com'), parseIdentity('branch.example.net'));
    expect(key).toEqual(config.secrets.ike[0]!.secret);
    expect(creds.sharedKey(parseIdentity('x.example'), parseIdentity('y.example'))).toBeUndefined();
  });

  it('maps defaults: dynamic selectors, default proposals, %any identities, address forms', () => {
    const { config } = parseSwanctlConfig(
      'connections { c { local_addrs = %any6, 10.0.0.0/8\n remote_addrs = 10.1.0.1-10.1.0.9\n children { x { local_ts = dynamic[tcp/22] } } } }',
    );
    const c = toIkeConnection(config.connections.get('c')!);
    expect(c.localAddrs).toEqual(['%any6', '10.0.0.0/8']);
    expect(c.remoteAddrs).toEqual(['10.1.0.1-10.1.0.9']);
    expect(c.proposals.length).toBeGreaterThan(0);
    expect(c.local).toEqual({ method: 'pubkey', id: { type: 0, data: new Uint8Array(0) }, keyword: {}, certs: [] });
    expect(c.children[0]!.localTs[0]).toEqual({ dynamic: true, ipProtocol: 6, startPort: 22, endPort: 22 });
    expect(c.children[0]!.remoteTs[0]).toEqual({ dynamic: true, ipProtocol: 0, startPort: 0, endPort: 65535 });
  });
});

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseSwanctlConfig } from '../config/index.js';
import { formatIdentity, parseIdentity } from '../ike/identity.js';
import { encapWarnings, loadDaemonConfig, toDaemonConfig } from './connections.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/config/', import.meta.url));

const SITE = `
connections {
  a {
    remote_addrs = 192.0.2.2
    local { auth = psk
      id = moon.example }
    remote { auth = psk
      id = sun.example }
    children {
      s { start_action = start }
      t { local_ts = 10.1.0.0/16
          remote_ts = 10.2.0.0/16
          start_action = trap }
      both { start_action = trap|start }
      idle { }
    }
  }
}
secrets {
  ike-1 { id-1 = moon.example
          id-2 = sun.example
          secret = 0x0102030405 }
}
`;

describe('swanctl.conf -> daemon config', () => {
  it('lists children to start and to trap', () => {
    const d = toDaemonConfig(parseSwanctlConfig(SITE).config);
    expect(d.startChildren).toEqual([
      { conn: 'a', child: 's' },
      { conn: 'a', child: 'both' },
    ]);
    expect(d.trapChildren).toEqual([
      { conn: 'a', child: 't' },
      { conn: 'a', child: 'both' },
    ]);
  });

  it("maps strongSwan's defaults, with cygnet's forced encapsulation and wide replay window", () => {
    const [c] = toDaemonConfig(parseSwanctlConfig(SITE).config).connections;
    expect(c!.localAddrs).toEqual(['%any']);
    expect(c!.remoteAddrs).toEqual(['192.0.2.2']);
    expect([c!.localPort, c!.remotePort]).toEqual([500, 500]);
    expect(c!.encap).toBe(true);
    expect(c!.rekeyTimeMs).toBe(4 * 3600_000);
    expect(c!.keyingTries).toBe(1);
    expect(formatIdentity(c!.local.id)).toBe('moon.example');
    const s = c!.children.find((x) => x.name === 's')!;
    expect(s.localTs).toEqual([{ dynamic: true, ipProtocol: 0, startPort: 0, endPort: 65535 }]);
    expect(s.rekeyTimeMs).toBe(3600_000);
    expect(s.replayWindow).toBe(1024);
    expect(s.espProposals.length).toBeGreaterThan(0);
  });

  it('finds the PSK by both identities', () => {
    const d = toDaemonConfig(parseSwanctlConfig(SITE).config);
    expect(d.credentials.sharedKey(parseIdentity('moon.example'), parseIdentity('sun.example'))).toEqual(Uint8Array.of(1, 2, 3, 4, 5));
    expect(d.credentials.sharedKey(parseIdentity('x.example'), parseIdentity('y.example'))).toBeUndefined();
  });

  it('warns about an explicit encap = no', () => {
    const cfg = parseSwanctlConfig('connections { a { encap = no\n remote_addrs = 192.0.2.2 } }', 'x.conf').config;
    expect(encapWarnings(cfg)).toEqual([expect.stringMatching(/^x\.conf:1: connections\.a: encap = no: .*RFC 3948/)]);
    expect(encapWarnings(parseSwanctlConfig(SITE).config)).toEqual([]);
  });

  it('loads the site-to-site fixture from disk', () => {
    const { daemon, warnings } = loadDaemonConfig(`${fixtures}site-to-site-psk/swanctl.conf`);
    expect(daemon.connections.map((c) => c.name)).toEqual(['hq-branch']);
    expect(daemon.trapChildren).toEqual([{ conn: 'hq-branch', child: 'nets' }]);
    expect(daemon.startChildren).toEqual([]);
    expect(warnings.every((w) => w.file.endsWith('.conf') && w.line > 0)).toBe(true);
  });

  it('rejects a bad proposal with file:line', () => {
    expect(() => parseSwanctlConfig('connections {\n a {\n  proposals = aes128-nosuchprf\n }\n}', 'bad.conf')).toThrow(ConfigError);
    try {
      parseSwanctlConfig('connections {\n a {\n  proposals = aes128-nosuchprf\n }\n}', 'bad.conf');
    } catch (e) {
      expect((e as ConfigError).message).toMatch(/^bad\.conf:3: /);
    }
  });
});

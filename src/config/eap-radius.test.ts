import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { parseStrongswanConf } from './strongswan-conf.js';

const dec = new TextDecoder();
/** The keys on one line each, starting at line 1. */
const plugin = (body: string): string => `charon { plugins { eap-radius {\n${body}\n} } }\n`;

function errorOf(text: string): ConfigError {
  try {
    parseStrongswanConf(text, 'strongswan.conf');
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('charon.plugins.eap-radius', () => {
  it('servers { NAME { ... } } with strongSwan defaults and plugin-wide defaults', () => {
    const g = parseStrongswanConf(`charon {
  plugins {
    eap-radius {
      nas_identifier = vpn-gw
      retransmit_tries = 3
      accounting = yes
      accounting_interval = 5m
      class_group = yes
      eap_start = yes
      servers {
        primary {
          address = 10.0.0.5
          secret = "s3cr3t pass"
          preference = 10
          sockets = 4
        }
        backup {
          address = radius2.example.org
          secret = other
          auth_port = 11812
          port = 9
          acct_port = 11813
          nas_identifier = backup-gw
          retransmit_timeout = 1.5
          retransmit_base = 2
        }
      }
    }
  }
}
`);
    const r = g.radius;
    expect(r).toBeDefined();
    expect(r?.accounting).toBe(true);
    expect(r?.accountingIntervalMs).toBe(300_000);
    expect(r?.classGroup).toBe(true);
    expect(r?.eapStart).toBe(true);
    expect(r?.stationIdWithPort).toBe(true);
    expect(r?.idPrefix).toBe('');
    const [p, b] = r?.servers ?? [];
    expect(p).toMatchObject({ name: 'primary', address: '10.0.0.5', authPort: 1812, acctPort: 1813, nasIdentifier: 'vpn-gw', sockets: 4, preference: 10, retransmitTries: 3, retransmitTimeoutMs: 2000, retransmitBase: 1.4 });
    expect(dec.decode(p?.secret)).toBe('s3cr3t pass');
    expect(b).toMatchObject({ name: 'backup', address: 'radius2.example.org', authPort: 11812, acctPort: 11813, nasIdentifier: 'backup-gw', sockets: 1, preference: 0, retransmitTries: 3, retransmitTimeoutMs: 1500, retransmitBase: 2 });
  });

  it('the flat (legacy) form: server, secret, port', () => {
    const g = parseStrongswanConf(plugin('server = 192.0.2.9\nsecret = abc\nport = 1645'));
    expect(g.radius?.servers).toHaveLength(1);
    expect(g.radius?.servers[0]).toMatchObject({ name: '192.0.2.9', address: '192.0.2.9', authPort: 1645, acctPort: 1813, nasIdentifier: 'strongSwan', retransmitTries: 4, retransmitTimeoutMs: 2000, retransmitBase: 1.4 });
    expect(g.radius?.accounting).toBe(false);
    expect(g.radius?.eapStart).toBe(false);
  });

  it('no section or no server: no RADIUS settings; unused keys are reported, not fatal', () => {
    expect(parseStrongswanConf('charon {\n  retransmit_tries = 3\n}\n').radius).toBeUndefined();
    const g = parseStrongswanConf('charon {\n  plugins {\n    eap-radius {\n      load = yes\n      filter_id = yes\n      dae {\n        enable = yes\n      }\n      bogus_key = 1\n    }\n  }\n}\n');
    expect(g.radius).toBeUndefined();
    expect(g.ignored.map((i) => i.key)).toEqual(['charon.plugins.eap-radius.load', 'charon.plugins.eap-radius.filter_id', 'charon.plugins.eap-radius.bogus_key', 'charon.plugins.eap-radius.dae']);
    expect(g.ignored[2]?.loc.line).toBe(9);
  });

  it('a server without secret or address is an error at its section (strongSwan would skip it silently)', () => {
    const e = errorOf('charon {\n  plugins {\n    eap-radius {\n      servers {\n        a {\n          address = 10.0.0.1\n        }\n        b {\n          secret = x\n        }\n      }\n    }\n  }\n}\n');
    expect(e.code).toBe('MULTIPLE');
    expect(e.errors.map((x) => x.message)).toEqual([
      'strongswan.conf:5: charon.plugins.eap-radius.servers.a: no secret (strongSwan skips such a server)',
      'strongswan.conf:8: charon.plugins.eap-radius.servers.b: no address (strongSwan skips such a server)',
    ]);
  });

  it('bad values name the key, what was expected and the line', () => {
    const e = errorOf(`charon {
  plugins {
    eap-radius {
      accounting = maybe
      accounting_interval = soon
      retransmit_timeout = 0
      retransmit_base = 0.5
      retransmit_tries = 0
      servers {
        a {
          address = 10.0.0.1
          secret = x
          auth_port = 70000
          sockets = 0
          preference = high
        }
      }
    }
  }
}
`);
    const msgs = e.errors.map((x) => x.message);
    expect(msgs).toContain("strongswan.conf:4: charon.plugins.eap-radius.accounting: expected yes or no (also true/false, enabled/disabled, 1/0), got 'maybe'");
    expect(msgs).toContain("strongswan.conf:5: charon.plugins.eap-radius.accounting_interval: expected a duration like 30s, 10m, 1h or 1d (a bare number is seconds), got 'soon'");
    expect(msgs).toContain("strongswan.conf:6: charon.plugins.eap-radius.retransmit_timeout: expected a number of seconds above 0 like 2.0, got '0'");
    expect(msgs).toContain("strongswan.conf:7: charon.plugins.eap-radius.retransmit_base: expected a number >= 1 like 1.4, got '0.5'");
    expect(msgs).toContain("strongswan.conf:8: charon.plugins.eap-radius.retransmit_tries: expected a number of transmissions 1..100, got '0'");
    expect(msgs).toContain("strongswan.conf:13: charon.plugins.eap-radius.servers.a.auth_port: expected a UDP port 1..65535 no larger than 65535, got '70000'");
    expect(msgs).toContain("strongswan.conf:14: charon.plugins.eap-radius.servers.a.sockets: expected a number of sockets 1..1024, got '0'");
    expect(msgs).toContain("strongswan.conf:15: charon.plugins.eap-radius.servers.a.preference: expected a whole number, got 'high'");
  });

  it('the flat form without secret, and a plugin-wide `address` (strongSwan reads `server`)', () => {
    expect(errorOf(plugin('server = 10.0.0.1')).message).toBe('strongswan.conf:2: charon.plugins.eap-radius.server = 10.0.0.1 has no charon.plugins.eap-radius.secret');
    expect(errorOf(plugin('address = 10.0.0.1\nsecret = x')).message).toBe(
      'strongswan.conf:2: charon.plugins.eap-radius.address: strongSwan\'s flat form names the RADIUS server `server = 10.0.0.1` (or use servers { NAME { address = ... } })',
    );
  });

  it('a secret never appears in an error message', () => {
    const e = errorOf(plugin('server = 10.0.0.1\nsecret = hunter2-very-secret\nport = x'));
    expect(e.message).not.toContain('hunter2');
  });
});

/**
 * What Debian's strongSwan 5.9.8 made of the same swanctl.conf text, and whether cygnet agrees.
 *
 * Provenance: each config below was loaded into charon 5.9.8 (the Debian packages installed here, plugins as in
 * ../shared/DESIGN.md section 6) in a network namespace with `swanctl --load-all`, and the values were read from
 * `swanctl --list-conns --raw` / `--list-pools` on 2026-11-22. Where cygnet deliberately differs (it refuses
 * something strongSwan silently misreads) the test says so.
 */
import { describe, expect, it } from 'vitest';
import { parseSwanctlConfig } from './build.js';
import { ConfigError } from './errors.js';

const S = 1000;

function load(text: string) {
  return parseSwanctlConfig(text, 'swanctl.conf').config;
}

function errorOf(text: string): ConfigError {
  try {
    parseSwanctlConfig(text, 'swanctl.conf');
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('parity with strongSwan 5.9.8', () => {
  it('IKE and CHILD lifetimes', () => {
    const c = load(`connections {
      a { remote_addrs = 192.0.2.1
          rekey_time = 1h
          children {
            c1 { life_time = 110m }
            c2 { rekey_time = 20m }
            c3 { rekey_bytes = 1000
                 life_packets = 1100 }
          } }
      b { reauth_time = 2h }
      d { rekey_time = 60s
          over_time = 50s }
    }`).connections;
    // list-conns: a rekey_time=3600; c1 rekey_time=3600; c2 rekey_time=1200; c3 rekey_bytes=1000
    expect(c.get('a')!.rekey_time).toBe(3600 * S);
    expect(c.get('a')!.children.get('c1')!.rekey_time).toBe(3600 * S);
    expect(c.get('a')!.children.get('c2')!.rekey_time).toBe(1200 * S);
    expect(c.get('a')!.children.get('c3')!.rekey_bytes).toBe(1000);
    // b: reauth_time=7200 rekey_time=0
    expect([c.get('b')!.reauth_time, c.get('b')!.rekey_time]).toEqual([7200 * S, 0]);
    // d: rekey_time=60
    expect(c.get('d')!.rekey_time).toBe(60 * S);
  });

  it('number, duration, byte and enum forms', () => {
    const f = load(`connections { f {
      remote_addrs = 192.0.2.1
      dpd_delay = 1 h
      unique = NEVER
      encap = enabled
      children { c1 {
        rekey_bytes = 1k
        rekey_packets = 1000
        local_ts = 10.0.0.1/24[tcp/80], 10.0.1.5-10.0.1.9[udp/domain]
        remote_ts = 10.9.0.0/16[6/1024-2047], 10.8.0.0/16[/443], 10.7.0.0/16[tcp/opaque]
      } } } }
      connections { e { dpd_delay = 0x1d } }`).connections;
    const c = f.get('f')!;
    // dpd_delay=3600 unique=UNIQUE_NEVER
    expect([c.dpd_delay, c.unique, c.encap]).toEqual([3600 * S, 'never', true]);
    const ch = c.children.get('c1')!;
    // rekey_bytes=1024 rekey_packets=1000
    expect([ch.rekey_bytes, ch.rekey_packets]).toEqual([1024, 1000]);
    // local-ts=[10.0.0.0/24[tcp/http] 10.0.1.5..10.0.1.9[udp/domain]]
    expect(ch.local_ts.map((t) => [t.first!.text, t.last!.text, t.protocol, t.fromPort, t.toPort])).toEqual([
      ['10.0.0.0', '10.0.0.255', 6, 80, 80],
      ['10.0.1.5', '10.0.1.9', 17, 53, 53],
    ]);
    // remote-ts=[10.9.0.0/16[tcp/1024-2047] 10.8.0.0/16[0/https] 10.7.0.0/16[tcp/OPAQUE]]
    expect(ch.remote_ts.map((t) => [t.protocol, t.fromPort, t.toPort])).toEqual([
      [6, 1024, 2047],
      [0, 443, 443],
      [6, 65535, 0],
    ]);
    // e: dpd_delay=29 (hex digits are read greedily)
    expect(f.get('e')!.dpd_delay).toBe(29 * S);
  });

  it('actions: route is trap, clear is none; hold and packet suffixes are refused by both', () => {
    const c = load(`connections { a { remote_addrs = 192.0.2.1
      children { c5 { start_action = route
                      dpd_action = trap
                      close_action = clear } } } }`);
    // c5: dpd_action=trap close_action=none, and charon logged "installing 'c5'" (a trap)
    expect(c.connections.get('a')!.children.get('c5')).toMatchObject({ start_action: 'trap', dpd_action: 'trap', close_action: 'none' });
    // "loading connection 'x' failed: invalid value for: dpd_action / close_action / rekey_packets"
    expect(errorOf('connections { x { children { c { dpd_action = hold } } } }').code).toBe('INVALID_VALUE');
    expect(errorOf('connections { x { children { c { close_action = hold } } } }').code).toBe('INVALID_VALUE');
    expect(errorOf('connections { x { children { c { rekey_packets = 1k } } } }').code).toBe('INVALID_VALUE');
  });

  it('section references, repeated sections and templates', () => {
    const c = load(`tpl {
        proposals = aes128-sha256-x25519
        local { auth = psk }
        remote { auth = psk
                 id = @peer }
      }
      connections {
        k : tpl {
          remote_addrs = 192.0.2.7
          remote { id = "C=CH, O=x, CN=y" }
          children { net { local_ts = 10.0.0.0/24 } }
        }
        l { remote_addrs = 192.0.2.8 }
        l { dpd_delay = 10s
            children { a { } } }
      }
      secrets { ike { secret = x } }`).connections;
    // k: remote-1 {class=pre-shared key id=C=CH, O=x, CN=y}, local-1 pre-shared key, child net 10.0.0.0/24
    expect(c.get('k')!.remote[0]).toMatchObject({ auth: { class: 'psk' }, id: 'C=CH, O=x, CN=y' });
    expect(c.get('k')!.local[0]!.auth.class).toBe('psk');
    // l: remote_addrs=[192.0.2.8] dpd_delay=10 children {a}
    expect(c.get('l')!.dpd_delay).toBe(10 * S);
    expect([...c.get('l')!.children.keys()]).toEqual(['a']);
  });

  it('pools', () => {
    const p = load('pools { rw-pool { addrs = 10.10.10.0/24 }\n t520 { addrs = 10.10.11.5-10.10.11.5 } }').pools;
    // list-pools: rw-pool 10.10.10.0 0/0/254 (network and broadcast left out), t520-pool 10.10.11.5 0/0/1
    expect(p.get('rw-pool')!.addrs).toMatchObject({ prefix: 24 });
    expect(p.get('t520')!.addrs.first.text).toBe(p.get('t520')!.addrs.last.text);
  });

  it('where strongSwan silently misreads, cygnet refuses', () => {
    // `rekey_time = 010m` became 480 s (octal 8 minutes)
    expect(errorOf('connections { e { rekey_time = 010m } }').message).toMatch(/leading 0/);
    // `local_ts = 192.168.0.0/255.255.255.0` became 192.168.0.0/32
    expect(errorOf('connections { g { children { c { local_ts = 192.168.0.0/255.255.255.0 } } } }').message).toMatch(/192\.168\.0\.0\/24/);
    // unquoted `id = @#1234` became an empty identity (the rest is a comment)
    expect(errorOf('connections { m { remote {\n id = @#1234\n } } }').message).toMatch(/write a key id in quotes/);
  });
});

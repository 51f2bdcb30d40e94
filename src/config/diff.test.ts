import { describe, expect, it } from 'vitest';
import { parseSwanctlConfig } from './build.js';
import { diffConfigs } from './diff.js';

const base = `
connections {
  a {
    remote_addrs = 192.0.2.1
    local { auth = psk }
    remote { auth = psk }
    children {
      x { local_ts = 10.0.0.0/24 }
      y { local_ts = 10.0.1.0/24 }
    }
  }
  b {
    remote_addrs = 192.0.2.2
    pools = p
  }
  c {
    remote_addrs = 192.0.2.3
  }
}
pools { p { addrs = 10.9.0.0/24 } }
secrets { ike { id = 192.0.2.1
  secret = one } }
`;

const load = (t: string) => parseSwanctlConfig(t, 'swanctl.conf').config;

describe('diffConfigs', () => {
  it('finds nothing between a file and itself re-indented, reordered and with comments', () => {
    const moved = base.replace('  c {\n    remote_addrs = 192.0.2.3\n  }\n', '').replace('connections {', 'connections {\n  # moved\n  c { remote_addrs = 192.0.2.3 }');
    const d = diffConfigs(load(base), load(moved));
    expect(d).toEqual({
      added: [],
      removed: [],
      changed: [],
      unchanged: ['a', 'b', 'c'],
      pools: { added: [], removed: [], changed: [], unchanged: ['p'] },
      secretsChanged: false,
    });
  });

  it('reports added and removed connections', () => {
    const next = base.replace(/ {2}c \{\n {4}remote_addrs = 192.0.2.3\n {2}\}\n/, '  d { remote_addrs = 192.0.2.4 }\n');
    const d = diffConfigs(load(base), load(next));
    expect(d.added).toEqual(['d']);
    expect(d.removed).toEqual(['c']);
    expect(d.unchanged).toEqual(['a', 'b']);
  });

  it('separates an IKE-level change from a children-only change', () => {
    const childOnly = base.replace('y { local_ts = 10.0.1.0/24 }', 'y { local_ts = 10.0.2.0/24 }\n z { }');
    const d1 = diffConfigs(load(base), load(childOnly));
    expect(d1.changed).toEqual([
      { name: 'a', ike: false, children: { added: ['z'], removed: [], changed: ['y'], unchanged: ['x'] } },
    ]);
    const ike = base.replace('remote_addrs = 192.0.2.1', 'remote_addrs = 192.0.2.9');
    const d2 = diffConfigs(load(base), load(ike));
    expect(d2.changed).toEqual([{ name: 'a', ike: true, children: { added: [], removed: [], changed: [], unchanged: ['x', 'y'] } }]);
  });

  it('a change of a default-valued key written out explicitly is no change', () => {
    const explicit = base.replace('remote_addrs = 192.0.2.3', 'remote_addrs = 192.0.2.3\n    rekey_time = 4h\n    mobike = no');
    // mobike = no differs from the default yes: a change; rekey_time = 4h alone would not be
    const d = diffConfigs(load(base), load(explicit));
    expect(d.changed.map((c) => c.name)).toEqual(['c']);
    const onlyDefault = base.replace('remote_addrs = 192.0.2.3', 'remote_addrs = 192.0.2.3\n    rekey_time = 4h');
    expect(diffConfigs(load(base), load(onlyDefault)).unchanged).toContain('c');
  });

  it('a redefined pool changes the connections that use it', () => {
    const next = base.replace('addrs = 10.9.0.0/24', 'addrs = 10.8.0.0/24');
    const d = diffConfigs(load(base), load(next));
    expect(d.pools.changed).toEqual(['p']);
    expect(d.changed.map((c) => [c.name, c.ike])).toEqual([['b', true]]);
    expect(d.unchanged).toEqual(['a', 'c']);
  });

  it('notices changed secrets without touching connections', () => {
    const d = diffConfigs(load(base), load(base.replace('secret = one', 'secret = two')));
    expect(d.secretsChanged).toBe(true);
    expect(d.unchanged).toEqual(['a', 'b', 'c']);
  });
});

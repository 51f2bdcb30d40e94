/**
 * The most specific connection wins (issue 13; strongSwan's backend_manager priorities): identities first
 * (exact > wildcard > %any), then addresses (exact > subnet/range > %any), then how the proposed traffic selectors
 * fit the CHILD configs; ties keep configuration order. Seed 003: a per-client connection with a fixed address
 * next to a general road-warrior connection with a pool.
 */
import { describe, expect, it } from 'vitest';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import { connectionsFor, peerConfigsFor, trafficSelectorFit } from '../../src/ike/connection-select.js';
import type { IkeConnectionConfig } from '../../src/ike/config.js';
import type { IkeEvent } from '../../src/ike/events.js';
import { parseIdentity } from '../../src/ike/identity.js';
import { parsePool } from '../../src/ike/pool.js';
import { formatTrafficSelector, parseTrafficSelector, resolveConfigured } from '../../src/ike/traffic-selector.js';
import { makePair, type Side } from './pair.js';

const of = <T extends IkeEvent['type']>(s: Side, t: T) => s.events.filter((e): e is Extract<IkeEvent, { type: T }> => e.type === t);
const names = (cs: readonly IkeConnectionConfig[]) => cs.map((c) => c.name);
const at = (address: string) => ({ address, port: 500 });
const ts = (...t: string[]) => resolveConfigured(t.map(parseTrafficSelector), []);

describe('IKE_SA_INIT: address match quality', () => {
  const conns = [
    connection({ name: 'any', local: { id: 'gw' } }),
    connection({ name: 'subnet', remoteAddrs: ['198.51.100.0/24'], local: { id: 'gw' } }),
    connection({ name: 'range', remoteAddrs: ['198.51.100.1-198.51.100.9'], local: { id: 'gw' } }),
    connection({ name: 'exact', remoteAddrs: ['198.51.100.7'], local: { id: 'gw' } }),
    connection({ name: 'other', remoteAddrs: ['203.0.113.1'], local: { id: 'gw' } }),
  ];
  const ctx = { connections: () => conns };
  it('exact > subnet/range > %any; non-matching dropped; ties keep configuration order', () => {
    expect(names(connectionsFor(ctx, at('192.0.2.1'), at('198.51.100.7')))).toEqual(['exact', 'subnet', 'range', 'any']);
    expect(names(connectionsFor(ctx, at('192.0.2.1'), at('198.51.100.77')))).toEqual(['subnet', 'any']);
    expect(names(connectionsFor(ctx, at('192.0.2.1'), at('203.0.113.1')))).toEqual(['other', 'any']);
  });
  it('the local address counts the same way', () => {
    const c2 = [connection({ name: 'a', local: { id: 'gw' } }), connection({ name: 'b', localAddrs: ['192.0.2.1'], local: { id: 'gw' } })];
    expect(names(connectionsFor({ connections: () => c2 }, at('192.0.2.1'), at('198.51.100.7')))).toEqual(['b', 'a']);
    expect(names(connectionsFor({ connections: () => c2 }, at('192.0.2.9'), at('198.51.100.7')))).toEqual(['a']);
  });
});

describe('IKE_AUTH: identity, then address, then traffic selector fit', () => {
  const pick = (conns: IkeConnectionConfig[], remoteId: string, o: { remote?: string; wanted?: string; tsi?: string[]; tsr?: string[] } = {}) => {
    const proposed = o.tsi && o.tsr ? { tsi: ts(...o.tsi), tsr: ts(...o.tsr) } : undefined;
    return names(
      peerConfigsFor(
        { connections: () => conns },
        {
          local: at('192.0.2.1'),
          remote: at(o.remote ?? '198.51.100.7'),
          remoteId: parseIdentity(remoteId),
          wantedLocal: o.wanted ? parseIdentity(o.wanted) : undefined,
          localIdentity: (c) => c.local.id,
          tsFit: proposed ? (c) => trafficSelectorFit(c, proposed, at('192.0.2.1'), at(o.remote ?? '198.51.100.7')) : undefined,
        },
      ),
    );
  };
  it('exact id > wildcard id > %any, whatever the configuration order; a non-matching id is dropped', () => {
    const conns = [
      connection({ name: 'any', local: { id: 'gw' } }),
      connection({ name: 'wild', local: { id: 'gw' }, remote: { id: '*@example.org' } }),
      connection({ name: 'exact', local: { id: 'gw' }, remote: { id: 'carol@example.org' } }),
      connection({ name: 'dave', local: { id: 'gw' }, remote: { id: 'dave@example.org' } }),
    ];
    expect(pick(conns, 'carol@example.org')).toEqual(['exact', 'wild', 'any']);
    expect(pick(conns, 'eve@example.org')).toEqual(['wild', 'any']);
    expect(pick(conns, 'eve@example.com')).toEqual(['any']);
  });
  it('the IDr the peer asked for counts too, and excludes connections whose id does not satisfy it', () => {
    const conns = [connection({ name: 'a', local: { id: 'gw.example' } }), connection({ name: 'b', local: { id: 'vpn.example' } })];
    expect(pick(conns, 'carol@example.org', { wanted: 'vpn.example' })).toEqual(['b']);
    expect(pick(conns, 'carol@example.org', { wanted: '*.example' })).toEqual(['a', 'b']);
    expect(pick(conns, 'carol@example.org')).toEqual(['a', 'b']);
  });
  it('identities outrank addresses: an exact id with %any address beats a %any id at the exact address', () => {
    const conns = [
      connection({ name: 'addr', remoteAddrs: ['198.51.100.7'], local: { id: 'gw' } }),
      connection({ name: 'id', local: { id: 'gw' }, remote: { id: 'carol@example.org' } }),
    ];
    expect(pick(conns, 'carol@example.org')).toEqual(['id', 'addr']);
  });
  it('at equal identity, the better address match wins', () => {
    const conns = [
      connection({ name: 'any', local: { id: 'gw' }, remote: { id: 'carol@example.org' } }),
      connection({ name: 'subnet', remoteAddrs: ['198.51.100.0/24'], local: { id: 'gw' }, remote: { id: 'carol@example.org' } }),
      connection({ name: 'exact', remoteAddrs: ['198.51.100.7'], local: { id: 'gw' }, remote: { id: 'carol@example.org' } }),
    ];
    expect(pick(conns, 'carol@example.org')).toEqual(['exact', 'subnet', 'any']);
  });
  it('at equal identity and address, the CHILD config the proposed selectors fit best wins', () => {
    const conns = [
      connection({ name: 'none', local: { id: 'gw' }, children: [child('c', { localTs: ['10.9.0.0/16'], remoteTs: ['10.2.0.0/16'] })] }),
      connection({ name: 'narrowed', local: { id: 'gw' }, children: [child('c', { localTs: ['10.1.0.0/24'], remoteTs: ['10.2.0.0/16'] })] }),
      connection({ name: 'fits', local: { id: 'gw' }, children: [child('c', { localTs: ['10.1.0.0/16'], remoteTs: ['10.2.0.0/16'] })] }),
    ];
    expect(pick(conns, 'carol@example.org', { tsi: ['10.2.0.0/16'], tsr: ['10.1.0.0/16'] })).toEqual(['fits', 'narrowed', 'none']);
  });
  it('full ties keep configuration order', () => {
    const conns = [connection({ name: 'first', local: { id: 'gw' } }), connection({ name: 'second', local: { id: 'gw' } }), connection({ name: 'third', local: { id: 'gw' } })];
    expect(pick(conns, 'carol@example.org', { tsi: ['0.0.0.0/0'], tsr: ['0.0.0.0/0'] })).toEqual(['first', 'second', 'third']);
  });
});

describe('trafficSelectorFit', () => {
  it('2 per side when nothing must be narrowed, 1 when narrowed, 0 when nothing is left; pool connections accept any TSi', () => {
    const conn = connection({ name: 'c', local: { id: 'gw' }, children: [child('c', { localTs: ['10.1.0.0/16'], remoteTs: ['10.2.0.0/16'] })] });
    const score = (tsi: string, tsr: string, c = conn) => trafficSelectorFit(c, { tsi: ts(tsi), tsr: ts(tsr) }, at('192.0.2.1'), at('198.51.100.7'));
    expect(score('10.2.0.0/16', '10.1.0.0/16')).toBe(4);
    expect(score('10.2.0.0/16', '0.0.0.0/0')).toBe(3);
    expect(score('10.3.0.0/16', '10.1.0.0/16')).toBe(0);
    const rw = connection({ name: 'rw', pools: ['p'], local: { id: 'gw' }, children: [child('c', { localTs: ['10.1.0.0/16'] })] });
    expect(score('0.0.0.0/0', '10.1.0.0/16', rw)).toBe(4);
  });
});

describe('seed 003: a per-client connection with a fixed address next to the road-warrior pool', () => {
  const psk = pskCredentials([{ ids: ['moon.example', 't520@example.org', 'laptop@example.org'], secret: 'seed003' }]);
  // The general connection comes first, as in the seed's ipsec.conf: first match used to win.
  const server = [
    connection({ name: 'roadwarriors', pools: ['rw'], local: { id: 'moon.example' }, children: [child('rw', { localTs: ['0.0.0.0/0'] })] }),
    connection({ name: 't520', pools: ['t520'], local: { id: 'moon.example' }, remote: { id: 't520@example.org' }, children: [child('t520', { localTs: ['0.0.0.0/0'] })] }),
  ];
  const pools = [parsePool('rw', '10.3.0.0/24'), parsePool('t520', '10.3.1.20-10.3.1.20')];
  const run = (id: string) => {
    const client = connection({ name: 'home', remoteAddrs: ['192.0.2.2'], vips: ['0.0.0.0'], local: { id }, remote: { id: 'moon.example' }, children: [child('home', { remoteTs: ['0.0.0.0/0'] })] });
    const { sim, a, b } = makePair({ connections: [client], credentials: psk }, { connections: server, credentials: psk, pools });
    a.ep.initiate('home', 0);
    expect(sim.runUntil(() => of(a, 'child-install').length > 0 && of(b, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    return { vip: of(a, 'vip-assigned')[0]!.addresses, conn: b.ep.listSas()[0]!.sa.name, child: of(b, 'child-install')[0]!.child };
  };
  it('the client with its own connection gets that connection, its CHILD and its fixed virtual IP', () => {
    const r = run('t520@example.org');
    expect(r.conn).toBe('t520');
    expect(r.child.name).toBe('t520');
    expect(r.vip).toEqual(['10.3.1.20']);
    expect(r.child.remoteTs.map(formatTrafficSelector)).toEqual(['10.3.1.20/32']);
  });
  it('any other client gets the road-warrior connection and a pool address', () => {
    const r = run('laptop@example.org');
    expect(r.conn).toBe('roadwarriors');
    expect(r.child.name).toBe('rw');
    expect(r.vip).toEqual(['10.3.0.1']);
  });
});

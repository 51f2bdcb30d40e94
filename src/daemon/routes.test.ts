import { describe, expect, it } from 'vitest';
import type { ChildSaInfo } from '../ike/events.js';
import { parseTrafficSelector, type TrafficSelector } from '../ike/traffic-selector.js';
import { parseIp } from '../net/ip-address.js';
import { Logger } from './logger.js';
import { rangeToPrefixes, TunRoutes } from './routes.js';

const ip = (s: string) => parseIp(s)!;
const ts = (s: string) => parseTrafficSelector(s) as TrafficSelector;

describe('rangeToPrefixes', () => {
  it('covers ranges with the fewest prefixes', () => {
    expect(rangeToPrefixes(ip('10.2.0.0'), ip('10.2.255.255'))).toEqual(['10.2.0.0/16']);
    expect(rangeToPrefixes(ip('10.0.0.1'), ip('10.0.0.1'))).toEqual(['10.0.0.1/32']);
    expect(rangeToPrefixes(ip('10.0.0.1'), ip('10.0.0.6'))).toEqual(['10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/31', '10.0.0.6/32']);
    expect(rangeToPrefixes(ip('0.0.0.0'), ip('255.255.255.255'))).toEqual(['0.0.0.0/0']);
    expect(rangeToPrefixes(ip('fd00::'), ip('fd00::ffff'))).toEqual(['fd00::/112']);
  });
});

function child(id: number, local: string[], remote: string[], peer = '192.0.2.2'): ChildSaInfo {
  return {
    ikeSaId: 1, name: 'net', id, mode: 'tunnel', protocol: 'esp', encrId: 20, encrKeyBits: 128, integId: 0, esn: false,
    spiIn: 0x1000 + id, spiOut: 0x2000 + id, localTs: local.map(ts), remoteTs: remote.map(ts),
    local: { address: '192.0.2.1', port: 4500 }, remote: { address: peer, port: 4500 }, encapsulated: true, suite: 'AES_GCM_16-128',
  };
}

function setup() {
  const calls: string[] = [];
  const lines: string[] = [];
  const r = new TunRoutes('cyg0', new Logger({ write: (l) => lines.push(l) }), async (args) => {
    calls.push(args.join(' '));
    return '';
  }, () => [ip('192.0.2.1'), ip('10.1.0.1'), ip('127.0.0.1')]);
  return { r, calls, lines };
}

describe('TunRoutes', () => {
  it('routes remote selectors with a source inside the local ones, counted across rekeys', async () => {
    const { r, calls } = setup();
    r.childUp(child(1, ['10.1.0.0/16'], ['10.2.0.0/16', '10.3.0.1']));
    r.childUp(child(2, ['10.1.0.0/16'], ['10.2.0.0/16', '10.3.0.1'])); // the rekeyed successor
    r.childDown(child(1, [], []));
    await r.settled();
    expect(calls).toEqual(['-4 route replace 10.2.0.0/16 dev cyg0 src 10.1.0.1', '-4 route replace 10.3.0.1/32 dev cyg0 src 10.1.0.1']);
    r.childDown(child(2, [], []));
    await r.settled();
    expect(calls.slice(2)).toEqual(['-4 route del 10.2.0.0/16 dev cyg0 src 10.1.0.1', '-4 route del 10.3.0.1/32 dev cyg0 src 10.1.0.1']);
  });

  it('no source when none of our addresses is inside the local selectors', async () => {
    const { r, calls } = setup();
    r.childUp(child(1, ['172.16.0.0/24'], ['10.2.0.0/24']));
    await r.settled();
    expect(calls).toEqual(['-4 route replace 10.2.0.0/24 dev cyg0']);
  });

  it('does not route a selector containing the peer (that would loop IKE/ESP into the tunnel)', async () => {
    const { r, calls, lines } = setup();
    r.childUp(child(1, ['10.1.0.0/16'], ['0.0.0.0/0']));
    await r.settled();
    expect(calls).toEqual([]);
    expect(lines.join('\n')).toContain('contains the peer 192.0.2.2');
  });

  it('cleanup removes what is left; a failing ip is logged, not thrown', async () => {
    const calls: string[] = [];
    const lines: string[] = [];
    const r = new TunRoutes('cyg0', new Logger({ write: (l) => lines.push(l) }), async (args) => {
      calls.push(args.join(' '));
      if (args.includes('del')) throw new Error('RTNETLINK answers: No such process');
      return '';
    }, () => []);
    r.childUp(child(1, ['10.1.0.0/16'], ['10.2.0.0/16']));
    await r.cleanup();
    expect(calls).toEqual(['-4 route replace 10.2.0.0/16 dev cyg0', '-4 route del 10.2.0.0/16 dev cyg0']);
    expect(lines.some((l) => l.includes('failed: RTNETLINK'))).toBe(true);
  });

  it('puts a virtual IP on the device first and uses it as the source; cleanup removes both', async () => {
    const { r, calls } = setup();
    r.addVirtualIp('10.3.0.7');
    r.addVirtualIp('10.3.0.7'); // once only
    r.childUp(child(1, ['10.3.0.7/32'], ['10.2.0.0/16']));
    await r.settled();
    expect(calls).toEqual(['-4 addr replace 10.3.0.7/32 dev cyg0', '-4 route replace 10.2.0.0/16 dev cyg0 src 10.3.0.7']);
    await r.cleanup();
    expect(calls.slice(2)).toEqual(['-4 route del 10.2.0.0/16 dev cyg0 src 10.3.0.7', '-4 addr del 10.3.0.7/32 dev cyg0']);
  });
});

describe('TunRoutes for trap policies', () => {
  it('a trap route and the CHILD SA route share one kernel route', async () => {
    const calls: string[] = [];
    const r = new TunRoutes('cyg0', new Logger({ write: () => {} }), async (args) => {
      calls.push(args.join(' '));
      return '';
    }, () => [ip('10.1.0.1')]);
    r.trapUp('gw/net', [ts('10.1.0.0/16')], [ts('10.2.0.0/16')], '192.0.2.2');
    r.childUp(child(1, ['10.1.0.0/16'], ['10.2.0.0/16']));
    r.trapDown('gw/net');
    await r.settled();
    expect(calls).toEqual(['-4 route replace 10.2.0.0/16 dev cyg0 src 10.1.0.1']);
    r.childDown(child(1, [], []));
    await r.settled();
    expect(calls.slice(1)).toEqual(['-4 route del 10.2.0.0/16 dev cyg0 src 10.1.0.1']);
  });
});

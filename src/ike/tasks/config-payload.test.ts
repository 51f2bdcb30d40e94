/**
 * The configuration payload (RFC 7296 3.15): what a client asks for, what the gateway answers from its pools
 * (addresses, dns, nbns, netmask, subnet: strongSwan 5.9.8's vici pool attributes) and from its local_ts when the
 * client asks for INTERNAL_IP4/6_SUBNET (3.15.2), and what a client reads from a CFG_REPLY, including bad input.
 */
import { describe, expect, it } from 'vitest';
import { parseSwanctlConfig } from '../../config/build.js';
import { toIkeConnections, toIkePools } from '../../config/ike-adapter.js';
import { formatIp, parseIp } from '../../net/ip-address.js';
import { CfgType, ConfigAttributeType as A, PayloadType, type ConfigAttribute, type CpPayload, type TsPayload } from '../codec/types.js';
import { makePair } from '../../../test/ike/pair.js';
import { child, connection, pskCredentials } from '../config-builder.js';
import type { IkeEvent } from '../events.js';
import { parseIdentity } from '../identity.js';
import { AddressPool, parsePool, type AddressPoolConfig } from '../pool.js';
import { parseTrafficSelector, type TrafficSelector } from '../traffic-selector.js';
import { answerCpRequest, buildCpRequest, describeCpReply, rangeToCidrs, readCpReply, vipAssignedEvent } from './config-payload.js';

const peer = parseIdentity('carol@example.org');
const ip = (s: string) => parseIp(s) ?? new Uint8Array(0);
const cpOf = (cfgType: number, attributes: ConfigAttribute[]): CpPayload => ({ type: PayloadType.CP, critical: false, cfgType, attributes });
const req = (...types: number[]) => cpOf(CfgType.CFG_REQUEST, types.map((type) => ({ type, value: new Uint8Array(0) })));
const reply = (...attributes: [number, number[] | Uint8Array][]) => [cpOf(CfgType.CFG_REPLY, attributes.map(([type, v]) => ({ type, value: Uint8Array.from(v) })))];
const tsr = (...ts: string[]): TsPayload => ({ type: PayloadType.TSr, critical: false, selectors: ts.map((t) => parseTrafficSelector(t) as TrafficSelector) });
const poolMap = (...cfgs: AddressPoolConfig[]) => new Map(cfgs.map((c) => [c.name, new AddressPool(c)]));
/** The reply's attributes as [type, printed value] for readable expectations. */
const shown = (cp: CpPayload | undefined) =>
  (cp?.attributes ?? []).map((a) => [a.type, a.value.length === 4 || a.value.length === 16 ? formatIp(a.value) : a.value.length === 8 ? `${formatIp(a.value.subarray(0, 4))}/${formatIp(a.value.subarray(4))}` : a.value.length === 17 ? `${formatIp(a.value.subarray(0, 16))}/${a.value[16]}` : `${a.value.length} bytes`]);

const gw = (localTs: string[], pools = ['p']) => connection({ name: 'rw', pools, local: { id: 'moon.example' }, remote: { id: '%any' }, children: [child('net', { localTs, remoteTs: ['dynamic'] })] });

describe('buildCpRequest', () => {
  it('asks for an address, the DNS servers and the protected subnets per family of vips', () => {
    const c = connection({ name: 'c', vips: ['0.0.0.0', '::'], local: { id: 'a' }, remote: { id: 'b' } });
    const cp = buildCpRequest(c);
    expect(cp?.cfgType).toBe(CfgType.CFG_REQUEST);
    expect(cp?.attributes.map((a) => [a.type, a.value.length])).toEqual([
      [A.INTERNAL_IP4_ADDRESS, 0],
      [A.INTERNAL_IP6_ADDRESS, 0],
      [A.INTERNAL_IP4_DNS, 0],
      [A.INTERNAL_IP4_SUBNET, 0],
      [A.INTERNAL_IP6_DNS, 0],
      [A.INTERNAL_IP6_SUBNET, 0],
    ]);
  });

  it('asks for nothing without vips, and for the address it holds on reauthentication', () => {
    expect(buildCpRequest(connection({ name: 'c', local: { id: 'a' }, remote: { id: 'b' } }))).toBeUndefined();
    const cp = buildCpRequest(connection({ name: 'c', vips: ['0.0.0.0'], local: { id: 'a' }, remote: { id: 'b' } }), ['10.3.0.7']);
    expect(formatIp(cp?.attributes[0]?.value ?? new Uint8Array(0))).toBe('10.3.0.7');
  });
});

describe('answerCpRequest: pool attributes', () => {
  const pool = parsePool('p', '10.3.0.0/24', ['10.1.0.53', 'fd00:1::53'], { nbns: ['10.1.0.54'], netmask: ['255.255.255.0'], subnet: ['10.1.0.0/16', 'fd00:1::/64'] });

  it("sends the leasing pool's dns, nbns, netmask and subnets whether asked or not (strongSwan's vici pools)", () => {
    const r = answerCpRequest([req(A.INTERNAL_IP4_ADDRESS, A.INTERNAL_IP4_DNS)], gw(['10.1.0.0/16']), poolMap(pool), peer);
    expect(r.failed).toBe(false);
    expect(r.leased.map((l) => l.address)).toEqual(['10.3.0.1']);
    expect(shown(r.reply)).toEqual([
      [A.INTERNAL_IP4_ADDRESS, '10.3.0.1'],
      [A.INTERNAL_IP4_DNS, '10.1.0.53'],
      [A.INTERNAL_IP6_DNS, 'fd00:1::53'],
      [A.INTERNAL_IP4_NBNS, '10.1.0.54'],
      [A.INTERNAL_IP4_NETMASK, '255.255.255.0'],
      [A.INTERNAL_IP4_SUBNET, '10.1.0.0/255.255.0.0'],
      [A.INTERNAL_IP6_SUBNET, 'fd00:1::/64'],
    ]);
    expect(r.built).toEqual([
      'INTERNAL_IP4_ADDRESS',
      'INTERNAL_IP4_DNS',
      'INTERNAL_IP6_DNS',
      'INTERNAL_IP4_NBNS',
      'INTERNAL_IP4_NETMASK',
      'INTERNAL_IP4_SUBNET',
      'INTERNAL_IP6_SUBNET',
    ]);
  });

  it('an IPv6 nbns or netmask goes out as RFC 4306 INTERNAL_IP6_NBNS (11) / INTERNAL_IP6_NETMASK (9), as strongSwan sends them', () => {
    const p6 = parsePool('p', 'fd00:3::/120', [], { nbns: ['fd00:1::54'], netmask: ['ffff:ffff:ffff:ffff::'] });
    const r = answerCpRequest([req(A.INTERNAL_IP6_ADDRESS)], gw(['fd00:1::/64']), poolMap(p6), peer);
    expect(shown(r.reply)).toEqual([
      [A.INTERNAL_IP6_ADDRESS, 'fd00:3::1/128'],
      [11, 'fd00:1::54'],
      [9, 'ffff:ffff:ffff:ffff::'],
    ]);
    expect(r.built.slice(1)).toEqual(['INTERNAL_IP6_NBNS', 'INTERNAL_IP6_NETMASK']);
  });

  it('a pool that leased nothing contributes no attributes; no address at all is INTERNAL_ADDRESS_FAILURE', () => {
    const other = parsePool('q', '10.4.0.0/24', ['10.9.9.9'], { nbns: ['10.9.9.8'] });
    const r = answerCpRequest([req(A.INTERNAL_IP4_ADDRESS)], gw(['10.1.0.0/16'], ['p', 'q']), poolMap(pool, other), peer);
    expect(shown(r.reply).map(([, v]) => v)).not.toContain('10.9.9.9');
    const one = parsePool('p', '10.3.0.9', [], { nbns: ['10.1.0.54'] });
    const pools = poolMap(one);
    expect(answerCpRequest([req(A.INTERNAL_IP4_ADDRESS)], gw([]), pools, peer).failed).toBe(false);
    const second = answerCpRequest([req(A.INTERNAL_IP4_ADDRESS)], gw([]), pools, parseIdentity('dave@example.org'));
    expect(second).toEqual({ leased: [], failed: true, built: [] });
  });

  it('no CP in the request: nothing to answer', () => {
    expect(answerCpRequest([], gw([]), poolMap(pool), peer)).toEqual({ leased: [], failed: false, built: [] });
  });
});

describe('answerCpRequest: subnets from local_ts (RFC 7296 3.15.2)', () => {
  const plain = parsePool('p', '10.3.0.0/24', ['10.1.0.53']);
  const subnetsOf = (r: ReturnType<typeof answerCpRequest>) => shown(r.reply).filter(([t]) => t === A.INTERNAL_IP4_SUBNET || t === A.INTERNAL_IP6_SUBNET);

  it("a client asking for INTERNAL_IP4_SUBNET gets the gateway's local_ts narrowed to its TSr, as CIDRs", () => {
    const conn = gw(['10.1.0.0/16', '10.20.0.0/24', '192.168.7.1-192.168.7.6', 'fd00:1::/64', 'dynamic']);
    const r = answerCpRequest([req(A.INTERNAL_IP4_ADDRESS, A.INTERNAL_IP4_SUBNET), tsr('10.0.0.0/8', '192.168.0.0/16')], conn, poolMap(plain), peer);
    expect(subnetsOf(r)).toEqual([
      [A.INTERNAL_IP4_SUBNET, '10.1.0.0/255.255.0.0'],
      [A.INTERNAL_IP4_SUBNET, '10.20.0.0/255.255.255.0'],
      [A.INTERNAL_IP4_SUBNET, '192.168.7.1/255.255.255.255'],
      [A.INTERNAL_IP4_SUBNET, '192.168.7.2/255.255.255.254'],
      [A.INTERNAL_IP4_SUBNET, '192.168.7.4/255.255.255.254'],
      [A.INTERNAL_IP4_SUBNET, '192.168.7.6/255.255.255.255'],
    ]);
    // A TSr of one host narrows 10.1.0.0/16 down to it; 10.20.0.0/24 and the range are outside it.
    const narrowed = answerCpRequest([req(A.INTERNAL_IP4_ADDRESS, A.INTERNAL_IP4_SUBNET), tsr('10.1.2.3/32')], conn, poolMap(parsePool('p', '10.3.0.0/24')), peer);
    expect(subnetsOf(narrowed)).toEqual([[A.INTERNAL_IP4_SUBNET, '10.1.2.3/255.255.255.255']]);
  });

  it('IPv6 subnets only when asked for INTERNAL_IP6_SUBNET; a full tunnel (0.0.0.0/0) and dynamic send none', () => {
    const conn = gw(['0.0.0.0/0', 'fd00:1::/64', 'dynamic']);
    const r = answerCpRequest([req(A.INTERNAL_IP4_ADDRESS, A.INTERNAL_IP4_SUBNET, A.INTERNAL_IP6_SUBNET)], conn, poolMap(plain), peer);
    expect(subnetsOf(r)).toEqual([[A.INTERNAL_IP6_SUBNET, 'fd00:1::/64']]);
    const notAsked = answerCpRequest([req(A.INTERNAL_IP4_ADDRESS)], gw(['10.1.0.0/16']), poolMap(parsePool('p', '10.3.0.0/24')), peer);
    expect(subnetsOf(notAsked)).toEqual([]);
  });

  it("a pool's own `subnet` wins over local_ts for its family", () => {
    const withSubnet = parsePool('p', '10.3.0.0/24', [], { subnet: ['172.16.0.0/12'] });
    const r = answerCpRequest([req(A.INTERNAL_IP4_ADDRESS, A.INTERNAL_IP4_SUBNET)], gw(['10.1.0.0/16']), poolMap(withSubnet), peer);
    expect(subnetsOf(r)).toEqual([[A.INTERNAL_IP4_SUBNET, '172.16.0.0/255.240.0.0']]);
  });
});

describe('readCpReply', () => {
  it('reads addresses, DNS, NBNS (both families), the netmask and subnets in CIDR form', () => {
    const got = readCpReply(
      reply(
        [A.INTERNAL_IP4_ADDRESS, ip('10.3.0.1')],
        [A.INTERNAL_IP6_ADDRESS, [...ip('fd00:3::1'), 128]],
        [A.INTERNAL_IP4_DNS, ip('10.1.0.53')],
        [A.INTERNAL_IP4_NBNS, ip('10.1.0.54')],
        [11, ip('fd00:1::54')],
        [A.INTERNAL_IP4_NETMASK, ip('255.255.255.0')],
        [A.INTERNAL_IP4_SUBNET, [...ip('10.1.0.0'), ...ip('255.255.0.0')]],
        [A.INTERNAL_IP4_SUBNET, [...ip('10.1.0.0'), ...ip('255.255.0.0')]],
        [A.INTERNAL_IP6_SUBNET, [...ip('fd00:1::'), 64]],
      ),
    );
    expect(got).toEqual({
      addresses: ['10.3.0.1', 'fd00:3::1'],
      dns: ['10.1.0.53'],
      nbns: ['10.1.0.54', 'fd00:1::54'],
      netmask: '255.255.255.0',
      subnets: ['10.1.0.0/16', 'fd00:1::/64'],
      problems: [],
    });
    expect(describeCpReply(got)).toBe('10.3.0.1, fd00:3::1, DNS 10.1.0.53, NBNS 10.1.0.54, fd00:1::54, subnets 10.1.0.0/16, fd00:1::/64, netmask 255.255.255.0');
    expect(vipAssignedEvent(4, got)).toEqual({
      type: 'vip-assigned',
      ikeSaId: 4,
      addresses: ['10.3.0.1', 'fd00:3::1'],
      dns: ['10.1.0.53'],
      nbns: ['10.1.0.54', 'fd00:1::54'],
      netmask: '255.255.255.0',
      subnets: ['10.1.0.0/16', 'fd00:1::/64'],
    });
  });

  it("a subnet's host bits are cleared (10.1.2.3/255.255.0.0 is 10.1.0.0/16)", () => {
    expect(readCpReply(reply([A.INTERNAL_IP4_SUBNET, [...ip('10.1.2.3'), ...ip('255.255.0.0')]])).subnets).toEqual(['10.1.0.0/16']);
  });

  it.each([
    ['a 3-byte IPv4 address', [A.INTERNAL_IP4_ADDRESS, [10, 3, 0]], /ignoring INTERNAL_IP4_ADDRESS attribute of 3 bytes in CFG_REPLY: expected a 4-byte address/],
    ['an IPv6 address without its prefix byte', [A.INTERNAL_IP6_ADDRESS, ip('fd00::1')], /ignoring INTERNAL_IP6_ADDRESS attribute of 16 bytes.*prefix length/],
    ['a 5-byte NBNS', [A.INTERNAL_IP4_NBNS, [1, 2, 3, 4, 5]], /ignoring INTERNAL_IP4_NBNS attribute of 5 bytes/],
    ['a 4-byte IPv6 NBNS', [11, ip('10.0.0.1')], /ignoring INTERNAL_IP6_NBNS attribute of 4 bytes.*16-byte/],
    ['a netmask with a hole', [A.INTERNAL_IP4_NETMASK, ip('255.0.255.0')], /ignoring INTERNAL_IP4_NETMASK attribute of 4 bytes.*contiguous netmask/],
    ['an IPv4 subnet without its mask', [A.INTERNAL_IP4_SUBNET, ip('10.1.0.0')], /ignoring INTERNAL_IP4_SUBNET attribute of 4 bytes.*4-byte contiguous netmask/],
    ['an IPv4 subnet with a broken mask', [A.INTERNAL_IP4_SUBNET, [...ip('10.1.0.0'), ...ip('0.255.255.0')]], /INTERNAL_IP4_SUBNET.*contiguous/],
    ['an IPv6 subnet with prefix 129', [A.INTERNAL_IP6_SUBNET, [...ip('fd00::'), 129]], /ignoring INTERNAL_IP6_SUBNET attribute of 17 bytes.*at most 128/],
    ['an IPv6 subnet of 16 bytes', [A.INTERNAL_IP6_SUBNET, ip('fd00::')], /INTERNAL_IP6_SUBNET attribute of 16 bytes/],
    ['an unused attribute', [A.APPLICATION_VERSION, [0x61]], /ignoring APPLICATION_VERSION attribute in CFG_REPLY: not used by cygnet/],
    ['a vendor attribute', [28676, [1, 2]], /ignoring \(28676\) attribute in CFG_REPLY: not used by cygnet/],
  ] as const)('%s is skipped with a reason, the rest is read', (_what, [type, value], why) => {
    const got = readCpReply(reply([type, Uint8Array.from(value)], [A.INTERNAL_IP4_ADDRESS, ip('10.3.0.1')]));
    expect(got.addresses).toEqual(['10.3.0.1']);
    expect(got.problems).toHaveLength(1);
    expect(got.problems[0]).toMatch(why);
  });

  it('a second netmask is refused (RFC 7296 3.15.1 allows one)', () => {
    const got = readCpReply(reply([A.INTERNAL_IP4_NETMASK, ip('255.255.255.0')], [A.INTERNAL_IP4_NETMASK, ip('255.255.0.0')]));
    expect(got.netmask).toBe('255.255.255.0');
    expect(got.problems).toEqual(['ignoring INTERNAL_IP4_NETMASK attribute of 4 bytes in CFG_REPLY: only one netmask is allowed (RFC 7296 3.15.1)']);
  });

  it('no CFG_REPLY (or only a CFG_REQUEST): nothing', () => {
    const empty = { addresses: [], dns: [], nbns: [], subnets: [], problems: [] };
    expect(readCpReply([])).toEqual(empty);
    expect(readCpReply([req(A.INTERNAL_IP4_ADDRESS)])).toEqual(empty);
  });
});

describe('rangeToCidrs', () => {
  const show = (a: string, b: string) => rangeToCidrs(ip(a), ip(b)).map((s) => `${formatIp(s.address)}/${s.prefix}`);
  it('covers a range with the fewest aligned blocks', () => {
    expect(show('10.0.0.0', '10.0.255.255')).toEqual(['10.0.0.0/16']);
    expect(show('10.0.0.1', '10.0.0.6')).toEqual(['10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/31', '10.0.0.6/32']);
    expect(show('0.0.0.0', '255.255.255.255')).toEqual(['0.0.0.0/0']);
    expect(show('10.0.0.255', '10.0.1.0')).toEqual(['10.0.0.255/32', '10.0.1.0/32']);
    expect(show('fd00::', 'fd00::ffff:ffff:ffff:ffff')).toEqual(['fd00::/64']);
    expect(show('255.255.255.254', '255.255.255.255')).toEqual(['255.255.255.254/31']);
  });
});

describe('swanctl.conf pools to the CFG_REPLY', () => {
  it('nbns, netmask and subnet of a pool in swanctl.conf reach the reply', () => {
    const text = `connections {
  rw {
    pools = p
    local { auth = psk
      id = moon.example }
    remote { auth = psk }
    children { net { local_ts = 10.1.0.0/16 } }
  }
}
pools {
  p {
    addrs = 10.3.0.0/24
    dns = 10.1.0.53
    nbns = 10.1.0.54, 10.1.0.55
    netmask = 255.255.0.0
    subnet = 10.1.0.0/16, 10.2.0.0/16
  }
}
`;
    const loaded = parseSwanctlConfig(text);
    expect(loaded.warnings.filter((w) => /netmask|subnet|nbns/.test(w.message))).toEqual([]);
    const [conn] = toIkeConnections(loaded.config);
    const pools = toIkePools(loaded.config);
    expect(conn).toBeDefined();
    if (!conn) return;
    const r = answerCpRequest([req(A.INTERNAL_IP4_ADDRESS, A.INTERNAL_IP4_DNS)], conn, poolMap(...pools), peer);
    expect(shown(r.reply).slice(1)).toEqual([
      [A.INTERNAL_IP4_DNS, '10.1.0.53'],
      [A.INTERNAL_IP4_NBNS, '10.1.0.54'],
      [A.INTERNAL_IP4_NBNS, '10.1.0.55'],
      [A.INTERNAL_IP4_NETMASK, '255.255.0.0'],
      [A.INTERNAL_IP4_SUBNET, '10.1.0.0/255.255.0.0'],
      [A.INTERNAL_IP4_SUBNET, '10.2.0.0/255.255.0.0'],
    ]);
  });

  it('a netmask with a hole is a configuration error naming the pool', () => {
    const loaded = parseSwanctlConfig('pools {\n  p {\n    addrs = 10.3.0.0/24\n    netmask = 255.0.255.0\n  }\n}\n');
    expect(() => toIkePools(loaded.config)).toThrow(/pool p: netmask '255.0.255.0' is not contiguous/);
  });
});

describe('cygnet client and cygnet gateway (simulated pair)', () => {
  const psk = pskCredentials([{ ids: ['moon.example', 'carol@example.org'], secret: 'cp' }]);
  const run = () => {
    const client = connection({ name: 'home', remoteAddrs: ['192.0.2.2'], vips: ['0.0.0.0'], local: { id: 'carol@example.org' }, remote: { id: 'moon.example' }, children: [child('home', { remoteTs: ['0.0.0.0/0'] })] });
    const server = connection({ name: 'rw', pools: ['v4'], local: { id: 'moon.example' }, children: [child('rw', { localTs: ['10.1.0.0/16', '10.11.0.0/16', 'dynamic'] })] });
    const { sim, a, b } = makePair({ connections: [client], credentials: psk }, { connections: [server], credentials: psk, pools: [parsePool('v4', '10.3.0.0/24', ['10.1.0.53'], { nbns: ['10.1.0.54'] })] });
    a.ep.initiate('home', 0);
    expect(sim.runUntil(() => a.events.some((e) => e.type === 'child-install'), { maxTime: 60_000 }).ok).toBe(true);
    const vip = a.events.find((e): e is Extract<IkeEvent, { type: 'vip-assigned' }> => e.type === 'vip-assigned');
    return { a, b, vip };
  };

  it("the client gets its address and DNS; its 0.0.0.0/0 is narrowed to the gateway's local_ts", () => {
    const { a, vip } = run();
    expect(vip?.addresses).toEqual(['10.3.0.1']);
    expect(vip?.dns).toEqual(['10.1.0.53']);
    const installed = a.events.find((e): e is Extract<IkeEvent, { type: 'child-install' }> => e.type === 'child-install');
    expect(installed?.child.remoteTs.map((t) => `${formatIp(t.startAddr)}-${formatIp(t.endAddr)}`)).toEqual([
      '10.1.0.0-10.1.255.255',
      '10.11.0.0-10.11.255.255',
      // `dynamic` in the gateway's local_ts is its own address: a selector, but never sent as a subnet (below).
      '192.0.2.2-192.0.2.2',
    ]);
  });

  // Needs the call site in ike-auth.ts (the lead's file) to emit vipAssignedEvent(sa.id, readCpReply(...)); today it
  // passes addresses and dns only. Un-skip when it does.
  it('the vip-assigned event carries the NBNS server and the local_ts subnets the client asked for', () => {
    const { vip } = run();
    expect(vip?.nbns).toEqual(['10.1.0.54']);
    expect(vip?.subnets).toEqual(['10.1.0.0/16', '10.11.0.0/16']);
  });
});

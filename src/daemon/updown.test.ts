import { describe, expect, it } from 'vitest';
import type { ChildSaInfo, IkeEvent, IkeSaInfo } from '../ike/events.js';
import { parseTrafficSelector, type TrafficSelector } from '../ike/traffic-selector.js';
import { Logger } from './logger.js';
import { plutoEnv, tsSubnet, UpdownRunner } from './updown.js';

const ts = (s: string) => parseTrafficSelector(s) as TrafficSelector;
const sa = (local: string, remote: string, nat = false): IkeSaInfo => ({
  id: 7,
  name: 'gw',
  state: 'ESTABLISHED',
  initiator: true,
  spiI: new Uint8Array(8),
  spiR: new Uint8Array(8),
  local: { address: local, port: 4500 },
  remote: { address: remote, port: 4501 },
  localId: 'moon.example',
  remoteId: 'sun.example',
  suite: 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519',
  natDetected: { local: nat, remote: false },
  encapsulated: nat,
});
const child = (encapsulated = false) => ({ name: 'net', protocol: 'esp', encapsulated }) as ChildSaInfo;

describe('plutoEnv (updown_listener.c invoke_once)', () => {
  it('-client for a subnet, -host when the local selector is our IKE address, -v6 for IPv6', () => {
    const base = { up: true, child: child(), sa: sa('192.0.2.1', '198.51.100.1'), reqid: 3, iface: 'cyg0' };
    expect(plutoEnv({ ...base, my: ts('10.1.0.0/16'), peer: ts('10.2.0.0/16') }).PLUTO_VERB).toBe('up-client');
    expect(plutoEnv({ ...base, up: false, my: ts('192.0.2.1/32'), peer: ts('10.2.0.0/16') }).PLUTO_VERB).toBe('down-host');
    expect(plutoEnv({ ...base, my: ts('fd00:1::/64'), peer: ts('fd00:2::/64') }).PLUTO_VERB).toBe('up-client-v6');
    const v6host = plutoEnv({ ...base, sa: sa('2001:db8::1', '2001:db8::2'), my: ts('2001:db8::1/128'), peer: ts('fd00:2::/64') });
    expect(v6host.PLUTO_VERB).toBe('up-host-v6');
    expect(v6host.PLUTO_MY_CLIENT).toBe('2001:db8::1/128');
  });

  it('ports: a single port, a range as from:to, ICMP type and code; the protocol number', () => {
    const base = { up: true, child: child(), sa: sa('192.0.2.1', '198.51.100.1'), reqid: 3, iface: 'cyg0' };
    const tcp = plutoEnv({ ...base, my: ts('10.1.0.0/16[tcp/443]'), peer: ts('10.2.0.0/16[tcp/1024-2047]') });
    expect([tcp.PLUTO_MY_PORT, tcp.PLUTO_MY_PROTOCOL, tcp.PLUTO_PEER_PORT, tcp.PLUTO_PEER_PROTOCOL]).toEqual(['443', '6', '1024:2047', '6']);
    // RFC 7296 3.13.1: ICMP type 8 (echo), code 0 in the port field as (type << 8) | code.
    const echo = { ...ts('10.1.0.0/16[icmp]'), startPort: 0x0800, endPort: 0x0800 };
    const icmp = plutoEnv({ ...base, my: echo, peer: ts('10.2.0.0/16[icmp]') });
    expect([icmp.PLUTO_MY_PORT, icmp.PLUTO_PEER_PORT]).toEqual(['8', '0']);
  });

  it('virtual IPs and DNS servers, PLUTO_UDP_ENC only for UDP-encapsulated ESP, nothing unset is invented', () => {
    const env = plutoEnv({ up: true, child: child(true), sa: sa('192.0.2.1', '198.51.100.1', true), reqid: 9, iface: 'unknown', my: ts('10.3.0.5/32'), peer: ts('0.0.0.0/0'), vips: ['10.3.0.5', 'fd00::5'], dns: ['10.0.0.53', 'fd00::53', '10.0.0.54'] });
    expect(env).toMatchObject({
      PLUTO_MY_SOURCEIP: '10.3.0.5',
      PLUTO_MY_SOURCEIP4_1: '10.3.0.5',
      PLUTO_MY_SOURCEIP6_1: 'fd00::5',
      PLUTO_DNS4_1: '10.0.0.53',
      PLUTO_DNS4_2: '10.0.0.54',
      PLUTO_DNS6_1: 'fd00::53',
      PLUTO_UDP_ENC: '4501',
      PLUTO_REQID: '9',
      PLUTO_UNIQUEID: '7',
      PLUTO_PEER_CLIENT: '0.0.0.0/0',
    });
    const plain = plutoEnv({ up: true, child: child(), sa: sa('192.0.2.1', '198.51.100.1'), reqid: 9, iface: 'unknown', my: ts('10.1.0.0/16'), peer: ts('10.2.0.0/16') });
    for (const k of ['PLUTO_UDP_ENC', 'PLUTO_MY_SOURCEIP', 'PLUTO_DNS4_1', 'PLUTO_XAUTH_ID']) expect(plain).not.toHaveProperty(k);
  });

  it('a range that is no subnet is approximated by the next larger subnet (charon to_subnet)', () => {
    expect(tsSubnet(ts('10.1.0.1-10.1.0.9'))).toBe('10.1.0.0/28');
    expect(tsSubnet(ts('10.1.0.0/24'))).toBe('10.1.0.0/24');
  });
});

describe('UpdownRunner', () => {
  const install = (id: number, localTs: string[], remoteTs: string[], name = 'net') =>
    ({ type: 'child-install', child: { ...child(), name, id, ikeSaId: 7, localTs: localTs.map(ts), remoteTs: remoteTs.map(ts) } }) as unknown as IkeEvent;
  const runner = (script: string, lines: string[], timeoutMs?: number) =>
    new UpdownRunner({
      logger: new Logger({ write: (l) => lines.push(l), levels: new Map([['any', 2]]) }),
      scriptOf: (conn, c) => (conn === 'gw' && c === 'net' ? script : undefined),
      ikeSa: (id) => (id === 7 ? sa('192.0.2.1', '198.51.100.1') : undefined),
      // CHILD SA 4's installation failed (no SA in the engine, so no reqid).
      reqidOf: (c) => (c.id === 4 ? undefined : 5),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });

  it('runs once per local/remote selector pair, in order, with PATH and PLUTO_* only (not the daemon environment)', async () => {
    const lines: string[] = [];
    process.env.CYGNET_UPDOWN_TEST_SECRET = 'leak';
    try {
      const r = runner('s=clean; p=; [ -n "$CYGNET_UPDOWN_TEST_SECRET" ] && s=leak; [ -n "$PATH" ] && p=path; echo "$PLUTO_VERB $PLUTO_MY_CLIENT $PLUTO_PEER_CLIENT $s $p"', lines);
      r.onEvent(install(1, ['10.1.0.0/16', '10.9.0.0/16'], ['10.2.0.0/16']));
      expect(r.running).toBe(2);
      await r.idle();
      expect(r.running).toBe(0);
    } finally {
      delete process.env.CYGNET_UPDOWN_TEST_SECRET;
    }
    const out = lines.filter((l) => l.includes('updown: ')).map((l) => l.slice(l.indexOf('updown: ') + 8));
    expect(out).toEqual(['up-client 10.1.0.0/16 10.2.0.0/16 clean path', 'up-client 10.9.0.0/16 10.2.0.0/16 clean path']);
  });

  it('a script that outlives its timeout is killed and logged; a child without updown or not installed runs nothing', async () => {
    const lines: string[] = [];
    const r = runner('sleep 5', lines, 200);
    r.onEvent(install(2, ['10.1.0.0/16'], ['10.2.0.0/16'], 'other'));
    r.onEvent(install(4, ['10.1.0.0/16'], ['10.2.0.0/16']));
    expect(r.running).toBe(0);
    r.onEvent(install(3, ['10.1.0.0/16'], ['10.2.0.0/16']));
    await r.idle();
    expect(lines.join('\n')).toContain("updown script 'sleep 5' (up-client net{5}) failed (killed by SIGTERM after 200 ms)");
    // The removal of a CHILD SA it never ran for does nothing; of the one it ran for, down-client.
    r.onEvent({ type: 'child-remove', child: { id: 2 }, reason: 'deleted' } as unknown as IkeEvent);
    expect(r.running).toBe(0);
    r.onEvent({ type: 'child-remove', child: { ...child(), id: 3, ikeSaId: 7, localTs: [ts('10.1.0.0/16')], remoteTs: [ts('10.2.0.0/16')] }, reason: 'deleted' } as unknown as IkeEvent);
    expect(r.running).toBe(1);
    await r.idle();
    expect(lines.join('\n')).toContain("updown script 'sleep 5' (down-client net{5}) failed");
  });
});

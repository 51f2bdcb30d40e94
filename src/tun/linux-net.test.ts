import { describe, expect, it } from 'vitest';
import { addAddress, addRoute, LinuxNetConfig, normalizePrefix, removeRoute, setMtu, type IpRunner } from './linux-net.js';
import { TunError } from './types.js';
import { innerMtuFor } from '../net/esp-mtu.js';

function recorder(fail?: (args: readonly string[]) => boolean) {
  const calls: string[] = [];
  const run: IpRunner = async (args) => {
    calls.push(args.join(' '));
    if (fail?.(args)) throw new TunError('COMMAND_FAILED', `ip ${args.join(' ')}: Cannot find device`);
    return '';
  };
  return { calls, run };
}

describe('linux-net (ip command lines)', () => {
  it('builds the ip commands for addresses, routes and MTU', async () => {
    const { calls, run } = recorder();
    await addAddress('cyg0', '10.3.0.1/32', run);
    await addAddress('cyg0', '2001:DB8::0:1', run);
    await addRoute('10.2.0.0/16', 'cyg0', { src: '10.3.0.1', metric: 50, mtu: 1400 }, run);
    await removeRoute('fd00::/64', 'cyg0', { table: 220 }, run);
    await setMtu('cyg0', 1400, run);
    expect(calls).toEqual([
      '-4 addr replace 10.3.0.1/32 dev cyg0',
      '-6 addr replace 2001:db8::1/128 dev cyg0',
      '-4 route replace 10.2.0.0/16 dev cyg0 src 10.3.0.1 metric 50 mtu 1400',
      '-6 route del fd00::/64 dev cyg0 table 220',
      'link set dev cyg0 mtu 1400',
    ]);
  });

  it('rejects injection attempts and bad values before running anything', () => {
    const { calls, run } = recorder();
    expect(() => addAddress('cyg0', '10.0.0.1/24; reboot', run)).toThrow(/prefix length/);
    expect(() => addAddress('-all', '10.0.0.1/24', run)).toThrow(/interface name/);
    expect(() => addRoute('10.0.0.0/33', 'cyg0', {}, run)).toThrow(/0\.\.32/);
    expect(() => addRoute('example.com', 'cyg0', {}, run)).toThrow(TunError);
    expect(() => setMtu('cyg0', 20, run)).toThrow(/MTU 20/);
    expect(calls).toEqual([]);
    expect(normalizePrefix('10.1.2.3')).toEqual({ text: '10.1.2.3/32', version: 4, address: '10.1.2.3', prefix: 32 });
  });

  it('LinuxNetConfig removes what it installed, newest first, and reports removal errors', async () => {
    const { calls, run } = recorder((a) => a.includes('del') && a.includes('10.2.0.0/16'));
    const cfg = new LinuxNetConfig('cyg0', run);
    await cfg.addAddress('10.3.0.1/32');
    await cfg.addRoute('10.2.0.0/16');
    await cfg.addRoute('10.4.0.0/16');
    expect(cfg.installed).toEqual(['address 10.3.0.1/32', 'route 10.2.0.0/16', 'route 10.4.0.0/16']);
    calls.length = 0;
    const errors = await cfg.cleanup();
    expect(calls).toEqual(['-4 route del 10.4.0.0/16 dev cyg0', '-4 route del 10.2.0.0/16 dev cyg0', '-4 addr del 10.3.0.1/32 dev cyg0']);
    expect(errors).toHaveLength(1);
    expect(cfg.installed).toEqual([]);
  });
});

describe('innerMtuFor', () => {
  it('AES-GCM-16 over IPv4 in a 1500-byte path leaves 1438 bytes', () => {
    // 1500 - 20 IP - 8 UDP - 8 ESP - 8 IV - 16 ICV = 1440 (multiple of 4) - 2 trailer = 1438
    expect(innerMtuFor(1500, { outerVersion: 4, ivBytes: 8, icvBytes: 16, blockBytes: 1 })).toBe(1438);
  });
  it('AES-CBC + HMAC-SHA2-256-128 over IPv6 aligns to 16', () => {
    // 1500 - 40 - 8 - 8 - 16 IV - 16 ICV = 1412 -> 1408 - 2 = 1406
    expect(innerMtuFor(1500, { outerVersion: 6, ivBytes: 16, icvBytes: 16, blockBytes: 16 })).toBe(1406);
  });
});

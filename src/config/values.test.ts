import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIp, parseIp, parseIPv6Bytes, parseRange, parseSubnet } from './ip.js';
import { editDistance, suggest } from './suggest.js';
import {
  parseAddressSpec,
  parseBool,
  parseBytes,
  parseDurationMs,
  parseDurationSeconds,
  parsePackets,
  parseSecret,
  parseTrafficSelector,
  splitList,
  ValueProblem,
} from './values.js';

function problem(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ValueProblem);
    return (e as ValueProblem).expected;
  }
  throw new Error('expected a ValueProblem');
}

describe('durations (vici_config.c parse_time)', () => {
  it.each([
    ['30', 30],
    ['30s', 30],
    ['30 s', 30],
    ['10m', 600],
    ['1h', 3600],
    ['2d', 172800],
    ['1H', 3600],
    ['0', 0],
    ['0x10', 16],
    ['0x1d', 29], // hex digits are greedy, as strtoul reads them
    ['0x1h', 3600],
  ])('%s = %i s', (raw, s) => {
    expect(parseDurationSeconds(raw)).toBe(s);
    expect(parseDurationMs(raw)).toBe(s * 1000);
  });
  it.each(['', 's', '1.5h', '1w', '-1', '+1', '1 h x', 'soon', '99999999999'])('rejects %j', (raw) => {
    expect(problem(() => parseDurationSeconds(raw))).toMatch(/duration like 30s/);
  });
  it('refuses a leading zero instead of reading octal', () => {
    expect(problem(() => parseDurationSeconds('010'))).toMatch(/leading 0.*octal/);
  });
});

describe('byte and packet counts', () => {
  it.each([
    ['1000', 1000],
    ['1k', 1024],
    ['1 K', 1024],
    ['3m', 3 * 1024 ** 2],
    ['2g', 2 * 1024 ** 3],
    ['0x100', 256],
  ])('bytes %s', (raw, n) => {
    expect(parseBytes(raw)).toBe(n);
  });
  it('rejects other suffixes and huge values', () => {
    expect(problem(() => parseBytes('1t'))).toMatch(/byte count/);
    expect(problem(() => parseBytes('99999999999999999g'))).toMatch(/byte count/);
  });
  it('packets take no suffix (parse_uint64)', () => {
    expect(parsePackets('5000')).toBe(5000);
    expect(problem(() => parsePackets('5k'))).toMatch(/no suffix/);
  });
});

describe('booleans (parse_bool)', () => {
  it.each(['yes', 'true', 'enabled', '1', 'YES', ' Yes '])('%j is true', (raw) => expect(parseBool(raw)).toBe(true));
  it.each(['no', 'false', 'disabled', '0', 'No'])('%j is false', (raw) => expect(parseBool(raw)).toBe(false));
  it('rejects others', () => expect(problem(() => parseBool('y'))).toMatch(/yes or no/));
});

describe('lists', () => {
  it('split on commas, trim, drop empty items', () => {
    expect(splitList(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(splitList('')).toEqual([]);
  });
});

describe('IP addresses', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ])('%s -> %s', (raw, text) => {
    expect(parseIp(raw)!.text).toBe(text);
  });
  it.each(['1.2.3', '1.2.3.256', '1.2.3.4.5', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', 'g::1', '1:2:3:4:5:6:7::8', '1.2.3.4::'])(
    'rejects %s',
    (raw) => expect(parseIp(raw)).toBeUndefined(),
  );
  it('round-trips any IPv6 address through canonical text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        expect(parseIPv6Bytes(formatIp(b))).toEqual(b);
      }),
    );
  });
  it('subnets clear host bits; ranges need order and one family', () => {
    const s = parseSubnet('10.1.2.3/16')!;
    expect([s.network.text, s.first.text, s.last.text, s.prefix]).toEqual(['10.1.0.0', '10.1.0.0', '10.1.255.255', 16]);
    expect(parseSubnet('2001:db8::/32')!.last.text).toBe('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff');
    expect(parseSubnet('10.0.0.0/33')).toBeUndefined();
    expect(parseRange('10.0.0.9-10.0.0.1')).toBeUndefined();
    expect(parseRange('10.0.0.1-::1')).toBeUndefined();
  });
});

describe('address specs (local_addrs, remote_addrs)', () => {
  it.each([
    ['%any', 'any'],
    ['%ANY6', 'any'],
    ['192.0.2.1', 'ip'],
    ['192.0.2.0/24', 'subnet'],
    ['192.0.2.1-192.0.2.9', 'range'],
    ['vpn.example.org', 'fqdn'],
    ['host_1', 'fqdn'],
  ])('%s is %s', (raw, kind) => expect(parseAddressSpec(raw).kind).toBe(kind));
  it.each(['300.1.1.1', '1.2.3.4/40', 'a..b', '-host', 'bad host', '%all'])('rejects %s', (raw) => {
    expect(problem(() => parseAddressSpec(raw))).toMatch(/IP address, a CIDR subnet/);
  });
});

describe('traffic selectors', () => {
  it('parses the forms strongSwan accepts', () => {
    expect(parseTrafficSelector('dynamic[udp/1701]')).toMatchObject({ kind: 'dynamic', protocol: 17, fromPort: 1701, toPort: 1701 });
    expect(parseTrafficSelector('10.0.0.0/24[any/any]')).toMatchObject({ protocol: 0, fromPort: 0, toPort: 65535 });
    expect(parseTrafficSelector('fec0::/16[ipv6-icmp]')).toMatchObject({ family: 6, protocol: 58 });
    expect(parseTrafficSelector('10.0.0.5')).toMatchObject({ kind: 'subnet', prefix: 32 });
    expect(parseTrafficSelector('0.0.0.0/0[132/https]')).toMatchObject({ protocol: 132, fromPort: 443 });
  });
  it.each(['10.0.0.0/24[tcp', '10.0.0.0/24[tcp/80-70]', '10.0.0.0/24[256]', 'dynamic[tcp/nosuchservice]', 'somewhere'])('rejects %s', (raw) => {
    expect(problem(() => parseTrafficSelector(raw))).toMatch(/traffic selector/);
  });
});

describe('netmasks', () => {
  it('say which prefix length to write instead', () => {
    expect(problem(() => parseTrafficSelector('192.168.0.0/255.255.255.0'))).toBe(
      'a netmask is not accepted, write the prefix length: 192.168.0.0/24',
    );
    expect(problem(() => parseAddressSpec('10.0.0.0/255.0.0.0'))).toMatch(/10\.0\.0\.0\/8/);
    expect(problem(() => parseTrafficSelector('10.0.0.0/255.0.255.0'))).toMatch(/not even contiguous/);
  });
});

describe('secrets', () => {
  it('decode text, 0x hex (with : separators) and 0s base64', () => {
    expect(new TextDecoder().decode(parseSecret('pa ss'))).toBe('pa ss');
    expect(Array.from(parseSecret('0xDEad:bE:ef'))).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(Array.from(parseSecret('0s3q2+7w=='))).toEqual([0xde, 0xad, 0xbe, 0xef]);
    // swanctl does not split secrets on commas (unlike IPFire's GUI, seed 000)
    expect(new TextDecoder().decode(parseSecret('a,b'))).toBe('a,b');
  });
  it.each(['0x', '0x123', '0xzz', '0s', '0s!!', '0sabc', ''])('rejects %j', (raw) => {
    expect(problem(() => parseSecret(raw))).toMatch(/secret/);
  });
});

describe('suggestions', () => {
  it('edit distance counts swaps as one', () => {
    expect(editDistance('rekey_tiem', 'rekey_time')).toBe(1);
    expect(editDistance('abc', 'abc')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
  });
  it('suggests only close names', () => {
    expect(suggest('remote_adrs', ['remote_addrs', 'local_addrs'])).toBe('remote_addrs');
    expect(suggest('Mobike', ['mobike'])).toBe('mobike');
    expect(suggest('xyz', ['mobike', 'encap'])).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { formatIp, parseIp, parseIpv4, parseIpv6, parseIpv6Strict } from './ip-address.js';

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : undefined);

describe('ip-address: the one IP text helper', () => {
  it('parses dotted quads and rejects shorthand (RFC 791 notation)', () => {
    expect(hex(parseIpv4('192.0.2.1'))).toBe('c0000201');
    expect(parseIpv4('10.1')).toBeUndefined();
    expect(parseIpv4('256.0.0.1')).toBeUndefined();
    expect(parseIpv4('+1.2.3.4')).toBeUndefined();
  });

  it('parses the RFC 4291 2.2 forms strictly: one ::, dotted quad only at the end', () => {
    expect(hex(parseIpv6Strict('2001:db8::1'))).toBe('20010db8000000000000000000000001');
    expect(hex(parseIpv6Strict('::ffff:192.0.2.1'))).toBe('00000000000000000000ffffc0000201');
    expect(parseIpv6Strict('1::2::3')).toBeUndefined();
    expect(parseIpv6Strict('1.2.3.4::')).toBeUndefined();
    expect(parseIpv6Strict('1:2:3:4:5:6:7:8::')).toBeUndefined();
    expect(parseIpv6Strict('[2001:db8::1]')).toBeUndefined();
    expect(parseIpv6Strict('fe80::1%eth0')).toBeUndefined();
  });

  it('accepts brackets and a zone id where addresses come from peers and kernels', () => {
    expect(hex(parseIpv6('[2001:db8::1]'))).toBe(hex(parseIpv6Strict('2001:db8::1')));
    expect(hex(parseIpv6('fe80::1%eth0'))).toBe('fe800000000000000000000000000001');
    expect(hex(parseIp('fe80::1%eth0'))).toBe('fe800000000000000000000000000001');
  });

  it('formats per RFC 5952 (longest zero run, first on a tie, lower case)', () => {
    expect(formatIp(parseIp('2001:DB8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
    expect(formatIp(parseIp('2001:db8:0:1:1:1:1:1')!)).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIp(parseIp('::')!)).toBe('::');
    expect(formatIp(parseIp('10.0.0.1')!)).toBe('10.0.0.1');
    expect(formatIp(new Uint8Array(5))).toBe('<5-byte address>');
  });
});

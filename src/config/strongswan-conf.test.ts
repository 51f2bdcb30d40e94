import { describe, expect, it } from 'vitest';
import { parseStrongswanConf } from './strongswan-conf.js';
import { ConfigError } from './errors.js';

describe('strongswan.conf charon settings', () => {
  it('maps the keys strongSwan documents', () => {
    const g = parseStrongswanConf(`
charon {
  retransmit_timeout = 1.5
  retransmit_base = 1.4
  retransmit_tries = 3
  retransmit_jitter = 20
  retransmit_limit = 30
  make_before_break = no
  fragment_size = 576
  cookie_threshold = 10
  block_threshold = 2
  keep_alive = 10s
  half_open_timeout = 15
  load = random nonce aes          # plugins: not cygnet's business
  filelog { stderr { default = 1 } }
}`);
    expect(g.endpoint.retransmit).toEqual({ timeoutMs: 1500, base: 1.4, tries: 3, jitterPercent: 20, limitMs: 30_000 });
    expect(g.endpoint.makeBeforeBreak).toBe(false);
    expect(g.fragmentSize).toBe(576);
    expect(g.endpoint).toMatchObject({ cookieThreshold: 10, blockThreshold: 2, keepaliveMs: 10_000, halfOpenTimeoutMs: 15_000 });
    expect(g.ignored.map((i) => `${i.key}:${i.loc.line}`)).toEqual(['charon.load:14']);
  });
  it('reads the DoS limits (src/ike/limits.ts), 0 meaning off as in strongSwan', () => {
    const g = parseStrongswanConf(`
charon {
  cookie_threshold = 40
  cookie_threshold_ip = 4
  block_threshold = 9
  init_limit_half_open = 1000
  ikesa_limit = 5000
  half_open_timeout = 20
  max_packet = 20000
}`);
    expect(g.endpoint).toMatchObject({ cookieThreshold: 40, cookieThresholdIp: 4, blockThreshold: 9, initLimitHalfOpen: 1000, ikesaLimit: 5000, halfOpenTimeoutMs: 20_000 });
    expect(g.endpoint.reassembly?.maxBytes).toBe(20_000);
    expect(g.ignored).toEqual([]);
    const off = parseStrongswanConf('charon {\n cookie_threshold = 0\n cookie_threshold_ip = 0\n block_threshold = 0\n init_limit_half_open = 0\n ikesa_limit = 0\n}');
    expect(off.endpoint).toEqual({ cookieThreshold: 0, cookieThresholdIp: 0, blockThreshold: 0, initLimitHalfOpen: 0, ikesaLimit: 0 });
  });
  it('dos_protection = no turns cookies and the per-IP block off, whatever the thresholds say', () => {
    const g = parseStrongswanConf('charon {\n dos_protection = no\n cookie_threshold = 10\n block_threshold = 2\n}');
    expect(g.endpoint).toMatchObject({ cookieThreshold: 0, cookieThresholdIp: 0, blockThreshold: 0 });
    expect(parseStrongswanConf('charon {\n dos_protection = yes\n cookie_threshold = 10\n}').endpoint).toEqual({ cookieThreshold: 10 });
  });
  it('reads reuse_ikesa (strongSwan default yes: absent means unset)', () => {
    expect(parseStrongswanConf('charon {\n reuse_ikesa = no\n}').reuseIkeSa).toBe(false);
    expect(parseStrongswanConf('charon {\n reuse_ikesa = yes\n}').reuseIkeSa).toBe(true);
    expect(parseStrongswanConf('charon {\n}').reuseIkeSa).toBeUndefined();
    expect(() => parseStrongswanConf('charon {\n reuse_ikesa = sometimes\n}')).toThrow(/charon.reuse_ikesa: .*yes or no/);
  });
  it('leaves everything at the defaults without a charon section', () => {
    expect(parseStrongswanConf('libstrongswan { }')).toEqual({ endpoint: {}, ignored: [] });
  });
  it.each([
    ['retransmit_timeout = soon', /charon.retransmit_timeout: expected a number of seconds like 4.0, got 'soon'/],
    ['retransmit_base = 0.5', /expected a number >= 1/],
    ['retransmit_tries = -1', /expected a whole number/],
    ['fragment_size = 70000', /up to 65535/],
    ['make_before_break = perhaps', /charon.make_before_break: .*yes or no/],
    ['cookie_threshold = -1', /charon.cookie_threshold: expected a whole number/],
    ['ikesa_limit = many', /charon.ikesa_limit: expected a whole number/],
    ['init_limit_half_open = 1.5', /charon.init_limit_half_open: expected a whole number/],
    ['cookie_threshold_ip = x', /charon.cookie_threshold_ip: expected a whole number/],
    ['max_packet = 70000', /charon.max_packet: .*up to 65535/],
    ['dos_protection = maybe', /charon.dos_protection: .*yes or no/],
  ])('rejects %s with file:line', (line, re) => {
    let err: unknown;
    try {
      parseStrongswanConf(`charon {\n  ${line}\n}`, 'ss.conf');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toMatch(/ss\.conf:2/);
    expect(String((err as Error).message)).toMatch(re);
  });
});

describe('strongswan.conf read as charon reads it', () => {
  it('several settings on one line are an error naming the fix', () => {
    expect(() => parseStrongswanConf('charon {\n  retransmit_tries = 3  retransmit_timeout = 2\n}\n')).toThrow(
      /strongswan.conf:2: 'retransmit_timeout =' on the same line as 'retransmit_tries =': write one `key = value` per line/,
    );
  });
});

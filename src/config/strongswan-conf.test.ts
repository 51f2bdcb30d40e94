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
  it('leaves everything at the defaults without a charon section', () => {
    expect(parseStrongswanConf('libstrongswan { }')).toEqual({ endpoint: {}, ignored: [] });
  });
  it.each([
    ['retransmit_timeout = soon', /charon.retransmit_timeout: expected a number of seconds like 4.0, got 'soon'/],
    ['retransmit_base = 0.5', /expected a number >= 1/],
    ['retransmit_tries = -1', /expected a whole number/],
    ['fragment_size = 70000', /up to 65535/],
    ['make_before_break = perhaps', /charon.make_before_break: .*yes or no/],
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

import { describe, expect, it } from 'vitest';
import { buildSwanctlConfig, parseSwanctlConfig } from './build.js';
import { settingsFromObject } from './parser.js';
import { ConfigError } from './errors.js';
import { CYGNET_REPLAY_WINDOW, type ChildConfig, type ConnectionConfig } from './schema.js';

/** A connection `c` with the given lines; the first body line is line 3. */
function connText(body: string[], child: string[] = []): string {
  return ['connections {', '  c {', ...body.map((l) => `    ${l}`), '    children {', '      ch {', ...child.map((l) => `        ${l}`), '      }', '    }', '  }', '}', ''].join('\n');
}

function conn(body: string[], child: string[] = []): ConnectionConfig {
  return parseSwanctlConfig(connText(body, child), 'swanctl.conf').config.connections.get('c')!;
}

function childOf(child: string[], body: string[] = ['remote_addrs = 192.0.2.1']): ChildConfig {
  return conn(body, child).children.get('ch')!;
}

function fails(text: string): ConfigError {
  try {
    parseSwanctlConfig(text, 'swanctl.conf');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const H = 3600_000;

describe('connection defaults (swanctl.conf(5))', () => {
  const c = conn([]);
  it.each([
    ['version', 0],
    ['local_addrs', [{ kind: 'any' }]],
    ['remote_addrs', [{ kind: 'any' }]],
    ['local_port', 500],
    ['remote_port', 500],
    ['proposals', ['default']],
    ['vips', []],
    ['pools', []],
    ['dpd_delay', 0],
    ['dpd_timeout', 0],
    ['encap', true], // cygnet's default (CYGNET_ENCAP); strongSwan's is no
    ['mobike', true],
    ['fragmentation', 'yes'],
    ['keyingtries', 1],
    ['unique', 'no'],
    ['reauth_time', 0],
    ['rekey_time', 4 * H],
    ['over_time', 0.4 * H], // 10% of rekey_time
    ['rand_time', 0.4 * H], // over_time
    ['send_cert', 'ifasked'],
    ['send_certreq', true],
    ['aggressive', false],
    ['pull', true],
    ['childless', 'allow'],
  ] as const)('%s', (key, value) => {
    expect((c as unknown as Record<string, unknown>)[key]).toEqual(value);
  });
  it('has one default local and remote round: pubkey, remote id %any', () => {
    expect(c.local).toHaveLength(1);
    expect(c.local[0]!.auth.class).toBe('pubkey');
    expect(c.local[0]!.id).toBeUndefined();
    expect(c.remote[0]!.id).toBe('%any');
  });
});

describe('child defaults', () => {
  const ch = childOf([]);
  it.each([
    ['esp_proposals', ['default']],
    ['mode', 'tunnel'],
    ['start_action', 'none'],
    ['dpd_action', 'clear'],
    ['close_action', 'none'],
    ['rekey_time', H],
    ['life_time', 3_960_000], // rekey_time + 10%
    ['rand_time', 360_000], // life_time - rekey_time
    ['rekey_bytes', 0],
    ['life_bytes', 0],
    ['rekey_packets', 0],
    ['life_packets', 0],
    ['replay_window', CYGNET_REPLAY_WINDOW],
    ['replay_window_set', false],
    ['copy_dscp', 'out'],
    ['policies', true],
  ] as const)('%s', (key, value) => {
    expect((ch as unknown as Record<string, unknown>)[key]).toEqual(value);
  });
  it('local_ts and remote_ts are dynamic', () => {
    expect(ch.local_ts).toEqual([{ kind: 'dynamic', protocol: 0, fromPort: 0, toPort: 65535, text: 'dynamic' }]);
    expect(ch.remote_ts[0]!.kind).toBe('dynamic');
  });
});

describe('connection keys: value parsed', () => {
  it.each([
    ['version = 2', 'version', 2],
    ['local_port = 4500', 'local_port', 4500],
    ['remote_port = 0x1194', 'remote_port', 0x1194],
    ['dpd_delay = 30s', 'dpd_delay', 30_000],
    ['dpd_delay = 2m', 'dpd_delay', 120_000],
    ['dpd_timeout = 150', 'dpd_timeout', 150_000],
    ['encap = no', 'encap', false],
    ['mobike = no', 'mobike', false],
    ['fragmentation = force', 'fragmentation', 'force'],
    ['fragmentation = accept', 'fragmentation', 'accept'],
    ['keyingtries = 0', 'keyingtries', 0],
    ['unique = replace', 'unique', 'replace'],
    ['unique = NEVER', 'unique', 'never'],
    ['unique = keep', 'unique', 'keep'],
    ['send_cert = always', 'send_cert', 'always'],
    ['send_certreq = false', 'send_certreq', false],
    ['pools = a, b', 'pools', ['a', 'b']],
    ['proposals = aes128-sha256-x25519, aes256gcm16-prfsha384-ecp384', 'proposals', ['aes128-sha256-x25519', 'aes256gcm16-prfsha384-ecp384']],
  ] as const)('%s', (line, key, value) => {
    const text = line.startsWith('pools') ? connText([line]) + 'pools { a { addrs = 10.0.0.0/24 }\n b { addrs = 10.0.1.0/24 } }\n' : connText([line]);
    const c = parseSwanctlConfig(text, 'swanctl.conf').config.connections.get('c')!;
    expect((c as unknown as Record<string, unknown>)[key]).toEqual(value);
  });

  it('local_addrs/remote_addrs take %any, addresses, subnets, ranges and DNS names', () => {
    const c = conn(['local_addrs = %any4, 192.0.2.1, 2001:db8::1', 'remote_addrs = 10.0.0.0/8, 10.1.0.1-10.1.0.9, vpn.example.org']);
    expect(c.local_addrs.map((a) => a.kind)).toEqual(['any', 'ip', 'ip']);
    expect(c.local_addrs[0]).toEqual({ kind: 'any', family: 4 });
    expect(c.local_addrs[2]).toMatchObject({ kind: 'ip', address: { family: 6, text: '2001:db8::1' } });
    expect(c.remote_addrs.map((a) => a.kind)).toEqual(['subnet', 'range', 'fqdn']);
    expect(c.remote_addrs[2]).toEqual({ kind: 'fqdn', name: 'vpn.example.org' });
  });

  it('vips are addresses, 0.0.0.0 and :: request any', () => {
    const c = conn(['vips = 0.0.0.0, ::']);
    expect(c.vips.map((v) => v.text)).toEqual(['0.0.0.0', '::']);
  });

  it('IKE lifetimes: rekey_time sets over_time and rand_time', () => {
    const c = conn(['rekey_time = 1h']);
    expect([c.rekey_time, c.over_time, c.rand_time, c.reauth_time]).toEqual([H, 360_000, 360_000, 0]);
  });

  it('IKE lifetimes: reauth_time alone disables rekeying (vici_config.c)', () => {
    const c = conn(['reauth_time = 2h']);
    expect([c.rekey_time, c.reauth_time, c.over_time]).toEqual([0, 2 * H, 720_000]);
  });

  it('IKE lifetimes: rand_time is at most half the rekey time and explicit values win', () => {
    const c = conn(['rekey_time = 60s', 'over_time = 50s']);
    expect(c.rand_time).toBe(30_000);
    const d = conn(['rekey_time = 60s', 'over_time = 50s', 'rand_time = 5s']);
    expect(d.rand_time).toBe(5_000);
  });

  it('auth rounds: local/remote with suffixes, ids, certs, cacerts', () => {
    const c = parseSwanctlConfig(
      [
        'connections { c {',
        '  remote-1 { auth = pubkey\n id = @peer.example\n round = 1\n cacerts = ca.pem, ca2.pem }',
        '  local { auth = pubkey-sha384-sha256\n certs = me.pem\n id = "C=CH, O=strongSwan, CN=moon" }',
        '} }',
      ].join('\n'),
      'swanctl.conf',
    ).config.connections.get('c')!;
    expect(c.remote.map((r) => [r.section, r.round])).toEqual([['remote-1', 1]]);
    expect(c.remote[0]!.auth).toEqual({ class: 'pubkey', text: 'pubkey' });
    expect(c.remote[0]!.id).toBe('@peer.example');
    expect(c.remote[0]!.cacerts).toEqual(['ca.pem', 'ca2.pem']);
    expect(c.local[0]!.auth).toEqual({ class: 'pubkey', text: 'pubkey-sha384-sha256' });
    expect(c.local[0]!.certs).toEqual(['me.pem']);
    expect(c.local[0]!.id).toBe('C=CH, O=strongSwan, CN=moon');
  });

  it('orders rounds by round: the second round (RFC 4739) must be EAP, a third is refused', () => {
    const e = fails('connections { c {\n remote-2 { round = 2 }\n remote-1 { round = 1 }\n} }');
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/connections\.c\.remote-2: cygnet runs a second authentication round \(RFC 4739\) only as EAP/);
    const t = fails('connections { c {\n remote-1 { auth = pubkey }\n remote-2 { auth = eap-mschapv2 }\n remote-3 { auth = eap-md5 }\n} }');
    expect(t.line).toBe(4);
    expect(t.message).toMatch(/at most two authentication rounds/);
  });
});

describe('child keys: value parsed', () => {
  it('traffic selectors with protocol and ports, ranges and IPv6', () => {
    const ch = childOf(['local_ts = 10.0.0.1/24[tcp/80], 10.0.1.5-10.0.1.9[udp/domain]', 'remote_ts = ::/0, 0.0.0.0/0[icmp], 10.9.0.0/16[6/1024-2047], 10.8.0.0/16[/443], 10.7.0.0/16[tcp/opaque]']);
    expect(ch.local_ts[0]).toMatchObject({ kind: 'subnet', family: 4, prefix: 24, protocol: 6, fromPort: 80, toPort: 80 });
    expect(ch.local_ts[0]!.first!.text).toBe('10.0.0.0');
    expect(ch.local_ts[0]!.last!.text).toBe('10.0.0.255');
    expect(ch.local_ts[1]).toMatchObject({ kind: 'range', protocol: 17, fromPort: 53, toPort: 53 });
    expect(ch.remote_ts[0]).toMatchObject({ kind: 'subnet', family: 6, prefix: 0 });
    expect(ch.remote_ts[1]).toMatchObject({ protocol: 1, fromPort: 0, toPort: 65535 });
    expect(ch.remote_ts[2]).toMatchObject({ protocol: 6, fromPort: 1024, toPort: 2047 });
    expect(ch.remote_ts[3]).toMatchObject({ protocol: 0, fromPort: 443, toPort: 443 });
    expect(ch.remote_ts[4]).toMatchObject({ protocol: 6, fromPort: 65535, toPort: 0 });
  });

  it.each([
    ['esp_proposals = aes128gcm16-x25519, aes256-sha256', 'esp_proposals', ['aes128gcm16-x25519', 'aes256-sha256']],
    ['mode = tunnel', 'mode', 'tunnel'],
    ['start_action = trap', 'start_action', 'trap'],
    ['start_action = route', 'start_action', 'trap'],
    ['start_action = start', 'start_action', 'start'],
    ['start_action = trap|start', 'start_action', 'trap|start'],
    ['dpd_action = restart', 'dpd_action', 'restart'],
    ['dpd_action = trap', 'dpd_action', 'trap'],
    ['close_action = start', 'close_action', 'start'],
    ['close_action = trap', 'close_action', 'trap'],
    ['rekey_bytes = 512k', 'rekey_bytes', 512 * 1024],
    ['rekey_bytes = 2G', 'rekey_bytes', 2 * 1024 ** 3],
    ['rekey_packets = 1000000', 'rekey_packets', 1_000_000],
    ['replay_window = 64', 'replay_window', 64],
    ['replay_window = 0', 'replay_window', 0],
    ['copy_dscp = yes', 'copy_dscp', 'yes'],
    ['updown = /usr/lib/ipsec/_updown iptables', 'updown', '/usr/lib/ipsec/_updown iptables'],
    ['inactivity = 15m', 'inactivity', 900_000],
  ] as const)('%s', (line, key, value) => {
    expect((childOf([line]) as unknown as Record<string, unknown>)[key]).toEqual(value);
  });

  it('child lifetimes as strongSwan 5.9.8 computes them (checked against its swanctl --list-conns)', () => {
    expect(childOf(['rekey_time = 20m'])).toMatchObject({ rekey_time: 1_200_000, life_time: 1_320_000, rand_time: 120_000 });
    // the soft limit keeps its 1h default; the jitter is whatever lies between
    expect(childOf(['life_time = 110m'])).toMatchObject({ rekey_time: 3_600_000, life_time: 6_600_000, rand_time: 3_000_000 });
    expect(childOf(['rekey_time = 1h', 'rand_time = 1m'])).toMatchObject({ life_time: 3_960_000, rand_time: 60_000 });
  });

  it('byte and packet lifetimes follow the same rule, in integers', () => {
    expect(childOf(['rekey_bytes = 1000'])).toMatchObject({ rekey_bytes: 1000, life_bytes: 1100, rand_bytes: 100 });
    expect(childOf(['rekey_packets = 999'])).toMatchObject({ rekey_packets: 999, life_packets: 1098, rand_packets: 99 });
    expect(childOf(['life_packets = 1100'])).toMatchObject({ rekey_packets: 0, life_packets: 1100, rand_packets: 1100 });
  });

  it('replay_window_set tells whether strongSwan would have used 32', () => {
    expect(childOf(['replay_window = 32']).replay_window_set).toBe(true);
  });
});

describe('invalid values are ConfigErrors at file:line naming the expected form', () => {
  it.each([
    ['version = 3', /connections\.c\.version: invalid value '3': expected 0 \(any\), 1 \(IKEv1\) or 2/],
    ['local_addrs = 300.1.1.1', /local_addrs: invalid value '300.1.1.1': expected an IP address, a CIDR subnet/],
    ['remote_addrs = 10.0.0.0/33', /remote_addrs: invalid value/],
    ['local_port = 70000', /local_port: .*expected a UDP port number/],
    ['remote_port = -1', /remote_port: invalid value/],
    ['proposals = aes128--sha256', /proposals: .*dash-separated/],
    ['vips = 10.0.0', /vips: .*expected an IP address/],
    ['dpd_delay = soon', /dpd_delay: invalid value 'soon': expected a duration like 30s/],
    ['dpd_timeout = 5w', /dpd_timeout: .*expected a duration/],
    ['encap = maybe', /encap: invalid value 'maybe': expected yes or no/],
    ['mobike = 2', /mobike: .*expected yes or no/],
    ['fragmentation = sometimes', /fragmentation: .*expected one of yes, accept, no, force/],
    ['keyingtries = many', /keyingtries: .*expected a number of tries/],
    ['unique = always', /unique: .*expected one of no, never, keep, replace/],
    ['reauth_time = 1y', /reauth_time: .*expected a duration/],
    ['rekey_time = 010m', /rekey_time: .*leading 0/],
    ['over_time = -5', /over_time: .*expected a duration/],
    ['rand_time = 1.5h', /rand_time: .*expected a duration/],
    ['send_cert = sometimes', /send_cert: .*expected one of ifasked, always, never/],
    ['send_certreq = 2', /send_certreq: .*expected yes or no/],
  ])('%s', (line, re) => {
    const e = fails(connText([line]));
    expect(e.code).toBe('INVALID_VALUE');
    expect(e.file).toBe('swanctl.conf');
    expect(e.line).toBe(3);
    expect(e.message).toMatch(/^swanctl\.conf:3: /);
    expect(e.message).toMatch(re);
  });

  it.each([
    ['local_ts = 10.0.0.0/24[tcp/99999]', /local_ts: .*expected a traffic selector/],
    ['remote_ts = 10.0.0.300/24', /remote_ts: .*expected a traffic selector/],
    ['remote_ts = 10.0.0.9-10.0.0.1', /remote_ts: .*expected a traffic selector/],
    ['remote_ts = 10.0.0.0/24[bogus]', /remote_ts: .*protocol/],
    ['esp_proposals = aes256 sha256', /esp_proposals: .*dash-separated/],
    ['mode = tunnelx', /mode: .*expected one of tunnel, transport/],
    ['start_action = go', /start_action: .*expected none, trap or start/],
    ['dpd_action = explode', /dpd_action: .*expected clear, trap or restart/],
    ['dpd_action = hold', /dpd_action: .*'hold' is ipsec.conf's word, swanctl.conf calls it trap/],
    ['close_action = hold', /close_action: .*calls it trap/],
    ['close_action = x', /close_action: .*expected none, trap or start/],
    ['rekey_time = 1 hour', /rekey_time: .*expected a duration/],
    ['life_time = h', /life_time: .*expected a duration/],
    ['rand_time = 1..', /rand_time: .*expected a duration/],
    ['rekey_bytes = 10t', /rekey_bytes: .*expected a byte count like/],
    ['life_bytes = lots', /life_bytes: .*expected a byte count/],
    ['rekey_packets = 10k', /rekey_packets: .*expected a packet count \(a plain number, no suffix\)/],
    ['life_packets = x', /life_packets: .*packet count/],
    ['replay_window = -1', /replay_window: .*expected a window size/],
    ['copy_dscp = maybe', /copy_dscp: .*one of out, in, yes, no/],
  ])('%s', (line, re) => {
    const e = fails(connText([], [line]));
    expect(e.code).toBe('INVALID_VALUE');
    expect(e.line).toBe(5);
    expect(e.message).toMatch(re);
  });

  it('identities are checked with the IKE parser', () => {
    const e = fails('connections { c {\n remote {\n  id = "@#12345"\n } } }');
    expect(e.line).toBe(3);
    expect(e.message).toMatch(/remote\.id: invalid value '@#12345': KEY_ID/);
    expect(fails('connections { c { remote {\n id = @#1234\n } } }').message).toMatch(/'#' starts a comment, so write a key id in quotes/);
    expect(fails('secrets { ike { id = "C=CH, XX" \n secret = x } }').message).toMatch(/secrets\.ike\.id: invalid value/);
  });

  it('auth and id in rounds', () => {
    const e = fails('connections { c {\n local {\n  auth = password\n } } }');
    expect(e.line).toBe(3);
    expect(e.message).toMatch(/connections\.c\.local\.auth: invalid value 'password': expected pubkey .*psk/);
    expect(fails('connections { c { remote { id = "" } } }').message).toMatch(/remote\.id: invalid value '': expected an identity/);
  });

  it('lists every error of a file in one ConfigError, in file order, with the warnings found', () => {
    const e = fails(connText(['dpd_delay = soon', 'encap = maybe', 'if_id_in = 42'], ['mode = tunnelx']));
    expect(e.warnings.map((w) => w.path)).toEqual(['connections.c.if_id_in']);
    expect(e.code).toBe('MULTIPLE');
    expect(e.errors.map((x) => x.line)).toEqual([3, 4, 8]);
    expect(e.message).toMatch(/^swanctl\.conf: 3 errors:\n {2}swanctl\.conf:3: .*dpd_delay.*\n {2}swanctl\.conf:4: .*encap/);
  });
});

describe('what cygnet refuses (nothing starts half-configured)', () => {
  it.each([
    [connText(['version = 1']), /version = '1': cygnet speaks IKEv2 only/],
    [connText([], ['mode = transport']), /mode = 'transport': cygnet supports tunnel mode only/],
    [connText([], ['ah_proposals = sha256']), /AH is not implemented/],
    ['connections { c { remote { auth = eap-ttls } } }', /EAP method 'ttls'.* eap-mschapv2, eap-tls/],
    ['connections { c { local { auth = xauth } } }', /XAuth/],
    ['connections { c { remote-1 { auth = pubkey }\n remote-2 { auth = psk } } }', /second authentication round \(RFC 4739\) only as EAP/],
  ])('%#', (text, re) => {
    const e = fails(text);
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(re);
  });

  it('a start or trap action needs a specific remote address', () => {
    const e = fails(connText(['remote_addrs = 10.0.0.0/8'], ['start_action = start']));
    expect(e.code).toBe('INCONSISTENT');
    expect(e.line).toBe(6);
    expect(e.message).toMatch(/initiating needs remote_addrs with a specific address or DNS name/);
    expect(() => parseSwanctlConfig(connText(['remote_addrs = gw.example.org'], ['start_action = trap']))).not.toThrow();
  });

  it('pools referenced must exist and pools must not overlap', () => {
    const e1 = fails(connText(['pools = rw-pol']) + 'pools { rw-pool { addrs = 10.3.0.0/24 } }');
    expect(e1.message).toMatch(/pool 'rw-pol' is not defined in pools \{ \}; did you mean 'rw-pool'\?/);
    const e2 = fails('pools {\n a { addrs = 10.3.0.0/24 }\n b { addrs = 10.3.0.200-10.3.1.5 }\n}');
    expect(e2.line).toBe(3);
    expect(e2.message).toMatch(/pools\.b: addrs 10.3.0.200-10.3.1.5 overlaps pools\.a/);
  });
});

describe('unknown and unimplemented keys are warnings with file:line', () => {
  it('warns about a key cygnet knows but does not implement', () => {
    const { warnings } = parseSwanctlConfig(connText(['if_id_in = 42']), 'swanctl.conf');
    expect(warnings.map((w) => w.message)).toEqual(['swanctl.conf:3: connections.c.if_id_in: accepted but not implemented']);
    expect(warnings[0]!.code).toBe('NOT_IMPLEMENTED');
  });

  it('dpd_timeout (IKEv1 only in strongSwan too) says what decides that an IKEv2 peer is dead', () => {
    const { config, warnings } = parseSwanctlConfig(connText(['dpd_delay = 10s', 'dpd_timeout = 30s']), 'swanctl.conf');
    expect(warnings.map((w) => w.message)).toEqual([
      "swanctl.conf:4: connections.c.dpd_timeout: accepted but not implemented (IKEv1 only, as in strongSwan: an IKEv2 peer is dead when the DPD request's retransmissions run out, set them with charon.retransmit_timeout/_base/_tries)",
    ]);
    expect(config.connections.get('c')!.dpd_delay).toBe(10_000);
  });

  it('is quiet when the value written is what cygnet does anyway', () => {
    expect(parseSwanctlConfig(connText(['aggressive = no']), 'swanctl.conf').warnings).toEqual([]);
    // MOBIKE is implemented (RFC 4555, src/ike/tasks/ike-mobike.ts): both values are quiet.
    expect(parseSwanctlConfig(connText(['mobike = yes']), 'swanctl.conf').warnings).toEqual([]);
    expect(parseSwanctlConfig(connText(['mobike = no']), 'swanctl.conf').warnings).toEqual([]);
  });

  it('refuses a key nobody knows, all of them at once, with file:line and the closest key', () => {
    const e = fails(connText(['remote_adrs = 1.2.3.4'], ['rekey_tiem = 1h']));
    expect(e.errors.map((x) => [x.code, x.line])).toEqual([['UNKNOWN_KEY', 3], ['UNKNOWN_KEY', 6]]);
    expect(e.errors[0]!.message).toBe("swanctl.conf:3: connections.c.remote_adrs: unknown key; did you mean 'remote_addrs'?");
    expect(e.errors[1]!.message).toMatch(/swanctl.conf:6: connections\.c\.children\.ch\.rekey_tiem: unknown key; did you mean 'rekey_time'\?/);
  });

  it('a strongSwan key cygnet does not implement only warns, with file:line', () => {
    const { warnings } = parseSwanctlConfig(connText(['if_id_in = 42']), 'swanctl.conf');
    expect(warnings.map((w) => [w.code, w.line, w.path])).toEqual([['NOT_IMPLEMENTED', 3, 'connections.c.if_id_in']]);
  });

  it('treats keys named like Object.prototype members as unknown', () => {
    const e = fails(connText(['constructor = 1', 'toString = 2', '__proto__ = 3'], ['hasOwnProperty = 4']) + 'pools { p { addrs = 10.0.0.0/24\n constructor = x } }');
    expect(e.errors.map((w) => w.code)).toEqual(['UNKNOWN_KEY', 'UNKNOWN_KEY', 'UNKNOWN_KEY', 'UNKNOWN_KEY', 'UNKNOWN_KEY']);
    expect(() => parseSwanctlConfig(connText([], ['local_ts = 10.0.0.0/8[constructor/toString]']))).toThrow(/protocol/);
  });

  it('warns about suspicious but legal settings', () => {
    const w1 = parseSwanctlConfig(connText([], ['rekey_time = 2h', 'life_time = 1h'])).warnings;
    expect(w1.some((w) => w.code === 'SUSPICIOUS' && /expires before it is rekeyed/.test(w.message))).toBe(true);
    const w2 = parseSwanctlConfig('connections { c { local { auth = psk } } }').warnings;
    expect(w2.some((w) => /no ike<suffix> section/.test(w.message))).toBe(true);
  });
});

describe('unknown sections are errors', () => {
  it.each([
    ['connectons { }', 1, /unknown section 'connectons'.*did you mean 'connections'/],
    ['connections { c { childen { } } }', 1, /connections\.c: unknown section 'childen'.*did you mean 'children'/],
    ['connections {\n c {\n children {\n x {\n  sub { }\n } } } }', 5, /children\.x: unknown section 'sub'/],
    ['secrets {\n psk-1 { secret = x }\n}', 2, /secrets: unknown section 'psk-1'/],
    ['connections { c { local { foo { } } } }', 1, /local: unknown section 'foo'/],
  ])('%s', (text, line, re) => {
    const e = fails(text);
    expect(e.code).toBe('UNKNOWN_SECTION');
    expect(e.line).toBe(line);
    expect(e.message).toMatch(re);
  });
});

describe('secrets', () => {
  it('ike sections with several ids and text, hex and base64 secrets', () => {
    const { config } = parseSwanctlConfig(
      [
        'secrets {',
        '  ike-1 { id-a = moon.example\n id-b = sun.example\n secret = "my secret" }',
        '  ike-hex { id = 10.0.0.1\n secret = 0x0102:03ff }',
        '  ikeb64 { secret = 0sAQID }',
        '  eap-carol { id = carol\n secret = pw }',
        '  xauth { id = dave\n secret = pw2 }',
        '  private-1 { file = key.pem\n secret = pass }',
        '  pkcs12 { file = a.p12\n secret = p12pass }',
        '}',
      ].join('\n'),
    );
    const ike = config.secrets.ike;
    expect(ike.map((s) => s.section)).toEqual(['ike-1', 'ike-hex', 'ikeb64']);
    expect(ike[0]!.ids).toEqual(['moon.example', 'sun.example']);
    expect(new TextDecoder().decode(ike[0]!.secret)).toBe('my secret');
    expect(Array.from(ike[1]!.secret)).toEqual([1, 2, 3, 255]);
    expect(Array.from(ike[2]!.secret)).toEqual([1, 2, 3]);
    expect(ike[2]!.ids).toEqual([]);
    expect(config.secrets.eap.map((s) => s.ids[0])).toEqual(['carol', 'dave']);
    expect(config.secrets.keys).toEqual([
      expect.objectContaining({ type: 'private', file: 'key.pem', secret: 'pass' }),
      expect.objectContaining({ type: 'pkcs12', file: 'a.p12', secret: 'p12pass' }),
    ]);
  });

  it('rejects bad hex and base64 without echoing the secret', () => {
    const e = fails('secrets {\n ike { secret = 0xabc }\n ike2 { secret = 0s!!!! }\n}');
    expect(e.errors).toHaveLength(2);
    expect(e.errors[0]!.message).toMatch(/^swanctl\.conf:2: secrets\.ike\.secret: invalid value: expected a secret/);
    expect(e.message).not.toMatch(/abc|!!!!/);
  });

  it('requires a secret', () => {
    expect(fails('secrets { ike-x { id = a } }').message).toMatch(/secrets\.ike-x: missing secret/);
  });

  it('warns for secret types cygnet does not implement', () => {
    const { warnings } = parseSwanctlConfig('secrets { xauth-1 { id = a\n secret = b } }');
    expect(warnings.map((w) => w.message)).toEqual(['swanctl.conf:1: secrets.xauth-1: accepted but not implemented']);
  });
});

describe('pools', () => {
  it('addrs as subnet or range, dns and nbns, other attributes kept', () => {
    const { config, warnings } = parseSwanctlConfig(
      'pools {\n a { addrs = 10.3.0.0/24\n dns = 10.3.0.1, 2001:db8::53\n nbns = 10.3.0.2\n split_include = 10.0.0.0/8 }\n b { addrs = 10.4.0.10 - 10.4.0.20\n 25 = text } }',
    );
    const a = config.pools.get('a')!;
    expect([a.addrs.first.text, a.addrs.last.text, a.addrs.prefix]).toEqual(['10.3.0.0', '10.3.0.255', 24]);
    expect(a.dns.map((d) => d.text)).toEqual(['10.3.0.1', '2001:db8::53']);
    expect(a.nbns.map((d) => d.text)).toEqual(['10.3.0.2']);
    expect(a.attributes.get('split_include')).toEqual(['10.0.0.0/8']);
    const b = config.pools.get('b')!;
    expect([b.addrs.first.text, b.addrs.last.text]).toEqual(['10.4.0.10', '10.4.0.20']);
    expect(b.attributes.get('25')).toEqual(['text']);
    expect(warnings.map((w) => w.path)).toEqual(['pools.a.split_include', 'pools.b.25']);
  });

  it.each([
    ['pools { p { addrs = 10.3.0.0/40 } }', /pools\.p\.addrs: invalid value '10.3.0.0\/40': expected a CIDR subnet/],
    ['pools { p { dns = 8.8.8 } }', /missing addrs/],
    ['pools { p { addrs = 10.0.0.0/24\n dns = 8.8.8 } }', /pools\.p\.dns: invalid value '8.8.8': expected IP addresses/],
  ])('%s', (text, re) => {
    expect(fails(text).message).toMatch(re);
  });

  it('refuses an unknown attribute with a suggestion', () => {
    const e = fails('pools { p { addrs = 10.0.0.0/24\n dsn = 1.1.1.1 } }');
    expect(e).toMatchObject({ code: 'UNKNOWN_KEY', line: 2 });
    expect(e.message).toMatch(/did you mean 'dns'/);
  });
});

describe('proposal validation hook', () => {
  it('uses validateProposal when given', () => {
    const text = connText(['proposals = aes128-sha256-x25519, des-md5-modp768'], ['esp_proposals = aes128gcm16']);
    const validateProposal = (p: string, proto: 'ike' | 'esp') => (p.includes('des') ? `${proto}: des is not offered` : undefined);
    try {
      parseSwanctlConfig(text, 'swanctl.conf', undefined, { validateProposal });
      throw new Error('no error');
    } catch (e) {
      expect((e as ConfigError).message).toMatch(/swanctl\.conf:3: connections\.c\.proposals: .*'des-md5-modp768': ike: des is not offered/);
    }
  });

  it("checks against cygnet's algorithms by default, naming the keyword", () => {
    const e = fails(connText(['proposals = aes128-sha256-x25519x'], ['esp_proposals = aes256gcm16-prfsha256']));
    expect(e.errors).toHaveLength(2);
    expect(e.errors[0]!.message).toMatch(/^swanctl\.conf:3: connections\.c\.proposals: invalid value .*'aes128-sha256-x25519x': 'x25519x'.*did you mean 'x25519'/);
    expect(e.errors[1]!.message).toMatch(/^swanctl\.conf:6: connections\.c\.children\.ch\.esp_proposals: .*prfsha256/);
  });

  it('null turns the algorithm check off', () => {
    const c = parseSwanctlConfig(connText(['proposals = foo-bar']), 'swanctl.conf', undefined, { validateProposal: null }).config;
    expect(c.connections.get('c')!.proposals).toEqual(['foo-bar']);
  });
});

describe('configuration from an object (vici load-conn shape)', () => {
  it('goes through the same schema, lists as arrays', () => {
    const tree = settingsFromObject({
      connections: {
        gw: {
          remote_addrs: ['192.0.2.1', 'gw.example.org'],
          version: '2',
          local: { auth: 'psk', id: 'me' },
          remote: { auth: 'psk' },
          children: { net: { local_ts: ['10.0.0.0/24'], start_action: 'start' } },
        },
      },
    });
    const gw = buildSwanctlConfig(tree).config.connections.get('gw')!;
    expect(gw.remote_addrs.map((a) => a.kind)).toEqual(['ip', 'fqdn']);
    expect(gw.children.get('net')!.start_action).toBe('start');
  });
  it('names the source in errors', () => {
    expect(() => buildSwanctlConfig(settingsFromObject({ connections: { gw: { dpd_delay: 'x' } } }))).toThrow(
      /^vici: connections\.gw\.dpd_delay: invalid value 'x'/,
    );
  });
});

describe('structure around the known sections', () => {
  it('a top-level template section is fine when referenced (as strongSwan 5.9.8 loads it)', () => {
    const text = 'tpl {\n proposals = aes128-sha256-x25519\n local { auth = psk }\n remote { auth = psk }\n}\nconnections {\n k : tpl { remote_addrs = 192.0.2.7 }\n}\nsecrets { ike { secret = x } }\n';
    const { config, warnings } = parseSwanctlConfig(text);
    expect(warnings).toEqual([]);
    expect(config.connections.get('k')).toMatchObject({ proposals: ['aes128-sha256-x25519'], local: [{ auth: { class: 'psk' } }] });
    expect(fails(text.replace('k : tpl', 'k')).message).toMatch(/unknown section 'tpl'/);
  });

  it('a key directly under children is an error; stray keys elsewhere are warnings', () => {
    const e = fails('connections { c { children {\n x = 1\n } } }');
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/children\.x: expected a child section/);
    const { warnings } = parseSwanctlConfig('debug = 1\nconnections {\n foo = bar\n}\npools {\n p = 1\n}\nsecrets {\n ike = x\n}\n');
    expect(warnings.map((w) => [w.path, w.line])).toEqual([
      ['debug', 1],
      ['connections.foo', 3],
      ['pools.p', 6],
      ['secrets.ike', 9],
    ]);
  });

  it('authorities and token secrets load with a not-implemented warning', () => {
    const { config, warnings } = parseSwanctlConfig(
      'authorities {\n ca1 { cacert = ca.pem\n crl_uris = http://crl.example/ca.crl }\n}\nsecrets {\n token-1 { handle = 0102\n slot = 1\n pin = 1234 }\n}',
    );
    expect(config.authorities.get('ca1')).toMatchObject({ cacert: 'ca.pem', crl_uris: ['http://crl.example/ca.crl'] });
    expect(config.secrets.tokens[0]).toMatchObject({ handle: '0102', slot: 1, pin: '1234' });
    expect(warnings.map((w) => [w.path, w.code])).toEqual([
      ['authorities.ca1', 'NOT_IMPLEMENTED'],
      ['secrets.token-1', 'NOT_IMPLEMENTED'],
    ]);
  });

  it('certificate sections in auth rounds warn, keys with empty values take defaults', () => {
    const { config, warnings } = parseSwanctlConfig('connections { c {\n local {\n  cert-1 { handle = 01 }\n  auth =\n } } }');
    expect(warnings.map((w) => [w.path, w.line])).toEqual([['connections.c.local.cert-1', 3]]);
    expect(config.connections.get('c')!.local[0]!.auth.class).toBe('pubkey');
  });
});

describe('CHILD lifetimes that leave the rekey no room', () => {
  it('a 5s rekey_time (default life_time 5.5s, rounded to 5s) is warned about at its line, with the fix', () => {
    const { warnings } = parseSwanctlConfig(connText([], ['rekey_time = 5s']), 'swanctl.conf');
    const w = warnings.find((x) => /leaves the rekey no room/.test(x.message))!;
    expect(w).toMatchObject({ code: 'SUSPICIOUS', line: 5 });
    expect(w.message).toMatch(/dies instead of being rekeyed; set life_time = 10s/);
  });

  it('is quiet when the default 110% leaves whole seconds (rekey_time = 1h) or life_time is longer', () => {
    for (const child of [['rekey_time = 1h'], ['rekey_time = 5s', 'life_time = 10s'], []]) {
      expect(parseSwanctlConfig(connText([], child)).warnings.filter((x) => /no room/.test(x.message))).toEqual([]);
    }
  });

  it('explicit life_time = rekey_time is warned about too', () => {
    const { warnings } = parseSwanctlConfig(connText([], ['rekey_time = 60s', 'life_time = 60s']));
    expect(warnings.some((x) => /life_time equals rekey_time.*set life_time = 66s/.test(x.message))).toBe(true);
  });
});

describe('certificate errors point at the key that names the file', () => {
  it('a certs file that cannot be loaded is a ConfigError at the certs line', async () => {
    const { toIkeConnections } = await import('./ike-adapter.js');
    const { config } = parseSwanctlConfig('connections {\n c {\n  local {\n   auth = pubkey\n   certs = moonCert.pem\n  }\n }\n}\n', '/etc/swanctl/swanctl.conf');
    const resolver = { cert: (n: string): never => { throw new Error(`ENOENT: no such file x509/${n}`); } };
    let err: unknown;
    try {
      toIkeConnections(config, resolver);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(
      "/etc/swanctl/swanctl.conf:5: connections.c.local.certs: cannot load 'moonCert.pem' (looked for it in x509/ beside the configuration): ENOENT: no such file x509/moonCert.pem",
    );
  });
});

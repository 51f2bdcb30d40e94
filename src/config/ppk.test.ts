/** swanctl.conf PPK configuration (RFC 8784, strongSwan 6 names): ppk_id, ppk_required, secrets.ppk<suffix> (issue 18). */
import { describe, expect, it } from 'vitest';
import { parseSwanctlConfig } from './build.js';
import { ConfigError } from './errors.js';
import { toCredentials, toIkeConnection } from './ike-adapter.js';

const PPK_HEX = '0x' + '5a'.repeat(32);

function text(conn: string[], secrets: string[]): string {
  return ['connections {', '  c {', '    remote_addrs = 192.0.2.1', ...conn.map((l) => `    ${l}`), '    local { auth = psk }', '    remote { auth = psk }', '  }', '}', 'secrets {', '  ike-1 { secret = abcdefgh }', ...secrets.map((l) => `  ${l}`), '}', ''].join('\n');
}

function fails(t: string): ConfigError {
  try {
    parseSwanctlConfig(t, 'swanctl.conf');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('swanctl.conf PPK (RFC 8784)', () => {
  it('ppk_id, ppk_required and a ppk secret load without warnings and reach the IKE config and credentials', () => {
    const { config, warnings } = parseSwanctlConfig(text(['ppk_id = pq1', 'ppk_required = yes'], [`ppk-a { id = pq1\n secret = ${PPK_HEX} }`]), 'swanctl.conf');
    expect(warnings).toEqual([]);
    const c = config.connections.get('c')!;
    expect([c.ppk_id, c.ppk_required]).toEqual(['pq1', true]);
    const ike = toIkeConnection(c);
    expect([ike.ppkId, ike.ppkRequired]).toEqual(['pq1', true]);
    const creds = toCredentials(config.secrets);
    expect(Buffer.from(creds.ppk!(new TextEncoder().encode('pq1'))!).toString('hex')).toBe('5a'.repeat(32));
    expect(creds.ppk!(new TextEncoder().encode('pq2'))).toBeUndefined();
    expect(creds.hasPpk!()).toBe(true);
  });

  it('ppk_required defaults to no; a connection without ppk_id has none', () => {
    const { config } = parseSwanctlConfig(text([], []), 'swanctl.conf');
    const ike = toIkeConnection(config.connections.get('c')!);
    expect(ike.ppkId).toBeUndefined();
    expect(ike.ppkRequired).toBeUndefined();
    expect(toCredentials(config.secrets).hasPpk!()).toBe(false);
  });

  it('ppk_id naming no PPK of secrets is an error at the ppk_id line', () => {
    const e = fails(text(['ppk_id = pq1'], [`ppk-a { id = other\n secret = ${PPK_HEX} }`]));
    expect(e.errors.map((x) => [x.code, x.line])).toEqual([['INCONSISTENT', 4]]);
    expect(e.errors[0]!.message).toMatch(/swanctl.conf:4: connections\.c\.ppk_id = pq1: no PPK with this id in secrets/);
  });

  it('a PPK under 16 bytes is an error at its secret line, and the secret is not echoed', () => {
    const e = fails(text(['ppk_id = pq1'], ['ppk-a { id = pq1\n secret = tooshort-7 }']));
    const m = e.errors.map((x) => x.message).join('\n');
    expect(m).toMatch(/swanctl.conf:\d+: secrets\.ppk-a\.secret: a PPK of 10 bytes is too short: cygnet requires at least 16 bytes/);
    expect(m).not.toContain('tooshort-7');
  });

  it('a PPK without id, and ppk_required without any PPK, are errors naming the section', () => {
    const e = fails(text([], [`ppk-a { secret = ${PPK_HEX} }`]));
    expect(e.errors[0]!.message).toMatch(/secrets\.ppk-a: a PPK needs an id = <PPK_ID>/);
    const r = fails(text(['ppk_required = yes'], []));
    expect(r.errors[0]!.message).toMatch(/swanctl.conf:2: connections\.c: ppk_required = yes, but secrets \{ \} holds no PPK/);
  });

  it('a bad ppk_required value is an error with file:line', () => {
    const e = fails(text(['ppk_required = sometimes'], []));
    expect(e.errors[0]!.message).toMatch(/swanctl.conf:4: connections\.c\.ppk_required: invalid value/);
  });
});

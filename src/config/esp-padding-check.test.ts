/**
 * children.<name>.esp_padding_check (cygnet-specific): default yes, parsed as a strongSwan boolean, no warning
 * (it is in the implemented-key table), a bad value is a ConfigError at file:line, and it reaches the IKE child.
 */
import { describe, expect, it } from 'vitest';
import { parseSwanctlConfig } from './build.js';
import { ConfigError } from './errors.js';
import { toIkeChild } from './ike-adapter.js';

function text(child: string[]): string {
  return ['connections {', '  c {', '    remote_addrs = 192.0.2.1', '    children {', '      ch {', ...child.map((l) => `        ${l}`), '      }', '    }', '  }', '}', ''].join('\n');
}

function parse(child: string[]) {
  const r = parseSwanctlConfig(text(child), 'swanctl.conf');
  const ch = r.config.connections.get('c')?.children.get('ch');
  if (!ch) throw new Error('no child');
  return { ch, warnings: r.warnings };
}

describe('esp_padding_check', () => {
  it('defaults to yes (RFC 4303 2.4: the receiver SHOULD check the padding)', () => {
    const { ch, warnings } = parse([]);
    expect(ch.esp_padding_check).toBe(true);
    expect(toIkeChild(ch).espPaddingCheck).toBe(true);
    expect(warnings).toEqual([]);
  });

  it.each([
    ['no', false],
    ['false', false],
    ['yes', true],
    ['1', true],
  ] as const)('esp_padding_check = %s', (v, want) => {
    const { ch, warnings } = parse([`esp_padding_check = ${v}`]);
    expect(ch.esp_padding_check).toBe(want);
    expect(toIkeChild(ch).espPaddingCheck).toBe(want);
    expect(warnings).toEqual([]);
  });

  it('a bad value is an error naming the key and the line', () => {
    let err: unknown;
    try {
      parse(['esp_padding_check = sometimes']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.code).toBe('INVALID_VALUE');
    expect(e.line).toBe(6);
    expect(e.message).toMatch(/esp_padding_check: invalid value 'sometimes': expected yes or no/);
  });
});

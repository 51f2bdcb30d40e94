import { describe, expect, it } from 'vitest';
import { parseSwanctlConfig } from './build.js';
import { ConfigError } from './errors.js';

function encapOf(line: string | undefined): [boolean, string] {
  const text = ['connections {', '  c {', ...(line ? [`    ${line}`] : []), '  }', '}', ''].join('\n');
  const c = parseSwanctlConfig(text, 'swanctl.conf').config.connections.get('c');
  if (!c) throw new Error('connection c missing');
  return [c.encap, c.encap_transport];
}

describe('encap = yes|no|tcp|tcp-fallback (RFC 9329 TCP encapsulation)', () => {
  it.each([
    [undefined, [true, 'udp']],
    ['encap = yes', [true, 'udp']],
    ['encap = no', [false, 'udp']],
    ['encap = tcp', [true, 'tcp']],
    ['encap = TCP-Fallback', [true, 'tcp-fallback']],
  ] as const)('%s', (line, want) => {
    expect(encapOf(line)).toEqual(want);
  });

  it('another word names the line and every accepted form', () => {
    try {
      encapOf('encap = tcp4');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toMatch(/swanctl\.conf:3: .*encap: invalid value 'tcp4': expected yes or no .*tcp \/ tcp-fallback/);
      return;
    }
    throw new Error('expected a ConfigError');
  });
});

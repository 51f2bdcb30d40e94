import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/errors.js';
import { CryptoError } from '../crypto/errors.js';
import { EspError } from '../esp/errors.js';
import { IdentityError } from '../identity/errors.js';
import { IkeEncodeError } from '../ike/codec/types.js';
import { IpPacketError } from '../net/ip-packet.js';
import { PkiError } from '../pki/errors.js';
import { CodedError } from './coded-error.js';

describe('CodedError: the one base of the typed errors', () => {
  it('keeps each subclass name, code and message as before', () => {
    const cases: [Error & { code: string }, string, string, string][] = [
      [new CryptoError('INVALID_KEY_LENGTH', 'key is 3 bytes'), 'CryptoError', 'INVALID_KEY_LENGTH', 'key is 3 bytes'],
      [new EspError('BAD_KEY', 'key is 3 bytes'), 'EspError', 'BAD_KEY', 'key is 3 bytes'],
      [new PkiError('BAD_ENCODING', 'not PEM'), 'PkiError', 'BAD_ENCODING', 'not PEM'],
      [new IdentityError('bad id'), 'IdentityError', 'BAD_ID', 'bad id'],
      [new IkeEncodeError('too long'), 'IkeEncodeError', 'ENCODE_INVALID', 'too long'],
      [new IpPacketError('TRUNCATED', 2, 'short'), 'IpPacketError', 'TRUNCATED', 'short (at byte 2)'],
      [new ConfigError('SYNTAX', { file: 'a.conf', line: 3, column: 1 }, 'oops'), 'ConfigError', 'SYNTAX', 'oops'],
    ];
    for (const [e, name, code, message] of cases) {
      expect(e).toBeInstanceOf(CodedError);
      expect(e).toBeInstanceOf(Error);
      expect(e.name).toBe(name);
      expect(e.code).toBe(code);
      expect(e.message).toContain(message);
      expect(String(e)).toContain(`${name}: `);
    }
  });

  it('keeps the fields subclasses add and the cause', () => {
    const e = new IpPacketError('BAD_VERSION', 0, 'v5');
    expect(e.offset).toBe(0);
    expect(new ConfigError('SYNTAX', { file: 'a.conf', line: 3, column: 1 }, 'oops').line).toBe(3);
    const cause = new Error('inner');
    expect(new CodedError('X', 'outer', { cause }).cause).toBe(cause);
  });
});

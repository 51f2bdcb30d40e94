import { describe, expect, it } from 'vitest';
import { hashPassword, parsePasswordHash, PasswordHashError, SCRYPT_DEFAULTS, verifyPassword } from './password.js';

describe('console password hashes (scrypt, RFC 7914)', () => {
  it('hashes with the default cost and verifies only the right password', async () => {
    const h = await hashPassword('s3cret pass');
    expect(h).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(parsePasswordHash(h).N).toBe(SCRYPT_DEFAULTS.N);
    expect(await verifyPassword('s3cret pass', h)).toBe(true);
    expect(await verifyPassword('s3cret pasS', h)).toBe(false);
    expect(await verifyPassword('', h)).toBe(false);
    // A fresh salt each time.
    expect(await hashPassword('s3cret pass')).not.toBe(h);
  });

  it('treats NFC and NFD spellings of a password alike', async () => {
    const h = await hashPassword('caf\u00e9', { N: 1024, r: 8, p: 1 });
    expect(await verifyPassword('cafe\u0301', h)).toBe(true);
  });

  it('refuses an empty password and says what is wrong with a broken hash', async () => {
    await expect(hashPassword('')).rejects.toThrow(/empty/);
    const cases: Array<[string, RegExp]> = [
      ['argon2id$v=19$...', /not a scrypt hash/],
      ['scrypt$1000$8$1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==', /not a power of two/],
      ['scrypt$1024$x$1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==', /r 'x' is not a positive integer/],
      ['scrypt$1024$8$1$!!$AAAAAAAAAAAAAAAAAAAAAA==', /not base64/],
      ['scrypt$1024$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAA==', /salt of 3 bytes is too short/],
      ['scrypt$1024$8$1$AAAAAAAAAAA=$AAAA', /key of 3 bytes is too short/],
      ['scrypt$1024$64$1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==', /out of range/],
    ];
    for (const [h, re] of cases) {
      expect(() => parsePasswordHash(h), h).toThrow(PasswordHashError);
      expect(() => parsePasswordHash(h), h).toThrow(re);
    }
  });
});

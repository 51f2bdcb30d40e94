import { describe, expect, it } from 'vitest';
import { parseSwanctlConfig } from './build.js';
import { isConfigError } from './errors.js';
import { isSecretKey, redactSecrets } from './redact.js';

const SECRET = 'Hunter2-s3cr3t';

/** Every error and warning text the loader produces for `text` (the values an administrator would see). */
function messages(text: string): string[] {
  try {
    const r = parseSwanctlConfig(text, 'swanctl.conf');
    return r.warnings.map((w) => w.message);
  } catch (e) {
    if (!isConfigError(e)) throw e;
    return [e.message, ...e.errors.map((x) => x.message), ...e.warnings.map((w) => w.message)];
  }
}

describe('secrets never appear in configuration errors or warnings', () => {
  it.each([
    ['one line with an id', `secrets { ike-1 { id = a  secret = "${SECRET}" } }`],
    ['one line, unquoted', `secrets { ike-1 { id = C=CH, CN=x  secret = ${SECRET} } }`],
    ['a missing =', `secrets { ike-1 { id = a\n secret ${SECRET}\n } }`],
    ['bad hex', `secrets { ike-1 { id = a\n secret = 0x${SECRET}\n } }`],
    ['bad base64', `secrets { ike-1 { id = a\n secret = 0s${SECRET}!\n } }`],
    ['an EAP secret', `secrets { eap-1 { id = a\n secret = 0x${SECRET}\n } }`],
    ['a ppk', `secrets { ppk-1 { id = a\n secret = 0s${SECRET}\n } }`],
    ['a token pin', `secrets { token-1 { handle = 01\n pin = ${SECRET}\n slot = nope } }`],
    ['a private key passphrase', `secrets { private-1 { file = k.pem  secret = ${SECRET} } }`],
    ['a misspelt secret key', `secrets { ike-1 { id = a\n secret-1 = ${SECRET}\n } }`],
  ])('%s', (_name, text) => {
    const all = messages(text);
    expect(all.length).toBeGreaterThan(0);
    for (const m of all) expect(m).not.toContain(SECRET.slice(0, 8));
  });

  it('still names the key and the place, and other values are still quoted', () => {
    const all = messages(`secrets { ike-1 { id = a\n secret ${SECRET}\n } }`).join('\n');
    expect(all).toMatch(/swanctl\.conf:2: expected '=' or '\{' after 'secret', found its value \(not shown: a secret\)/);
    expect(messages(`secrets { token-1 { handle = 01\n pin = 1\n slot = nope } }`).join('\n')).toMatch(/slot: invalid value 'nope'/);
  });

  it('redactSecrets: values of secret-bearing keys only', () => {
    expect(redactSecrets(`invalid value 'a secret = ${SECRET} x': unknown RDN type 'a secret' in 'a secret = ${SECRET} x'`)).toBe(
      "invalid value 'a secret = <redacted>': unknown RDN type 'a secret' in 'a secret = <redacted>'",
    );
    expect(redactSecrets(`servers.r1.secret: invalid value '${SECRET}': expected text`)).toBe('servers.r1.secret: invalid value <redacted>: expected text');
    expect(redactSecrets('ppk_id = moon, ppk_required = yes, auth = psk')).toBe('ppk_id = moon, ppk_required = yes, auth = psk');
    expect(redactSecrets("expected '=' or '{' after 'local', found 'x'")).toBe("expected '=' or '{' after 'local', found 'x'");
    expect(redactSecrets('secrets hold sections like ike-1 { id = ..., secret = ... }')).toBe('secrets hold sections like ike-1 { id = ..., secret = ... }');
  });

  it('isSecretKey', () => {
    for (const k of ['secret', 'secrets.ike-1.secret', 'pin', 'secret-2', 'secret_file_passphrase', 'eap-radius.secret', 'ppk', 'PSK', 'key_passphrase'])
      expect(isSecretKey(k), k).toBe(true);
    for (const k of ['secrets', 'ppk_id', 'ppk_required', 'id', 'pinned', 'file', 'spin', 'auth']) expect(isSecretKey(k), k).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { ConsoleConfigError, parseConsoleConfig } from './config.js';

const HASH = 'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

describe('console configuration file', () => {
  it('reads listen, socket, TLS files and users, with comments', () => {
    const c = parseConsoleConfig(
      `# console\nlisten = [::1]:9000\nsocket = /var/run/charon.vici   # strongSwan\ntls_cert = /etc/c.crt\ntls_key = /etc/c.key\nuser admin = ${HASH}\nuser ops@example = ${HASH}\n`,
      'console.conf',
    );
    expect(c.listen).toEqual({ host: '::1', port: 9000 });
    expect(c.socket).toBe('/var/run/charon.vici');
    expect(c.tlsCert).toBe('/etc/c.crt');
    expect([...c.users.keys()]).toEqual(['admin', 'ops@example']);
  });

  it('names file:line and the cause of each mistake', () => {
    const cases: Array<[string, RegExp]> = [
      ['listen 127.0.0.1:1', /^c\.conf:1: expected 'key = value'/],
      ['\nlisten = 127.0.0.1', /^c\.conf:2: listen address '127\.0\.0\.1' is not HOST:PORT/],
      ['listen = 127.0.0.1:70000', /port 70000 is out of range/],
      ['listen = example.com:80', /not an IP address or localhost/],
      ['socket =', /'socket' has no value/],
      ['sockets = /x', /unknown key 'sockets'/],
      [`user admin = ${HASH}\nuser admin = ${HASH}`, /^c\.conf:2: user 'admin' is defined twice \(first on line 1\)/],
      ['user admin = hunter2', /user 'admin': not a scrypt hash/],
      [`user a b = ${HASH}`, /unknown key 'user a b'/],
      [`user ../x = ${HASH}`, /user name/],
      ['socket = /a\nsocket = /b', /^c\.conf:2: 'socket' is set twice/],
      ['tls_cert = /x', /tls_cert and tls_key go together/],
    ];
    for (const [text, re] of cases) {
      let err: unknown;
      try {
        parseConsoleConfig(text, 'c.conf');
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(ConsoleConfigError);
      expect((err as Error).message, text).toMatch(re);
    }
  });
});

/**
 * `cygnet import` items of issue 13 the seeds do not show on their own: conn %default, `include` in ipsec.conf
 * and in ipsec.secrets, `ike=`/`esp=` with and without `!`, `%defaultroute`, subnet lists, RSA and EAP secrets.
 */
import { describe, expect, it } from 'vitest';
import { parseSwanctlConfig } from '../build.js';
import type { ConfigIo } from '../parser.js';
import { convertIpsecConf } from './convert.js';

function mem(files: Record<string, string>): ConfigIo {
  return {
    readFile: (f) => {
      const t = files[f];
      if (t === undefined) throw new Error(`ENOENT: ${f}`);
      return t;
    },
    listDir: (d) => Object.keys(files).filter((f) => f.startsWith(`${d}/`)).map((f) => f.slice(d.length + 1)),
  };
}

const files = {
  '/etc/ipsec.conf': [
    'conn %default',
    '  keyexchange=ikev2',
    '  dpddelay=10s',
    '  dpdaction=restart',
    'include /etc/ipsec.d/conns/*.conf',
    '',
  ].join('\n'),
  '/etc/ipsec.d/conns/a.conf': [
    'conn a',
    '  left=%defaultroute',
    '  leftsubnet=10.1.0.0/24',
    '  right=192.0.2.9',
    '  rightsubnet=10.2.0.0/24,10.4.0.0/24',
    '  ike=aes256-sha256-modp2048!',
    '  esp=aes128gcm16!',
    '  authby=secret',
    '  auto=start',
    '',
  ].join('\n'),
  '/etc/ipsec.d/conns/b.conf': 'conn b\n  right=192.0.2.10\n  ike=aes128-sha256-x25519\n  authby=secret\n  auto=add\n',
  '/etc/ipsec.secrets': ': RSA moonKey.pem\ncarol : EAP "carolpw"\ninclude /etc/ipsec.d/*.secrets\n',
  '/etc/ipsec.d/peer.secrets': '192.0.2.9 : PSK "incl-psk"\n',
};

describe('cygnet import: %default, include, strict proposals, %defaultroute, secrets', () => {
  const r = convertIpsecConf('/etc/ipsec.conf', mem(files), { secretsFile: '/etc/ipsec.secrets' });
  const { config } = parseSwanctlConfig(r.text, 'out.conf');

  it('follows include globs in ipsec.conf and applies conn %default to every conn', () => {
    expect([...config.connections.keys()]).toEqual(['a', 'b']);
    for (const c of config.connections.values()) {
      expect(c.dpd_delay).toBe(10_000);
      expect([...c.children.values()][0]?.dpd_action).toBe('restart');
    }
    expect(r.text).toMatch(/dpd_delay = 10s {4}# dpddelay \(ipsec\.conf:3\)/);
  });

  it("'!' keeps exactly the listed proposals; without it strongSwan's defaults follow (ipsec.conf(5) ike=)", () => {
    expect(config.connections.get('a')?.proposals).toEqual(['aes256-sha256-modp2048']);
    expect(config.connections.get('a')?.children.get('a')?.esp_proposals).toEqual(['aes128gcm16']);
    expect(config.connections.get('b')?.proposals).toEqual(['aes128-sha256-x25519', 'default']);
  });

  it('left=%defaultroute leaves local_addrs unset (the route source is used) and says so at its line', () => {
    expect(r.text).not.toMatch(/^\s*local_addrs =/m);
    expect(r.notes.find((n) => n.what.startsWith('left=%defaultroute'))?.loc).toMatchObject({ file: '/etc/ipsec.d/conns/a.conf', line: 2 });
  });

  it('a subnet list becomes a traffic selector list', () => {
    expect(config.connections.get('a')?.children.get('a')?.remote_ts.map((t) => t.text)).toEqual(['10.2.0.0/24', '10.4.0.0/24']);
  });

  it('secrets: RSA keys named for rsa/, EAP secrets carried without a "not used" note, included PSKs', () => {
    expect(r.text).toMatch(/ipsec\.secrets:1: : RSA: copy \/etc\/ipsec\.d\/private\/moonKey\.pem into rsa\//);
    expect(config.secrets.eap.map((s) => [s.ids, new TextDecoder().decode(s.secret)])).toEqual([[['carol'], 'carolpw']]);
    expect(config.secrets.ike.map((s) => [s.ids, new TextDecoder().decode(s.secret)])).toEqual([[['192.0.2.9'], 'incl-psk']]);
    expect(r.text).toMatch(/ike-1 \{ {4}# peer\.secrets:1: 192\.0\.2\.9 : PSK/);
    expect(r.notes.filter((n) => /EAP/.test(n.what))).toEqual([]);
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { parseSwanctlConfig } from '../build.js';
import type { ConfigIo } from '../parser.js';
import { convertIpsecConf } from './convert.js';

const FIX = new URL('../../../test/fixtures/ipsec-conf/', import.meta.url).pathname;
const disk: ConfigIo = { readFile: (f) => readFileSync(f, 'utf8'), listDir: (d) => readdirSync(d) };

function mem(files: Record<string, string>): ConfigIo {
  return {
    readFile: (f) => {
      const t = files[f];
      if (t === undefined) throw new Error(`ENOENT: ${f}`);
      return t;
    },
    listDir: (d) => Object.keys(files).filter((f) => f.startsWith(d + '/')).map((f) => f.slice(d.length + 1)),
  };
}

function seed(dir: string) {
  const r = convertIpsecConf(`${FIX}${dir}/ipsec.conf`, disk, { secretsFile: `${FIX}${dir}/ipsec.secrets` });
  const loaded = parseSwanctlConfig(r.text, `${dir}/swanctl.conf`);
  return { ...r, loaded };
}

function fails(text: string, secrets?: string): ConfigError {
  try {
    convertIpsecConf('/etc/ipsec.conf', mem({ '/etc/ipsec.conf': text, ...(secrets ? { '/etc/ipsec.secrets': secrets } : {}) }), secrets ? { secretsFile: '/etc/ipsec.secrets' } : {});
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('cygnet import: the seeds', () => {
  it('000 IPFire net-to-net (PSK and certificates): both tunnels load in cygnet with their meaning', () => {
    const { loaded, notes } = seed('000-ipfire-net2net');
    const psk = loaded.config.connections.get('IPFire2')!;
    expect(psk.version).toBe(2);
    expect(psk.local[0]!.auth.class).toBe('psk');
    expect(psk.local[0]!.id).toBe('@ipfire1.example.org');
    expect(psk.remote_addrs.map((a) => (a.kind === 'ip' ? a.address.text : a.kind))).toEqual(['192.0.2.2']);
    const ch = psk.children.get('IPFire2')!;
    expect(ch.local_ts.map((t) => t.text)).toEqual(['10.1.0.0/24', '10.3.0.0/24']);
    expect(ch.start_action).toBe('start');
    expect(ch.dpd_action).toBe('restart');
    expect(ch.esp_proposals).toEqual(['aes256-sha2_512-modp4096', 'aes256-sha2_256-modp2048']);
    expect(psk.dpd_delay).toBe(30_000);
    expect(psk.keyingtries).toBe(0); // %default keyingtries=%forever
    expect(psk.mobike).toBe(false); // from the included ipsec.user.conf
    const cert = loaded.config.connections.get('IPFire2Cert')!;
    expect(cert.local[0]!.certs).toEqual(['hostcert.pem']);
    expect(cert.remote[0]!.id).toBe('C=CH, O=IPFire2, CN=ipfire2.example.org');
    expect(loaded.config.secrets.ike.map((s) => s.ids)).toEqual([['@ipfire1.example.org', '@ipfire2.example.org'], ['@admin.example.org']]);
    expect(notes.map((n) => `${n.loc.line}:${n.what}`)).toEqual(['26:dpdtimeout=120']);
  });

  it('001 ArchWiki road warrior: the certificate and the EAP-MSCHAPv2 connections load; IKEv1, XAUTH and %dhcp are named with their lines', () => {
    const { loaded, notes, connections, text } = seed('001-archwiki-roadwarrior');
    expect([...loaded.config.connections.keys()]).toEqual(['IPSec-IKEv2', 'IPSec-IKEv2-EAP']);
    const eap = loaded.config.connections.get('IPSec-IKEv2-EAP')!;
    expect(eap.remote[0]!.auth.text).toBe('eap-mschapv2');
    expect(eap.remote[0]!.eap_id).toBe('%any');
    const c = loaded.config.connections.get('IPSec-IKEv2')!;
    expect(c.local[0]!.certs).toEqual(['vpnHostCert.pem']);
    expect(c.dpd_delay).toBe(300_000);
    expect(c.rekey_time).toBe(0);
    expect(c.children.get('IPSec-IKEv2')!.rekey_time).toBe(0);
    expect(c.proposals[0]).toBe('aes128-sha256-ecp256');
    expect(c.proposals).not.toContain('default'); // '!' in ike=
    expect(connections).toEqual([{ name: 'IPSec-IKEv2' }, { name: 'IPSec-IKEv2-EAP' }]);
    const named = notes.map((n) => `${n.loc.file.split('/').pop()}:${n.loc.line} ${n.what}`);
    expect(named).toEqual(
      expect.arrayContaining([
        'ipsec.conf:11 charondebug=cfg 2, dmn 2, ike 2, net 2',
        'ipsec.conf:39 rightsourceip=%dhcp',
        'ipsec.conf:55 conn CiscoIPSec: keyexchange=ikev1',
        'ipsec.secrets:10 user2 : XAUTH',
      ]),
    );
    expect(text).toMatch(/# Not carried over:\n(#.*\n)*#   ipsec.conf:55: conn CiscoIPSec: keyexchange=ikev1: IKEv1 is not implemented in cygnet/);
    expect(text).toMatch(/^ {4}remote \{\n {6}auth = eap-mschapv2/m);
    expect(text).not.toMatch(/evenmoretopsecretpassword/);
  });

  it('004 Openswan PSK: the tunnel loads; pluto-only settings are named; phase2alg is read as esp', () => {
    const { loaded, notes } = seed('004-openswan-psk');
    const c = loaded.config.connections.get('State-Secrets')!;
    expect(c.proposals).toEqual(['aes256-sha1-modp1024']);
    expect(c.children.get('State-Secrets')!.esp_proposals).toEqual(['aes256-sha1', 'default']);
    expect(c.reauth_time).toBe((1440 - 9) * 60_000);
    expect(c.children.get('State-Secrets')!.life_time).toBe(3600_000);
    expect(loaded.config.secrets.ike).toHaveLength(1);
    expect(loaded.config.secrets.ike[0]!.ids).toEqual([]);
    expect(notes.map((n) => n.what.split('=')[0]).sort()).toEqual(['aggrmode', 'nat_traversal', 'pfs', 'phase2alg', 'plutoopts', 'protostack', 'virtual_private']);
  });
});

describe('cygnet import: the mapping', () => {
  const one = (body: string, extra = '') => {
    const r = convertIpsecConf('/etc/ipsec.conf', mem({ '/etc/ipsec.conf': `${extra}conn c\n${body}\n  auto=add\n` }));
    return { r, c: parseSwanctlConfig(r.text, 'out.conf').config.connections.get('c') };
  };

  it('ike/esp without ! keep the defaults; leftsourceip=%config is a vip; rightsourceip a pool with rightdns', () => {
    const { r, c } = one('  ike=aes256-sha256-modp2048\n  leftsourceip=%config\n  right=%any\n  rightsourceip=10.3.0.0/24\n  rightdns=10.3.0.1\n  authby=secret');
    expect(c!.proposals).toEqual(['aes256-sha256-modp2048', 'default']);
    expect(c!.vips.map((v) => v.text)).toEqual(['0.0.0.0']);
    expect(c!.pools).toEqual(['c-pool']);
    expect(r.text).toMatch(/c-pool \{\n {4}addrs = 10.3.0.0\/24 .*\n {4}dns = 10.3.0.1/);
  });

  it('auto=route is trap, dpdaction=hold is trap with the default 30s dpddelay, closeaction=restart is start', () => {
    const { c } = one('  dpdaction=hold\n  closeaction=restart\n  authby=psk', '');
    expect(c!.dpd_delay).toBe(30_000);
    expect(c!.children.get('c')!.dpd_action).toBe('trap');
    expect(c!.children.get('c')!.close_action).toBe('start');
    const r = convertIpsecConf('/etc/ipsec.conf', mem({ '/etc/ipsec.conf': 'conn c\n  auto=route\n  right=192.0.2.9\n  authby=psk\n' }));
    expect(parseSwanctlConfig(r.text).config.connections.get('c')!.children.get('c')!.start_action).toBe('trap');
  });

  it('leftprotoport applies to every subnet; also= splices a section in where it is written', () => {
    const { c } = one('  also=base\n  leftprotoport=tcp/443', 'conn base\n  leftsubnet=10.1.0.0/24,10.5.0.0/24\n  authby=secret\n');
    expect(c!.children.get('c')!.local_ts.map((t) => t.text)).toEqual(['10.1.0.0/24[tcp/443]', '10.5.0.0/24[tcp/443]']);
  });

  it('aggressive mode and XAUTH are named, not carried', () => {
    const { r } = one('  keyexchange=ikev2\n  aggressive=yes\n  authby=xauthpsk');
    expect(r.notes.map((n) => n.why)).toEqual(expect.arrayContaining(['aggressive mode is IKEv1 only: not carried', 'XAUTH is IKEv1 only: not implemented in cygnet']));
  });

  it('refuses what strongSwan refuses, all at once, with file:line and how to write it', () => {
    const e = fails('conn c\n  aggrmode=no    left=192.0.2.1\n  rigthsubnet=10.0.0.0/8\n  leftid=C=CH, CN=x\n  auto=add\nconn d\n  also=nothere\n  auto=add\n');
    expect(e.errors.map((x) => x.message)).toEqual([
      "/etc/ipsec.conf:2: 'left =' on the same line as 'aggrmode =': ipsec.conf takes one `key=value` per line; put 'left=...' on a line of its own",
      "/etc/ipsec.conf:3: conn c: unknown key 'rigthsubnet'; did you mean 'rightsubnet'?",
      '/etc/ipsec.conf:4: leftid: a \'=\' in a value must be quoted (e.g. leftid="C=CH, O=example, CN=moon")',
      '/etc/ipsec.conf:7: also=nothere: there is no conn nothere',
    ]);
  });

  it('secrets: PSK ids, %any dropped, key files with passphrases, a missing type named', () => {
    const r = convertIpsecConf('/etc/ipsec.conf', mem({ '/etc/ipsec.conf': 'conn c\n  authby=psk\n  auto=add\n', '/etc/ipsec.secrets': '%any moon : PSK "a b"\n: ECDSA moonKey.pem "pass phrase"\n' }), { secretsFile: '/etc/ipsec.secrets' });
    const s = parseSwanctlConfig(r.text).config.secrets;
    expect(s.ike.map((x) => [x.ids, new TextDecoder().decode(x.secret)])).toEqual([[['moon'], 'a b']]);
    expect(r.text).toMatch(/ecdsa-1 \{.*\n {4}file = moonKey.pem\n {4}secret = "pass phrase"/);
    expect(fails('conn c\n  auto=add\n', 'x : FOO bar\n').message).toMatch(/ipsec.secrets:1: unknown secret type 'FOO'/);
    // quoted "0x..." is literal text in ipsec.secrets, unquoted 0s... is base64: both keep their meaning
    const r2 = convertIpsecConf('/etc/ipsec.conf', mem({ '/etc/ipsec.conf': 'conn c\n  authby=psk\n  auto=add\n', '/etc/ipsec.secrets': 'a : PSK "0xabc"\nb : PSK 0sYWJj\n' }), { secretsFile: '/etc/ipsec.secrets' });
    const ike = parseSwanctlConfig(r2.text).config.secrets.ike.map((x) => new TextDecoder().decode(x.secret));
    expect(ike).toEqual(['0xabc', 'abc']);
  });
});

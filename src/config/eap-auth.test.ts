/** swanctl.conf EAP rounds and secrets as the IKE endpoint and src/eap take them (issue 14). */
import { describe, expect, it } from 'vitest';
import { parseSwanctlConfig } from './build.js';
import { ConfigError } from './errors.js';
import { toEapSecrets, toIkeConnection } from './ike-adapter.js';

const gateway = (remote: string[], secrets = ''): string =>
  [
    'connections {',
    '  rw {',
    '    local { auth = psk\n id = vpn.example.org }',
    `    remote { ${remote.join('\n')} }`,
    '    children { net { local_ts = 10.0.0.0/24 } }',
    '  }',
    '}',
    `secrets { ${secrets} }`,
    '',
  ].join('\n');

const ike = (remote: string[]) => {
  const { config } = parseSwanctlConfig(gateway(remote), 'swanctl.conf');
  const c = config.connections.get('rw');
  if (c === undefined) throw new Error('no connection');
  return toIkeConnection(c);
};

describe('auth = eap[-type] maps to the IKE auth config', () => {
  it('eap-mschapv2 with eap_id = %any', () => {
    const c = ike(['auth = eap-mschapv2', 'eap_id = %any']);
    expect(c.remote.method).toBe('eap');
    expect(c.remote.eap).toEqual({ methods: ['mschapv2'], eapId: '%any' });
  });
  it('eap-tls, eap-md5 and eap-radius name one method; eap and eap-dynamic offer MSCHAPv2 then TLS', () => {
    expect(ike(['auth = eap-tls']).remote.eap?.methods).toEqual(['tls']);
    expect(ike(['auth = eap-md5']).remote.eap?.methods).toEqual(['md5']);
    expect(ike(['auth = eap-radius']).remote.eap?.methods).toEqual(['radius']);
    expect(ike(['auth = eap']).remote.eap?.methods).toEqual(['mschapv2', 'tls']);
    expect(ike(['auth = eap-dynamic']).remote.eap?.methods).toEqual(['mschapv2', 'tls']);
  });
  it('aaa_id is kept', () => {
    expect(ike(['auth = eap-mschapv2', 'aaa_id = radius.example.org']).remote.eap).toEqual({ methods: ['mschapv2'], aaaId: 'radius.example.org' });
  });
  it('an EAP method cygnet lacks is refused naming the ones it has', () => {
    let err: unknown;
    try {
      parseSwanctlConfig(gateway(['auth = eap-peap']), 'swanctl.conf');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/swanctl\.conf:5: .*EAP method 'peap'; it has eap-mschapv2, eap-tls, eap-md5, eap-dynamic, eap-radius and eap/);
  });
});

describe('eap- and ntlm- secrets', () => {
  it('are looked up by EAP identity', () => {
    const { config, warnings } = parseSwanctlConfig(
      gateway(['auth = eap-mschapv2'], 'eap-alice { id = alice\n secret = wonderland }\n ntlm-carol { id = carol\n secret = 0x00112233445566778899aabbccddeeff }'),
      'swanctl.conf',
    );
    expect(warnings.filter((w) => w.message.includes('not implemented'))).toEqual([]);
    const lookup = toEapSecrets(config.secrets);
    expect(lookup('alice', 'vpn.example.org')).toEqual({ kind: 'password', password: 'wonderland' });
    expect(lookup('carol', 'vpn.example.org')).toEqual({ kind: 'nthash', hash: Uint8Array.from(Buffer.from('00112233445566778899aabbccddeeff', 'hex')) });
    expect(lookup('mallory', 'vpn.example.org')).toBeUndefined();
  });
  it('an NT hash that is not 16 bytes is an error at its section', () => {
    const { config } = parseSwanctlConfig(gateway(['auth = eap-mschapv2'], 'ntlm-carol { id = carol\n secret = 0x0011 }'), 'swanctl.conf');
    expect(() => toEapSecrets(config.secrets)).toThrow(/swanctl\.conf:9: secrets\.ntlm-carol\.secret: an NT hash is 16 bytes .* this one is 2/);
  });
});

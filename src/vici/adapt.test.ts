import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatConfiguredTs, parseSuite, viciChildSa, viciConn, viciIkeSa } from './adapt.js';
import { listSaEvent, listConnEvent } from './commands.js';
import { decodeMessage, encodeMessage } from './message.js';
import { formatListConn, formatListSa } from './format.js';
import type { ChildSaInfo, IkeSaInfo } from '../ike/events.js';
import { parseTrafficSelector, type TrafficSelector } from '../ike/traffic-selector.js';
import { child, connection } from '../ike/config-builder.js';
import { ENCR, INTEG, KE } from '../crypto/transforms.js';

const ts = (s: string): TrafficSelector => parseTrafficSelector(s) as TrafficSelector;

const SA: IkeSaInfo = {
  id: 5,
  name: 'site',
  state: 'ESTABLISHED',
  initiator: false,
  spiI: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]),
  spiR: Uint8Array.from([0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0x10, 0x11]),
  local: { address: '10.0.0.1', port: 4500 },
  remote: { address: '10.0.0.2', port: 4500 },
  localId: 'cygnet.example',
  remoteId: '10.0.0.2',
  suite: 'AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384',
  natDetected: { local: false, remote: false },
  encapsulated: true,
  establishedAt: 10_000,
};

const CHILD: ChildSaInfo = {
  ikeSaId: 5,
  name: 'lan',
  id: 9,
  mode: 'tunnel',
  protocol: 'esp',
  encrId: ENCR.AES_CBC,
  encrKeyBits: 256,
  integId: INTEG.HMAC_SHA2_256_128,
  keGroup: KE.CURVE_25519,
  esn: true,
  spiIn: 0xcafe0001,
  spiOut: 0x00000042,
  localTs: [ts('192.168.1.0/24')],
  remoteTs: [ts('192.168.2.0/24'), ts('192.168.3.7/32[udp/53]')],
  local: SA.local,
  remote: SA.remote,
  encapsulated: true,
  suite: 'AES_CBC-256/HMAC_SHA2_256_128/CURVE_25519/ESN',
};

describe('vici adapters', () => {
  it('parses suites into strongSwan algorithm names', () => {
    expect(parseSuite('AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519')).toEqual({
      encrAlg: 'AES_GCM_16', encrKeySize: 128, prfAlg: 'PRF_HMAC_SHA2_256', dhGroup: 'CURVE_25519', esn: false,
    });
    expect(parseSuite('AES_CBC-256/HMAC_SHA2_256_128/MODP_2048/ESN')).toEqual({
      encrAlg: 'AES_CBC', encrKeySize: 256, integAlg: 'HMAC_SHA2_256_128', dhGroup: 'MODP_2048', esn: true,
    });
    expect(parseSuite('CHACHA20_POLY1305/PRF_HMAC_SHA2_256/CURVE_25519').encrAlg).toBe('CHACHA20_POLY1305');
    expect(parseSuite('')).toEqual({ esn: false });
  });

  it('RFC 9370 additional key exchanges: vici ake1..ake7 and swanctl\'s /KE<n>_ suffix, as strongSwan 6 (vici_query.c list_ake)', () => {
    // Before: KE1_ML_KEM_768 fell through to integ-alg.
    expect(parseSuite('AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768/KE2_ML_KEM_1024')).toEqual({
      encrAlg: 'AES_GCM_16', encrKeySize: 256, prfAlg: 'PRF_HMAC_SHA2_384', dhGroup: 'CURVE_25519', ake: { 1: 'ML_KEM_768', 2: 'ML_KEM_1024' }, esn: false,
    });
    const sa = { ...SA, suite: 'AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768/KE2_ML_KEM_1024' };
    const child: ChildSaInfo = { ...CHILD, encrId: ENCR.AES_GCM_16, integId: 0, esn: false, suite: 'AES_GCM_16-256/CURVE_25519/KE1_ML_KEM_768' };
    const msg = decodeMessage(encodeMessage(listSaEvent(viciIkeSa(sa, [child], { now: 20_000 }))));
    const ike = msg.site as Record<string, unknown>;
    const str = (v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString() : v);
    expect(['dh-group', 'ake1', 'ake2', 'ake3', 'integ-alg'].map((k) => str(ike[k]))).toEqual(['CURVE_25519', 'ML_KEM_768', 'ML_KEM_1024', undefined, undefined]);
    const lines = formatListSa(msg);
    expect(lines).toContain('  AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768/KE2_ML_KEM_1024');
    expect(lines.some((l) => l.endsWith('ESP:AES_GCM_16-256/CURVE_25519/KE1_ML_KEM_768'))).toBe(true);
  });

  it('formats configured selectors, dynamic ones included', () => {
    expect(formatConfiguredTs(parseTrafficSelector('dynamic'))).toBe('dynamic');
    // a single tcp/udp port by its /etc/services name, as charon's %R (getservbyport)
    expect(formatConfiguredTs(parseTrafficSelector('dynamic[tcp/80]'))).toBe(existsSync('/etc/services') ? 'dynamic[tcp/http]' : 'dynamic[tcp/80]');
    expect(formatConfiguredTs(parseTrafficSelector('10.0.0.0/8[udp/1000-2000]'))).toBe('10.0.0.0/8[udp/1000-2000]');
    expect(formatConfiguredTs(parseTrafficSelector('10.0.0.0/8[udp/65000]'))).toBe('10.0.0.0/8[udp/65000]');
    expect(formatConfiguredTs(parseTrafficSelector('10.0.0.0/8'))).toBe('10.0.0.0/8');
  });

  it('maps an IKE_SA and its CHILD_SAs to list-sa records, times relative to now', () => {
    const v = viciIkeSa(SA, [CHILD], {
      now: 70_000,
      rekeyAt: 130_000,
      child: () => ({ installedAt: 20_000, rekeyAt: 100_000, expiresAt: 110_000, bytesIn: 10, packetsIn: 1, lastIn: 69_000 }),
    });
    expect(v).toMatchObject({
      name: 'site', uniqueId: 5, state: 'ESTABLISHED', initiator: false, localHost: '10.0.0.1', localPort: 4500,
      encrAlg: 'AES_GCM_16', encrKeySize: 256, prfAlg: 'PRF_HMAC_SHA2_384', dhGroup: 'ECP_384',
      natFake: true, natAny: true, natLocal: false, established: 60, rekeyTime: 60,
    });
    expect(v.children[0]).toMatchObject({
      name: 'lan', uniqueId: 9, state: 'INSTALLED', mode: 'TUNNEL', protocol: 'ESP', encap: true,
      encrAlg: 'AES_CBC', encrKeySize: 256, integAlg: 'HMAC_SHA2_256_128', dhGroup: 'CURVE_25519', esn: true,
      installTime: 50, rekeyTime: 30, lifeTime: 40, bytesIn: 10, useIn: 1, bytesOut: 0,
      localTs: ['192.168.1.0/24'], remoteTs: ['192.168.2.0/24', '192.168.3.7/32[udp/53]'],
    });
  });

  it('prints like swanctl --list-sas', () => {
    const v = viciIkeSa(SA, [CHILD], { now: 70_000, child: () => ({ installedAt: 20_000 }) });
    expect(formatListSa(decodeMessage(encodeMessage(listSaEvent(v))))).toEqual([
      'site: #5, ESTABLISHED, IKEv2, 0102030405060708_i 0a0b0c0d0e0f1011_r*',
      "  local  'cygnet.example' @ 10.0.0.1[4500]",
      "  remote '10.0.0.2' @ 10.0.0.2[4500]",
      '  AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384',
      '  established 60s ago',
      '  lan: #9, reqid 9, INSTALLED, TUNNEL-in-UDP, ESP:AES_CBC-256/HMAC_SHA2_256_128/CURVE_25519/ESN',
      '    installed 50s ago',
      '    in  cafe0001,      0 bytes,     0 packets',
      '    out 00000042,      0 bytes,     0 packets',
      '    local  192.168.1.0/24',
      '    remote 192.168.2.0/24 192.168.3.7/32[udp/53]',
    ]);
  });

  it('an AEAD CHILD_SA without PFS has no integ-alg or dh-group', () => {
    const c = viciChildSa({ ...CHILD, encrId: ENCR.AES_GCM_16, encrKeyBits: 128, integId: 0, keGroup: undefined as never, esn: false });
    expect(c.encrAlg).toBe('AES_GCM_16');
    expect(c.integAlg).toBeUndefined();
    expect(c.dhGroup).toBeUndefined();
  });

  it('maps a connection config to a list-conn record', () => {
    const conn = connection({
      name: 'site',
      localAddrs: ['10.0.0.1'],
      remoteAddrs: ['10.0.0.2'],
      local: { id: 'cygnet.example' },
      remote: { id: '10.0.0.2' },
      dpdDelayMs: 30_000,
      children: [child('lan', { localTs: ['192.168.1.0/24'], remoteTs: ['192.168.2.0/24'], startAction: 'trap' })],
    });
    const v = viciConn(conn);
    expect(v).toMatchObject({ rekeyTime: 14400, reauthTime: 0, unique: 'UNIQUE_NO', dpdDelay: 30 });
    expect(formatListConn(decodeMessage(encodeMessage(listConnEvent(v))))).toEqual([
      'site: IKEv2, no reauthentication, rekeying every 14400s, dpd delay 30s',
      '  local:  10.0.0.1',
      '  remote: 10.0.0.2',
      '  local pre-shared key authentication:',
      '    id: cygnet.example',
      '  remote pre-shared key authentication:',
      '    id: 10.0.0.2',
      // charon's action_names: dpd_action = clear is ACTION_NONE
      '  lan: TUNNEL, rekeying every 3600s, dpd action is none',
      '    local:  192.168.1.0/24',
      '    remote: 192.168.2.0/24',
    ]);
  });
});

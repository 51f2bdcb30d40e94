/**
 * Every IKE transform the crypto layer offers, proven by a full IKE_SA_INIT + IKE_AUTH + CHILD SA between two
 * cygnet endpoints: each encryption algorithm and key size, each integrity algorithm, each PRF, each key exchange
 * method (a covering set: every transform appears in at least one established IKE SA).
 */
import { describe, expect, it } from 'vitest';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import { makePair, crypto } from './pair.js';
import { parseProposals } from '../../src/crypto/proposals.js';

const psk = pskCredentials([{ ids: ['a.example', 'b.example'], secret: 'every suite' }]);

const ENCR = ['aes128', 'aes192', 'aes256', 'aes128ctr', 'aes192ctr', 'aes256ctr', '3des'].map((e) => `${e}-sha256-x25519`).concat(
  ['gcm8', 'gcm12', 'gcm16', 'ccm8', 'ccm12', 'ccm16'].flatMap((m) => [128, 192, 256].map((k) => `aes${k}${m}-prfsha256-x25519`)),
  ['chacha20poly1305-prfsha256-x25519'],
);
const INTEG = ['sha1', 'aesxcbc', 'aescmac', 'sha256', 'sha384', 'sha512'].map((i) => `aes128-${i}-x25519`);
const PRF = ['prfsha1', 'prfaesxcbc', 'prfaescmac', 'prfsha256', 'prfsha384', 'prfsha512'].map((p) => `aes128gcm16-${p}-x25519`);
const KE = ['modp1024', 'modp1536', 'modp2048', 'modp3072', 'modp4096', 'modp6144', 'modp8192', 'modp1024s160', 'modp2048s224', 'modp2048s256', 'ecp256', 'ecp384', 'ecp521', 'ecp224bp', 'ecp256bp', 'ecp384bp', 'ecp512bp', 'curve25519', 'curve448'].map((g) => `aes128gcm16-prfsha256-${g}`);

function establish(ike: string) {
  const mk = (l: string, r: string, addr?: string) =>
    connection({ name: 'gw', proposals: ike, remoteAddrs: addr ? [addr] : ['%any'], local: { id: l }, remote: { id: r }, children: [child('net', { localTs: ['10.1.0.0/16'], remoteTs: ['10.2.0.0/16'], espProposals: 'aes128gcm16' })] });
  const mkr = (l: string, r: string) => connection({ name: 'gw', proposals: ike, local: { id: l }, remote: { id: r }, children: [child('net', { localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'], espProposals: 'aes128gcm16' })] });
  const { sim, a, b } = makePair({ connections: [mk('a.example', 'b.example', '192.0.2.2')], credentials: psk }, { connections: [mkr('b.example', 'a.example')], credentials: psk });
  a.ep.initiate('gw', 0);
  sim.runUntil(() => b.events.some((e) => e.type === 'child-install') && a.events.some((e) => e.type === 'child-install'), { maxTime: 60_000 });
  return { a, b };
}

const ran: string[] = [];
const skipped: string[] = [];

describe.each([
  ['encryption', ENCR],
  ['integrity', INTEG],
  ['PRF', PRF],
  ['key exchange', KE],
])('every %s transform', (_kind, list) => {
  it.each(list)('%s', (ike) => {
    const group = parseProposals(ike, 'ike')[0]!.ke[0]!;
    if (!crypto.hasKeyExchange(group)) {
      skipped.push(`${ike} (no backend has KE group ${group})`);
      console.log(`suites: skipped ${ike}: no available crypto backend implements key exchange group ${group}`);
      return;
    }
    const { a, b } = establish(ike);
    const ua = a.events.find((e) => e.type === 'ike-up');
    const ub = b.events.find((e) => e.type === 'ike-up');
    expect(ua, `${ike}: ${a.logs.slice(-3).join(' | ')}`).toBeTruthy();
    expect(ub).toBeTruthy();
    expect(a.events.filter((e) => e.type === 'child-install')).toHaveLength(1);
    ran.push(ike);
  });
});

it('covered every transform', () => {
  console.log(`suites: ${ran.length} IKE suites established${skipped.length ? `, skipped: ${skipped.join('; ')}` : ''}`);
  expect(ran.length + skipped.length).toBe(ENCR.length + INTEG.length + PRF.length + KE.length);
});

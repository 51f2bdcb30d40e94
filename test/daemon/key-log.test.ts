import { describe, expect, it } from 'vitest';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import { makePair, crypto } from '../ike/pair.js';
import { keyLogLines } from '../../src/daemon/key-log.js';
import { keysFromJsonLines } from '../interop/lib/keys.js';
import { decodeMessage, decryptSK } from '../../src/ike/codec/index.js';
import { createEncryption, createIntegrity } from '../../src/crypto/suite.js';

const psk = pskCredentials([{ ids: ['a.example', 'b.example'], secret: 'keys' }]);

describe('key log', () => {
  it.each(['aes128gcm16-prfsha256-x25519', 'aes256-sha256-modp2048'])('exports keys that decrypt the captured IKE_AUTH (%s)', (proposals) => {
    const mk = (l: string, r: string, addr?: string) => connection({ name: 'gw', proposals, remoteAddrs: addr ? [addr] : ['%any'], local: { id: l }, remote: { id: r }, children: [child('net', { localTs: ['10.1.0.0/16'], remoteTs: ['10.2.0.0/16'] })] });
    const mkr = (l: string, r: string) => connection({ name: 'gw', proposals, local: { id: l }, remote: { id: r }, children: [child('net', { localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'] })] });
    const { sim, net, a, b } = makePair({ connections: [mk('a.example', 'b.example', '192.0.2.2')], credentials: psk }, { connections: [mkr('b.example', 'a.example')], credentials: psk }, { settings: { exportKeys: true } });
    a.ep.initiate('gw', 0);
    sim.runUntil(() => b.events.some((e) => e.type === 'child-install') && a.events.some((e) => e.type === 'child-install'), { maxTime: 60_000 });
    const lines = a.events.flatMap(keyLogLines).join('\n');
    const { ike, esp, errors } = keysFromJsonLines(lines);
    expect(errors).toEqual([]);
    expect(ike).toHaveLength(1);
    expect(esp).toHaveLength(2);
    // The IKE_AUTH request (third datagram, on 4500 after the marker) decrypts with SK_ei/SK_ai from the log alone.
    const authReq = net.captured({ event: 'send' })[2]!.bytes.subarray(4);
    const m = decodeMessage(authReq);
    expect(m.ok).toBe(true);
    const k = ike[0]!;
    const set = a.ep.ikeSa(a.ep.listSas()[0]!.sa.id)!.set!;
    const encryption = createEncryption(set.encr, k.encrKeyBits, Buffer.from(k.skEi, 'hex'), crypto);
    const integrity = k.integ ? createIntegrity(set.integ!, Buffer.from(k.skAi!, 'hex'), crypto) : undefined;
    const opened = decryptSK(authReq, m.ok ? m.value : (undefined as never), integrity ? { encryption, integrity } : { encryption });
    expect(opened.ok && opened.value.map((p) => p.type)).toEqual([35, 41, 36, 39, 33, 44, 45]);
    // The ESP lines name both directions with the addresses a capture shows.
    expect(esp.map((e) => `${e.src}>${e.dst}`).sort()).toEqual(['192.0.2.1>192.0.2.2', '192.0.2.2>192.0.2.1']);
    expect(b.events.some((e) => e.type === 'ike-keys')).toBe(true);
  });

  it('exports nothing without settings.exportKeys', () => {
    const mk = (l: string, r: string, addr?: string) => connection({ name: 'gw', remoteAddrs: addr ? [addr] : ['%any'], local: { id: l }, remote: { id: r }, children: [child('net')] });
    const { sim, a } = makePair({ connections: [mk('a.example', 'b.example', '192.0.2.2')], credentials: psk }, { connections: [mk('b.example', 'a.example')], credentials: psk });
    a.ep.initiate('gw', 0);
    sim.runUntil(() => a.events.some((e) => e.type === 'ike-up'), { maxTime: 60_000 });
    expect(a.events.some((e) => e.type === 'ike-keys')).toBe(false);
  });
});

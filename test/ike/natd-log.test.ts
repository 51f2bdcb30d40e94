/**
 * "remote host is behind NAT" (RFC 7296 2.23) only when a NAT is the likely cause of the peer's mismatching
 * NAT_DETECTION_SOURCE_IP: not for a peer on our own address, nor for one whose IP-address ID is the address it
 * sends from (it forces UDP encapsulation, as cygnet's default encap = yes and strongSwan's encap = yes do).
 */
import { describe, expect, it } from 'vitest';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import type { IkeEvent } from '../../src/ike/events.js';
import { parseIdentity } from '../../src/ike/identity.js';
import { remoteNatExplanation } from '../../src/ike/natd.js';
import { makePair, type Side } from './pair.js';

const of = <T extends IkeEvent['type']>(s: Side, t: T) => s.events.filter((e): e is Extract<IkeEvent, { type: T }> => e.type === t);
const at = (address: string, port = 500) => ({ address, port });
const behind = (s: Side) => s.logs.filter((l) => l.includes('remote host is behind NAT'));

describe('remoteNatExplanation', () => {
  it('a peer on our own address cannot be behind a NAT', () => {
    expect(remoteNatExplanation(at('192.0.2.1'), at('192.0.2.1', 4500))).toMatch(/shares our address.*force UDP encapsulation/);
    expect(remoteNatExplanation(at('fd00::1'), at('fd00:0::1'))).toMatch(/shares our address/);
  });
  it('a peer whose IP-address ID is the address it sends from is not behind a NAT', () => {
    expect(remoteNatExplanation(at('192.0.2.1'), at('192.0.2.2'), parseIdentity('192.0.2.2'))).toMatch(/claims the address it sends from \(192\.0\.2\.2\)/);
    expect(remoteNatExplanation(at('fd00::1'), at('fd00::2'), parseIdentity('fd00::2'))).toMatch(/claims the address/);
  });
  it('otherwise a NAT is the likely cause: another address ID, a name, no ID yet', () => {
    expect(remoteNatExplanation(at('192.0.2.1'), at('198.51.100.7'), parseIdentity('10.0.0.5'))).toBeUndefined();
    expect(remoteNatExplanation(at('192.0.2.1'), at('198.51.100.7'), parseIdentity('carol@example.org'))).toBeUndefined();
    expect(remoteNatExplanation(at('192.0.2.1'), at('198.51.100.7'))).toBeUndefined();
    // An IPv4 ID never equals an IPv6 source, whatever the bytes.
    expect(remoteNatExplanation(at('::1'), at('::c000:202'), parseIdentity('192.0.2.2'))).toBeUndefined();
  });
});

describe('the log on the wire', () => {
  const net = (l: string, r: string) => child('net', { localTs: [l], remoteTs: [r] });
  const run = (o: { ids: boolean; encap: boolean; nat?: boolean }) => {
    const psk = pskCredentials([{ ids: o.ids ? ['moon.example', 'sun.example'] : ['10.0.0.5', '192.0.2.1', '192.0.2.2'], secret: 'natd' }]);
    const aAddr = o.nat ? '10.0.0.5' : '192.0.2.1';
    const a = connection({ name: 'gw', encap: o.encap, localAddrs: [aAddr], remoteAddrs: ['192.0.2.2'], ...(o.ids ? { local: { id: 'sun.example' }, remote: { id: 'moon.example' } } : {}), children: [net('10.2.0.0/16', '10.1.0.0/16')] });
    const b = connection({ name: 'gw', encap: false, ...(o.ids ? { local: { id: 'moon.example' }, remote: { id: 'sun.example' } } : {}), children: [net('10.1.0.0/16', '10.2.0.0/16')] });
    const p = makePair({ connections: [a], credentials: psk, address: aAddr }, { connections: [b], credentials: psk, address: '192.0.2.2' });
    if (o.nat) p.net.addNat('home', { publicAddress: '192.0.2.1', inside: ['10.0.0.5'], mappingTimeout: 120_000 });
    p.a.ep.initiate('gw', 0);
    expect(p.sim.runUntil(() => of(p.a, 'child-install').length > 0 && of(p.b, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    return p;
  };
  it('a forcing peer with its address as ID: no "behind NAT", the reason instead; still UDP-encapsulated', () => {
    const { b } = run({ ids: false, encap: true });
    expect(behind(b)).toEqual([]);
    expect(b.logs.filter((l) => l.includes('claims the address it sends from (192.0.2.1)'))).toHaveLength(1);
    expect(b.ep.listSas()[0]!.sa.natDetected.remote).toBe(true);
  });
  it('a real NAT with the private address as ID: logged once', () => {
    const { b } = run({ ids: false, encap: false, nat: true });
    expect(behind(b)).toHaveLength(1);
    expect(b.logs.some((l) => l.includes('claims the address'))).toBe(false);
  });
  it('a forcing peer with a name as ID cannot be told from a NAT (RFC 7296 2.23): logged, as strongSwan does', () => {
    const { b } = run({ ids: true, encap: true });
    expect(behind(b)).toHaveLength(1);
  });
  it('an initiator that does not know its source address says why the peer will see a NAT', () => {
    const psk = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'natd' }]);
    const mk = (l: string, r: string, ts: [string, string], remoteAddrs?: string[]) =>
      connection({ name: 'gw', encap: false, ...(remoteAddrs ? { remoteAddrs } : {}), local: { id: l }, remote: { id: r }, children: [net(...ts)] });
    const p = makePair({ connections: [mk('sun.example', 'moon.example', ['10.2.0.0/16', '10.1.0.0/16'], ['192.0.2.2'])], credentials: psk }, { connections: [mk('moon.example', 'sun.example', ['10.1.0.0/16', '10.2.0.0/16'])], credentials: psk });
    p.a.ep.initiate('gw', 0);
    expect(p.sim.runUntil(() => of(p.b, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    expect(p.a.logs.filter((l) => l.includes('our source address is unknown (0.0.0.0)'))).toHaveLength(1);
    expect(behind(p.b)).toHaveLength(1);
  });
  it('no mismatch, no log', () => {
    const { a, b } = run({ ids: true, encap: false });
    expect(behind(a)).toEqual([]);
    expect(behind(b)).toEqual([]);
    expect(b.ep.listSas()[0]!.sa.natDetected.remote).toBe(false);
  });
});

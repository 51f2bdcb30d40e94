/**
 * Unique IKE SAs per peer identity (strongSwan's `unique = no|never|replace|keep`, its ike_sa_manager
 * check_uniqueness) and INITIAL_CONTACT (RFC 7296 2.4), at the responder 'sun' that holds an IKE SA with
 * moon.example when a second IKE_AUTH of that identity arrives:
 *  - restart: a fresh moon at another address, INITIAL_CONTACT in its IKE_AUTH (it holds no SA with sun);
 *  - elsewhere: another host with moon's identity, no INITIAL_CONTACT (it holds an SA of the connection already);
 *  - same host: moon itself starts a second IKE SA (a reauthentication, make-before-break), no INITIAL_CONTACT.
 * strongSwan: INITIAL_CONTACT destroys the old SAs at once unless unique = never; replace deletes them otherwise;
 * keep refuses a duplicate from another address but lets one from the same address through (a possible
 * reauthentication); no and never keep both.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random.js';
import { createProvider } from '../crypto/provider.js';
import { hostIkeNode, SimNetwork, Simulation } from '../sim/index.js';
import type { IkeConnectionConfig } from './config.js';
import { child, connection, pskCredentials } from './config-builder.js';
import { IkeEndpoint } from './endpoint.js';
import type { IkeEvent } from './events.js';

type UniquePolicy = IkeConnectionConfig['unique'];

const credentials = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'unique ids' }]);
const crypto = createProvider();
const SUN = '192.0.2.2';

interface Node {
  readonly ep: IkeEndpoint;
  readonly events: IkeEvent[];
  readonly logs: string[];
}

function moonConn(): IkeConnectionConfig {
  return connection({
    name: 'gw', proposals: 'aes128gcm16-prfsha256-x25519', remoteAddrs: [SUN], local: { id: 'moon.example' }, remote: { id: 'sun.example' },
    children: [child('net', { localTs: ['10.1.0.0/16'], remoteTs: ['10.2.0.0/16'], espProposals: 'aes128gcm16' })],
  });
}

function sunConn(unique: UniquePolicy): IkeConnectionConfig {
  return connection({
    name: 'gw', proposals: 'aes128gcm16-prfsha256-x25519', remoteAddrs: ['%any'], local: { id: 'sun.example' }, remote: { id: 'moon.example' }, unique,
    children: [child('net', { localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'], espProposals: 'aes128gcm16' })],
  });
}

function world(unique: UniquePolicy) {
  const net = new SimNetwork({ random: seededRandom(4), impairment: { delay: 5 } });
  const sim = new Simulation({ network: net });
  let seed = 40;
  const add = (address: string, conn: IkeConnectionConfig): Node => {
    const ep = new IkeEndpoint({ connections: [conn], credentials, crypto, random: seededRandom(seed++), settings: {} });
    const n: Node = { ep, events: [], logs: [] };
    hostIkeNode(sim, net, ep, address, { onEvent: (e) => (e.type === 'log' ? n.logs.push(e.message) : n.events.push(e)) });
    return n;
  };
  const sun = add(SUN, sunConn(unique));
  const moon = add('192.0.2.1', moonConn());
  const up = (n: Node): number => n.ep.listSas().filter((s) => s.sa.state === 'ESTABLISHED' && s.children.length > 0).length;
  moon.ep.initiate('gw', sim.now);
  expect(sim.runUntil(() => up(moon) === 1 && up(sun) === 1, { maxTime: 10_000 }).ok).toBe(true);
  const first = sun.ep.listSas()[0]!.sa.spiI;
  /** sun's established IKE SAs (initiator SPIs), after things settled. */
  const sunSas = (): string[] => {
    sim.runFor(5000);
    return sun.ep.listSas().filter((s) => s.sa.state === 'ESTABLISHED').map((s) => String(s.sa.spiI));
  };
  return {
    sim, sun, moon, first: String(first), sunSas,
    /** A fresh moon at 192.0.2.3: a restarted peer, INITIAL_CONTACT in its IKE_AUTH. */
    restart(): Node {
      const m = add('192.0.2.3', moonConn());
      m.ep.initiate('gw', sim.now);
      return m;
    },
    /** Another host with moon's identity that holds an SA of the connection (with a decoy): no INITIAL_CONTACT. */
    elsewhere(): Node {
      add('192.0.2.5', sunConn('no'));
      const m = add('192.0.2.4', moonConn());
      m.ep.initiate('gw', sim.now, { remote: { address: '192.0.2.5', port: 500 } });
      expect(sim.runUntil(() => up(m) === 1, { maxTime: 10_000 }).ok).toBe(true);
      m.ep.initiate('gw', sim.now);
      return m;
    },
    /** moon itself starts a second IKE SA (as a reauthentication would): no INITIAL_CONTACT. */
    sameHost(): Node {
      moon.ep.initiate('gw', sim.now);
      return moon;
    },
  };
}

/** The IKE_AUTH requests a node sent: with INITIAL_CONTACT or not, in order. */
const ics = (n: Node): boolean[] => n.logs.filter((l) => /sending IKE_AUTH request 1 \[/.test(l)).map((l) => l.includes('N(INIT_CONTACT)'));
const authFailed = (n: Node) => n.events.filter((e) => e.type === 'auth-failed');

describe('unique and INITIAL_CONTACT at the responder (strongSwan check_uniqueness)', () => {
  it.each(['no', 'replace', 'keep'] as const)('unique = %s: a restarted peer with INITIAL_CONTACT replaces the old SAs at once', (unique) => {
    const w = world(unique);
    const m = w.restart();
    const sas = w.sunSas();
    expect(ics(m)).toEqual([true]);
    expect(sas).toHaveLength(1);
    expect(sas[0]).not.toBe(w.first);
    expect(w.sun.logs.some((l) => /deleting stale IKE_SA gw\[\d+\]: peer sent INITIAL_CONTACT/.test(l))).toBe(true);
    expect(authFailed(w.sun)).toEqual([]);
  });

  it('unique = never: INITIAL_CONTACT is ignored, both SAs stay (until DPD)', () => {
    const w = world('never');
    const m = w.restart();
    expect(w.sunSas()).toHaveLength(2);
    expect(ics(m)).toEqual([true]);
  });

  it.each([
    ['no', 2, false],
    ['never', 2, false],
    ['replace', 1, false],
    ['keep', 1, true],
  ] as const)('unique = %s: a duplicate from another host without INITIAL_CONTACT leaves %i SA(s), refused: %s', (unique, count, refused) => {
    const w = world(unique);
    const m = w.elsewhere();
    const sas = w.sunSas();
    // Its SA with the decoy made it send none to sun.
    expect(ics(m)).toEqual([true, false]);
    expect(sas).toHaveLength(count);
    if (refused) {
      // keep: the first SA stays, the newcomer is told AUTHENTICATION_FAILED.
      expect(sas).toEqual([w.first]);
      expect(authFailed(w.sun)).toHaveLength(1);
      expect(m.logs.some((l) => /AUTHENTICATION_FAILED/.test(l))).toBe(true);
    } else if (unique === 'replace') {
      expect(sas[0]).not.toBe(w.first);
    }
  });

  it.each([
    ['no', 2],
    ['never', 2],
    ['replace', 1],
    ['keep', 2],
  ] as const)('unique = %s: a second IKE SA from the same host (a reauthentication) leaves %i SA(s), never refused', (unique, count) => {
    const w = world(unique);
    w.sameHost();
    const sas = w.sunSas();
    expect(sas).toHaveLength(count);
    expect(authFailed(w.sun)).toEqual([]);
    expect(ics(w.moon)).toEqual([true, false]);
  });
});

/**
 * IkeViciBackend over two real IKE endpoints (datagrams handed across in-process, time passed in): the events
 * swanctl --monitor-sa and other vici clients receive (ike-updown, child-updown, child-rekey, ike-rekey, in
 * charon's layouts), charon's counters from the messages and rekeys, and the daemon hooks the configuration and
 * query commands delegate to.
 */
import { describe, expect, it } from 'vitest';
import { IkeEndpoint } from '../../src/ike/endpoint.js';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import { createProvider } from '../../src/crypto/provider.js';
import { seededRandom } from '../../src/crypto/random.js';
import { IkeViciBackend } from '../../src/vici/ike-backend.js';
import type { ViciInput, ViciInputValue } from '../../src/vici/message.js';
import type { ViciStore } from '../../src/vici/store.js';

const psk = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'v+NkxY9LLZvwj4qCC2o/gGrWDF2d21jL' }]);
const crypto = createProvider();

function site(localId: string, remoteId: string, remoteAddr: string | undefined, localTs: string, remoteTs: string) {
  return connection({
    name: 'gw',
    ...(remoteAddr ? { localAddrs: ['192.0.2.1'] } : {}),
    proposals: 'aes128gcm16-prfsha256-x25519',
    remoteAddrs: remoteAddr ? [remoteAddr] : ['%any'],
    local: { id: localId },
    remote: { id: remoteId },
    children: [child('net', { localTs: [localTs], remoteTs: [remoteTs], espProposals: 'aes128gcm16' })],
  });
}

/** A (initiator, behind the backend) and B; `pump` moves datagrams and events until both are quiet. */
function setup() {
  let now = 1000;
  const a = new IkeEndpoint({ connections: [site('moon.example', 'sun.example', '192.0.2.2', '10.1.0.0/16', '10.2.0.0/16')], credentials: psk, crypto, random: seededRandom(11) });
  const b = new IkeEndpoint({ connections: [site('sun.example', 'moon.example', undefined, '10.2.0.0/16', '10.1.0.0/16')], credentials: psk, crypto, random: seededRandom(12) });
  const events: { name: string; msg: ViciInput }[] = [];
  let applied: ViciStore | undefined;
  const backend = new IkeViciBackend(
    {
      initiate: (conn, c) => a.initiate(conn, now, c !== undefined ? { child: c } : {}),
      terminateIke: (id) => a.terminateIke(id, now),
      terminateChild: (id) => a.terminateChild(id, now),
      rekeyIke: (id, reauth) => a.rekeyIke(id, now, { reauth }),
      rekeyChild: (id) => a.rekeyChild(id, now),
      listSas: () => a.listSas(),
      connections: () => a.connections(),
      reload: () => ({ success: true }),
      now: () => now,
      applyVici: (store) => {
        applied = store;
        return { success: true };
      },
      pools: () => [{ name: 'rw', base: '10.3.0.1', size: 254, online: 0, offline: 0 }],
      policies: () => [{ ike: 'gw', child: 'net', mode: 'TUNNEL', localTs: ['10.1.0.0/16'], remoteTs: ['10.2.0.0/16'] }],
    },
    { version: '0.1.0' },
  );
  backend.attach({
    emit: (name, msg) => {
      events.push({ name, msg });
      return 1;
    },
    listeners: () => 1,
  });
  const pump = (): void => {
    for (let moved = true; moved; ) {
      moved = false;
      for (const [from, to, mine] of [[a, b, true], [b, a, false]] as const) {
        for (let t = from.pollTransmit(); t; t = from.pollTransmit()) {
          if (mine) backend.onIkeMessage('out', t.data);
          to.receive(t.data, t.remote, t.local, now);
          if (!mine) backend.onIkeMessage('in', t.data);
          moved = true;
        }
      }
      for (let e = a.pollEvent(); e; e = a.pollEvent()) {
        backend.onEvent(e);
        moved = true;
      }
      while (b.pollEvent()) moved = true;
    }
  };
  const tick = (ms: number): void => {
    now += ms;
    for (const ep of [a, b]) {
      const d = ep.nextTimeout();
      if (d !== undefined && d <= now) ep.handleTimeout(now);
    }
    pump();
  };
  return { a, b, backend, events, pump, tick, applied: () => applied };
}

const section = (m: ViciInput, k: string): ViciInput => m[k] as ViciInput;
const value = (m: ViciInput, k: string): ViciInputValue => m[k] as ViciInputValue;

describe('IkeViciBackend events and counters over the real IKE endpoint', () => {
  it('raises ike-updown, child-updown, child-rekey, ike-rekey as charon lays them out, and counts messages and rekeys', async () => {
    const t = setup();
    const up = t.backend.initiate({ child: 'net', timeoutMs: 0, logLevel: 1, onLog: () => {}, signal: new AbortController().signal });
    t.pump();
    expect(await up).toEqual({ success: true });

    const names = t.events.map((e) => e.name);
    expect(names).toEqual(['ike-updown', 'child-updown']);
    const ikeUp = t.events[0]!.msg;
    expect(value(ikeUp, 'up')).toBe('yes');
    expect(section(ikeUp, 'gw')).toMatchObject({ state: 'ESTABLISHED', 'local-id': 'moon.example', 'remote-id': 'sun.example', initiator: 'yes' });
    const childUp = section(t.events[1]!.msg, 'gw');
    const [childKey] = Object.keys(section(childUp, 'child-sas'));
    expect(childKey).toMatch(/^net-\d+$/);
    expect(section(section(childUp, 'child-sas'), childKey!)).toMatchObject({ name: 'net', state: 'INSTALLED', mode: 'TUNNEL', protocol: 'ESP' });

    // IKE_SA_INIT and IKE_AUTH, one request out and one response in each, under the connection's name.
    const c1 = t.backend.counters.get('gw')!;
    expect(c1).toMatchObject({ 'ike-init-out-req': 1, 'ike-init-in-resp': 1, 'ike-auth-out-req': 1, 'ike-auth-in-resp': 1, 'child-rekey': 0 });
    expect(t.backend.counters.get()!['ike-init-out-req']).toBe(1);

    // CHILD_SA rekey: child-rekey with old and new, no child-updown for the replaced SA.
    t.events.length = 0;
    const { children } = t.a.listSas()[0]!;
    expect(t.backend.rekey({ childId: children[0]!.id, reauth: false })).toEqual({ success: true, matches: 1 });
    t.pump();
    t.tick(3000);
    expect(t.events.map((e) => e.name)).toEqual(['child-rekey']);
    const rekeyed = section(section(t.events[0]!.msg, 'gw'), 'child-sas');
    const entry = section(rekeyed, Object.keys(rekeyed)[0]!);
    expect(Object.keys(entry)).toEqual(['old', 'new']);
    expect(value(section(entry, 'old'), 'spi-in')).not.toBe(value(section(entry, 'new'), 'spi-in'));
    expect(t.backend.counters.get('gw')).toMatchObject({ 'child-rekey': 1, 'create-child-out-req': 1, 'create-child-in-resp': 1, 'info-out-req': 1 });

    // IKE_SA rekey initiated here: ike-rekey { old, new }, counted as ike-rekey-init.
    t.events.length = 0;
    const { sa } = t.a.listSas()[0]!;
    expect(t.backend.rekey({ ikeId: sa.id, reauth: false })).toEqual({ success: true, matches: 1 });
    t.pump();
    t.tick(3000);
    expect(t.events.map((e) => e.name)).toEqual(['ike-rekey']);
    const ikeRekey = section(t.events[0]!.msg, 'gw');
    expect(value(section(ikeRekey, 'old'), 'uniqueid')).toBe(sa.id);
    expect(value(section(ikeRekey, 'new'), 'uniqueid')).not.toBe(sa.id);
    expect(t.backend.counters.get('gw')).toMatchObject({ 'ike-rekey-init': 1, 'ike-rekey-resp': 0, 'create-child-out-req': 2 });

    // Terminate: the CHILD_SA goes down with its IKE_SA, then the IKE_SA.
    t.events.length = 0;
    const { sa: sa2 } = t.a.listSas()[0]!;
    const down = t.backend.terminate({ ikeId: sa2.id, force: false, timeoutMs: 0, logLevel: 1, onLog: () => {}, signal: new AbortController().signal });
    t.pump();
    expect(await down).toEqual({ success: true, matches: 1 });
    expect(t.events.map((e) => e.name)).toEqual(['child-updown', 'ike-updown']);
    expect(value(t.events[0]!.msg, 'up')).toBeUndefined();
    expect(value(t.events[1]!.msg, 'up')).toBeUndefined();
    expect(Object.keys(t.events[1]!.msg)).toEqual(['gw']);
  });

  it('raises ike-update as charon lays it out when the peer moved behind its NAT (RFC 7296 2.23)', async () => {
    const t = setup();
    const up = t.backend.initiate({ child: 'net', timeoutMs: 0, logLevel: 1, onLog: () => {}, signal: new AbortController().signal });
    t.pump();
    expect(await up).toEqual({ success: true });
    t.events.length = 0;
    // The endpoint's event for a NAT mapping change (endpoint followPeer, covered in test/ike/features.test.ts).
    const { sa, children } = t.a.listSas()[0]!;
    const moved = { ...sa, remote: { address: '198.51.100.9', port: 61234 } };
    t.backend.onEvent({ type: 'ike-address-change', sa: moved, children });
    expect(t.events.map((e) => e.name)).toEqual(['ike-update']);
    const msg = t.events[0]!.msg;
    // vici_query.c ike_update: the new endpoints first, then the IKE_SA under its name.
    expect(Object.keys(msg)).toEqual(['local-host', 'local-port', 'remote-host', 'remote-port', 'gw']);
    expect(msg).toMatchObject({ 'local-host': sa.local.address, 'local-port': sa.local.port, 'remote-host': '198.51.100.9', 'remote-port': 61234 });
    expect(section(msg, 'gw')).toMatchObject({ state: 'ESTABLISHED', 'remote-host': '198.51.100.9', 'remote-port': 61234 });
  });

  it('counts datagrams that are not IKE as invalid, globally', () => {
    const t = setup();
    t.backend.onIkeMessage('invalid', Uint8Array.of(1, 2, 3));
    expect(t.backend.counters.get()!.invalid).toBe(1);
    expect(t.backend.counters.names()).toEqual([]);
  });

  it('passes applyVici, pools and policies through from the daemon', async () => {
    const t = setup();
    const { ViciStore } = await import('../../src/vici/store.js');
    const store = new ViciStore();
    expect(await t.backend.applyVici!(store)).toEqual({ success: true });
    expect(t.applied()).toBe(store);
    expect(t.backend.pools!()).toEqual([{ name: 'rw', base: '10.3.0.1', size: 254, online: 0, offline: 0 }]);
    expect(t.backend.policies!()[0]).toMatchObject({ ike: 'gw', child: 'net' });
    expect(t.backend.install).toBeUndefined();
  });
});

/** Local addresses that appear and go (issue 15): the core names the IKE SAs using an address that went. */
import { describe, expect, it } from 'vitest';
import { child, connection, pskCredentials } from '../ike/config-builder.js';
import type { GatewayEvent } from './gateway.js';
import { gatewayPair } from './testing.js';

const credentials = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'addresses' }]);
const conn = (me: string, peer: string, local: string, remote: string) =>
  connection({ name: 'gw', proposals: 'aes128gcm16-prfsha256-x25519', localAddrs: [local], remoteAddrs: [remote], local: { id: me }, remote: { id: peer }, children: [child('net', { espProposals: 'aes128gcm16' })] });

describe('gateway core: local addresses that go and come', () => {
  it('an address that goes is logged with the IKE SAs using it and reported as a local-address event', () => {
    const { sim, a, b } = gatewayPair(
      { address: '192.0.2.1', connections: [conn('moon.example', 'sun.example', '192.0.2.1', '192.0.2.2')], startChildren: [{ conn: 'gw', child: 'net' }] },
      { address: '192.0.2.2', connections: [conn('sun.example', 'moon.example', '192.0.2.2', '%any')] },
      { credentials },
    );
    a.gateway.start(sim.now);
    b.gateway.start(sim.now);
    expect(sim.runUntil(() => a.gateway.endpoint.listSas()[0]?.sa.state === 'ESTABLISHED', { maxTime: 10_000 }).ok).toBe(true);
    const id = a.gateway.endpoint.listSas()[0]!.sa.id;
    expect(a.gateway.localAddressGone('192.0.2.1', sim.now, 'link eth0 down')).toEqual([id]);
    expect(a.gateway.localAddressGone('198.51.100.1', sim.now)).toEqual([]);
    a.gateway.localAddressAdded('198.51.100.1', sim.now, 'RTM_NEWADDR on eth1');
    sim.runFor(10);
    const ev = a.events.filter((e): e is Extract<GatewayEvent, { type: 'local-address' }> => e.type === 'local-address');
    expect(ev).toEqual([
      { type: 'local-address', address: '192.0.2.1', present: false, why: 'link eth0 down', ikeSaIds: [id] },
      { type: 'local-address', address: '198.51.100.1', present: false, why: 'address removed', ikeSaIds: [] },
      { type: 'local-address', address: '198.51.100.1', present: true, why: 'RTM_NEWADDR on eth1', ikeSaIds: [] },
    ]);
    expect(a.logs).toContain(`knl1 local address 192.0.2.1 gone (link eth0 down): used by IKE_SA gw[${id}]`);
  });
});

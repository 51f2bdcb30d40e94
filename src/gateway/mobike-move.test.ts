/** moveAway (local-address.ts): a gone local address moves MOBIKE initiator SAs to the routing table's source (RFC 4555 3.5). */
import { describe, expect, it } from 'vitest';
import type { IkeEndpoint } from '../ike/endpoint.js';
import type { GatewayNet } from './contracts.js';
import { moveAway } from './local-address.js';

describe('moveAway', () => {
  it('asks the endpoint to move each SA using the gone address to the new source; not to the gone one', () => {
    const calls: [number, string][] = [];
    const endpoint = {
      ikeSa: (id: number) => ({ id, name: 'road', remote: { address: '203.0.113.2', port: 4500 } }),
      mobikeUpdate: (id: number, local: string) => {
        calls.push([id, local]);
        return id !== 3;
      },
      reauthenticateFrom: () => false,
      peerAdditionalAddresses: () => [],
    } as unknown as IkeEndpoint;
    const logs: string[] = [];
    const ev = { type: 'local-address' as const, address: '192.0.2.10', present: false, why: 'address removed', ikeSaIds: [1, 3] };
    moveAway(endpoint, { sourceFor: () => '198.51.100.10' } as unknown as GatewayNet, ev, 0, (_g, _l, m) => logs.push(m));
    expect(calls).toEqual([[1, '198.51.100.10'], [3, '198.51.100.10']]);
    expect(logs).toEqual(['IKE_SA road[1]: local address 192.0.2.10 gone, moving to 198.51.100.10 (MOBIKE)']);
    calls.length = 0;
    moveAway(endpoint, { sourceFor: () => '192.0.2.10' } as unknown as GatewayNet, ev, 0, () => {});
    moveAway(endpoint, {} as GatewayNet, ev, 0, () => {});
    expect(calls).toEqual([]);
  });

  it('without MOBIKE, an SA we initiated is reauthenticated from the new source; one we cannot move stays', () => {
    const reauth: [number, string][] = [];
    const endpoint = {
      ikeSa: (id: number) => ({ id, name: 'road', remote: { address: '203.0.113.2', port: 4500 } }),
      mobikeUpdate: () => false,
      peerAdditionalAddresses: () => [],
      reauthenticateFrom: (id: number, local: string) => {
        reauth.push([id, local]);
        return id === 1;
      },
    } as unknown as IkeEndpoint;
    const logs: string[] = [];
    const ev = { type: 'local-address' as const, address: '192.0.2.10', present: false, why: 'RTM_DELADDR on eth0', ikeSaIds: [1, 2] };
    moveAway(endpoint, { sourceFor: () => '198.51.100.10' } as unknown as GatewayNet, ev, 0, (_g, _l, m) => logs.push(m));
    expect(reauth).toEqual([[1, '198.51.100.10'], [2, '198.51.100.10']]);
    expect(logs).toEqual(['IKE_SA road[1]: local address 192.0.2.10 gone, no MOBIKE: reauthenticating from 198.51.100.10']);
  });
});

/** remote-address.ts: where a restart goes when remote_addrs is a DNS name being re-resolved (issue 15). */
import { describe, expect, it } from 'vitest';
import { connection } from '../ike/config-builder.js';
import type { GatewayResolver } from './contracts.js';
import { restartRemote } from './remote-address.js';

describe('restartRemote', () => {
  const conn = connection({ name: 'gw', remoteAddrs: ['sun.example.net'] });
  const prev = { address: '192.0.2.2', port: 500 };

  it('with a resolution under way: the cached address meanwhile, and the answer once it comes (logged)', async () => {
    const table = new Map([['sun.example.net', '192.0.2.2']]);
    const logs: string[] = [];
    let done: () => void = () => {};
    const r: GatewayResolver = {
      lookup: (n) => table.get(n),
      refresh: (_n, o) => {
        expect(o?.force).toBe(true);
        return new Promise<void>((res) => (done = res));
      },
    };
    const out = restartRemote(conn, r, prev, (_g, _l, m) => void logs.push(m));
    if (!('fresh' in out)) throw new Error('expected a PendingRemote');
    expect(out.meanwhile).toBe(prev);
    table.set('sun.example.net', '192.0.2.20');
    done();
    expect(await out.fresh).toEqual({ address: '192.0.2.20', port: 500 });
    expect(logs).toEqual(["'gw': remote_addrs sun.example.net now resolves to 192.0.2.20 (was 192.0.2.2)"]);
  });

  it('a resolution that keeps the address, or none under way: the previous address as it is', async () => {
    const r: GatewayResolver = { lookup: () => '192.0.2.2', refresh: () => Promise.resolve() };
    const out = restartRemote(conn, r, prev, () => {});
    expect('fresh' in out && (await out.fresh)).toBe(prev);
    expect(restartRemote(conn, { lookup: () => '192.0.2.2' }, prev, () => {})).toBe(prev);
  });
});

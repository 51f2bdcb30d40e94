/**
 * The initiator's local address when local_addrs is unset or %any (issue 13): the driver's routing-table source
 * for the peer (GatewayNet.sourceFor, a fake here), as charon asks the kernel; a concrete local_addrs wins.
 */
import { describe, expect, it } from 'vitest';
import { createProvider } from '../crypto/provider.js';
import { seededRandom } from '../crypto/random.js';
import { child, connection, pskCredentials } from '../ike/config-builder.js';
import type { Address, ChildConfig } from '../ike/config.js';
import { Gateway, type GatewayNet } from './gateway.js';

const credentials = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'source address' }]);

function gateway(localAddrs: string[] | undefined, sourceFor: GatewayNet['sourceFor'] | 'none') {
  const sent: { local: Address; remote: Address }[] = [];
  const asked: string[] = [];
  const logs: string[] = [];
  const net: GatewayNet = { sendEsp: () => {}, flushEsp: () => {}, sendIke: (local, remote) => void sent.push({ local, remote }) };
  if (sourceFor !== 'none') net.sourceFor = (r) => (asked.push(r), sourceFor?.(r));
  const conn = connection({
    name: 'gw', proposals: 'aes128gcm16-prfsha256-x25519', remoteAddrs: ['192.0.2.2'], ...(localAddrs ? { localAddrs } : {}),
    local: { id: 'moon.example' }, remote: { id: 'sun.example' },
    children: [child('net', { localTs: ['10.1.0.0/16'], remoteTs: ['10.2.0.0/16'] }) as ChildConfig],
  });
  const g = new Gateway({ config: { connections: [conn], credentials, trapChildren: [], startChildren: [] }, settings: { epochOffsetMs: 0 }, crypto: createProvider(), random: seededRandom(5), net, log: (_g, _l, m) => void logs.push(m) });
  return { g, sent, asked, logs };
}

describe('gateway core: the initiator source address', () => {
  it('asks the driver for the route source of the peer when local_addrs is unset, and sends IKE_SA_INIT from it', () => {
    const { g, sent, asked } = gateway(undefined, () => '198.51.100.7');
    const id = g.initiate('gw', 0);
    expect(asked).toEqual(['192.0.2.2']);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.local).toEqual({ address: '198.51.100.7', port: 500 });
    expect(g.endpoint.listSas().find(({ sa }) => sa.id === id)!.sa.local.address).toBe('198.51.100.7');
  });

  it('does the same for local_addrs = %any', () => {
    const { g, sent } = gateway(['%any'], () => '198.51.100.7');
    g.initiate('gw', 0, 'net');
    expect(sent[0]!.local.address).toBe('198.51.100.7');
  });

  it('uses a concrete local_addrs entry without asking', () => {
    const { g, sent, asked } = gateway(['192.0.2.1'], () => '198.51.100.7');
    g.initiate('gw', 0);
    expect(asked).toEqual([]);
    expect(sent[0]!.local.address).toBe('192.0.2.1');
  });

  it('leaves the address unspecified (logged) when the driver finds no source, and when it has no resolver', () => {
    const none = gateway(undefined, () => undefined);
    none.g.initiate('gw', 0);
    expect(none.sent[0]!.local.address).toBe('0.0.0.0');
    expect(none.logs).toContain('no source address found for 192.0.2.2, leaving it to the socket layer');
    const bare = gateway(undefined, 'none');
    bare.g.initiate('gw', 0);
    expect(bare.sent[0]!.local.address).toBe('0.0.0.0');
  });

  it('throws for an unknown connection, as before', () => {
    const { g } = gateway(undefined, () => '198.51.100.7');
    expect(() => g.initiate('nope', 0)).toThrow("no connection named 'nope'");
  });
});

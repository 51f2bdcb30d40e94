/**
 * Test helper: a responder that demands COOKIEs from its first request on. cookie_threshold = 0 means "off" (as in
 * strongSwan), so tests set cookieThreshold: 1, reach it once with a half-open SA from another address, and rely on
 * the 10 s calm-down (strongSwan's COOKIE_CALMDOWN_DELAY) after that SA is gone (or keep it, with `keep`).
 */
import { IkeEndpoint } from '../../src/ike/endpoint.js';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import { createProvider } from '../../src/crypto/provider.js';
import { seededRandom } from '../../src/crypto/random.js';

/** A well-formed IKE_SA_INIT request to `to` (SPIi varies with `seed`). */
export function initRequestTo(to: string, seed = 77, proposals = 'default'): Uint8Array {
  const ep = new IkeEndpoint({
    connections: [connection({ name: 'gw', proposals, remoteAddrs: [to], children: [child('net')] })],
    credentials: pskCredentials([{ ids: [], secret: 'cookie-helper' }]),
    crypto: createProvider(),
    random: seededRandom(seed),
  });
  ep.initiate('gw', 0);
  return ep.pollTransmit()!.data;
}

/** Turns cookies on at `ep` (listening on `local`) at time `now`; needs settings.cookieThreshold = 1. */
export function cookiesOn(ep: IkeEndpoint, local: { address: string; port: number }, now = 0, o: { keep?: boolean; proposals?: string } = {}): void {
  ep.receive(initRequestTo(local.address, 78, o.proposals), local, { address: '203.0.113.250', port: 500 }, now);
  if (ep.halfOpenCount() !== 1) throw new Error('cookiesOn: the priming request made no half-open SA (proposals?)');
  ep.receive(initRequestTo(local.address, 79, o.proposals), local, { address: '203.0.113.251', port: 500 }, now);
  if (!o.keep) for (const s of ep.listSas()) ep.terminateIke(s.sa.id, now);
  while (ep.pollTransmit());
  while (ep.pollEvent());
}

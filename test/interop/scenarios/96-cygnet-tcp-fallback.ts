/**
 * RFC 9329 5.1, `encap = tcp-fallback`, cygnet <-> cygnet with UDP 500 and 4500 dropped by nftables in both
 * namespaces: IKE_SA_INIT goes out on UDP first, gets no answer, and its retransmission moves to TCP port 4500;
 * the SA comes up over TCP (logged, status transport tcp) and carries pings both ways. Then UDP is let through
 * again and a new daemon with the same configuration stays on UDP (the fallback only happens without an answer).
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { twoHosts } from '../lib/topology.js';
import { establishedCygnet } from './20-cygnet-psk-responder.js';
import { pingBoth, stopBoth, tunnel } from './95-cygnet-tcp-encap.js';

export const name = 'cygnet-tcp-fallback';
export const timeoutMs = 60_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const unblock = await Promise.all([h.left, h.right].map((host) => host.ns.block('udp dport { 500, 4500 }')));
  const fb = await tunnel(ctx, h, 'tcp-fallback', ['--retransmit-timeout', '1']);
  const line = await fb.l.peer.waitForLog(/no answer from 192\.0\.2\.2 over UDP, retransmitting over TCP port 4500 \(encap = tcp-fallback, RFC 9329 5\.1\)/, 2000);
  ctx.log(line);
  await fb.l.peer.waitForLog(/sending packet: from 192\.0\.2\.1\[500\] to 192\.0\.2\.2\[500\]/, 1000);
  await fb.l.peer.waitForLog(/IKE_SA cyg\[\d+\] established between .* over TCP 192\.0\.2\.1\[\d+\]-192\.0\.2\.2\[4500\]/, 2000);
  const fs = fb.l.status();
  assert.equal(fs && establishedCygnet(fs)?.transport, 'tcp', 'tcp-fallback ended on TCP');
  await pingBoth(h, 'after the fallback');
  await stopBoth(fb);

  for (const u of unblock) await u();
  const udp = await tunnel(ctx, h, 'tcp-fallback', ['--retransmit-timeout', '1']);
  const us = udp.l.status();
  assert.equal(us && establishedCygnet(us)?.transport, 'udp', 'with UDP answering, tcp-fallback stays on UDP');
  assert.equal((await udp.l.peer.grep(/over TCP|retransmitting over TCP/)).length, 0, 'no TCP in the log');
  await pingBoth(h, 'over UDP');
  await stopBoth(udp);
}

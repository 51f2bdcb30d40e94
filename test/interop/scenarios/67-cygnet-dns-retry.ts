/**
 * A remote_addrs DNS name re-resolved on retry (issue 15): the name in the left namespace's hosts file first
 * points where nobody answers (NOWHERE), so cygnet's IKE_SA_INIT goes unanswered; the file is then edited to give
 * strongSwan's address (a peer that moved while we were trying). With keyingtries = 0 (for ever, as strongSwan)
 * each new attempt asks getaddrinfo again, ignoring the cached answer's lifetime (a hosts-file name has no TTL),
 * and a following attempt reaches strongSwan: the SA comes up at the new address, and cygnet logs the move.
 */
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-dns-retry';
export const timeoutMs = 45_000;

const NAME = 'swan.cygnet.test';
/** On the link's subnet, no host: datagrams to it vanish (no ARP answer). */
const NOWHERE = '192.0.2.99';
const esc = (s: string): string => s.replace(/\./g, '\\.');

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const dir = `/etc/netns/${h.left.ns.name}`;
  await mkdir(dir, { recursive: true });
  ctx.defer(() => rm(dir, { recursive: true, force: true }));
  const hosts = `${dir}/hosts`;
  // Rewritten in place (same inode), so the bind mount `ip netns exec` made over /etc/hosts sees the edit.
  await writeFile(hosts, `127.0.0.1 localhost\n${NOWHERE} ${NAME}\n`);

  const base = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: 'start' });
  const theirs = mirror(base);
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }) });
  await swan.loadAll();
  const conf = pskSwanctlConf({ ...base, remoteAddrs: NAME, extra: { keyingtries: 0 } });
  // One attempt = 3 sends over 0.5 + 0.7 + 0.98 s, then the next attempt.
  const cyg = await startCygnet(ctx, h, conf, ['--retransmit-timeout', '0.5', '--retransmit-base', '1.4', '--retransmit-tries', '2']);
  await cyg.peer.waitForLog(new RegExp(`'cyg': remote_addrs ${esc(NAME)} resolved to ${esc(NOWHERE)}`), 5000);
  await cyg.peer.waitForLog(/peer not responding, trying again/, 8000);
  assert.equal((await swan.listSas()).length, 0, 'nothing reached strongSwan yet');

  await writeFile(hosts, `127.0.0.1 localhost\n${h.right.outer4} ${NAME}\n`);
  const editedAt = Date.now();
  const [ci, si] = await Promise.all([cyg.waitFor('SA established at the new address', establishedCygnet, 20_000), swan.waitEstablished('cyg', 'net', 20_000)]);
  ctx.log(`SA up ${((Date.now() - editedAt) / 1000).toFixed(1)} s after the hosts file was edited`);
  assert.equal(ci.initiator, true, 'cygnet initiated');
  assert.match(ci.remote, new RegExp(`^${esc(h.right.outer4)}\\b`), `cygnet's peer address: ${ci.remote}`);
  assert.equal(si.remoteHost, h.left.outer4);
  await cyg.peer.waitForLog(new RegExp(`remote_addrs ${esc(NAME)} now resolves to ${esc(h.right.outer4)} \\(was ${esc(NOWHERE)}\\)`), 1000);
  assert.equal((await swan.grep(/parsed IKE_SA_INIT request/)).length, 1, 'strongSwan saw exactly the attempt sent after the edit');
}

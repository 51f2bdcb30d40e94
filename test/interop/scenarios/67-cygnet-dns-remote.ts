/**
 * DNS names in remote_addrs (issue 15): cygnet's connection says `remote_addrs = %any, swan.cygnet.test` and the
 * name exists only in the left namespace's hosts file (/etc/netns/NAME/hosts, which `ip netns exec` mounts over
 * /etc/hosts). cygnet resolves it through getaddrinfo before initiating (start_action = start), as charon does,
 * and the SA comes up with strongSwan at the address the file gives. %any still lets the peer initiate from
 * anywhere (the responder part of strongSwan's `%any, name`).
 */
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { run as exec } from '../lib/exec.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-dns-remote';
export const timeoutMs = 40_000;

const NAME = 'swan.cygnet.test';

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const dir = `/etc/netns/${h.left.ns.name}`;
  await mkdir(dir, { recursive: true });
  ctx.defer(() => rm(dir, { recursive: true, force: true }));
  await writeFile(`${dir}/hosts`, `127.0.0.1 localhost\n${h.right.outer4} ${NAME}\n`);
  // The name resolves in the left namespace only: what cygnet gets can only come from that hosts file.
  const inside = await h.left.ns.exec('getent', ['hosts', NAME], { allowFail: true });
  assert.match(inside.stdout, new RegExp(`^${h.right.outer4.replace(/\./g, '\\.')}\\s+${NAME.replace(/\./g, '\\.')}`), `getent in the namespace: ${inside.stdout}${inside.stderr}`);
  const outside = await exec('getent', ['hosts', NAME], { allowFail: true });
  assert.notEqual(outside.code, 0, `${NAME} must not resolve outside the namespace`);

  const base = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: 'start' });
  const theirs = mirror(base);
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }) });
  await swan.loadAll();
  const cyg = await startCygnet(ctx, h, pskSwanctlConf({ ...base, remoteAddrs: `%any, ${NAME}` }), ['--debug', 'cfg 2, ike 2, net 2, esp 2, dmn 2']);
  const [ci, si] = await Promise.all([cyg.waitFor('SA established', establishedCygnet), swan.waitEstablished('cyg', 'net')]);
  assert.equal(ci.initiator, true, 'cygnet initiated');
  assert.match(ci.remote, new RegExp(`^${h.right.outer4.replace(/\./g, '\\.')}\\b`), `cygnet's peer address: ${ci.remote}`);
  assert.equal(si.localHost, h.right.outer4);
  assert.equal(si.remoteHost, h.left.outer4);
  await cyg.peer.waitForLog(new RegExp(`resolved ${NAME.replace(/\./g, '\\.')} to ${h.right.outer4.replace(/\./g, '\\.')}`), 1000);
  await cyg.peer.waitForLog(new RegExp(`'cyg': remote_addrs ${NAME.replace(/\./g, '\\.')} resolved to ${h.right.outer4.replace(/\./g, '\\.')}`), 1000);
}

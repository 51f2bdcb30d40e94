/**
 * Debian's swanctl configures and drives a running cygnet over vici (issue 13), as it would charon:
 *
 * - cygnet starts with an empty configuration file; `swanctl --load-all --file X` then loads the certificates
 *   (load-cert), the private key (load-key), a PSK (load-shared), an authority, a pool and two connections
 *   (load-conn), each answered as charon answers.
 * - `swanctl --log` and `swanctl --monitor-sa` run in the background from before the SA comes up.
 * - `swanctl --initiate` brings the certificate-authenticated SA up with strongSwan (control-log streamed),
 *   both sides agree on the SPIs; --list-sas, --list-conns, --list-pols (the trap policy), --list-certs,
 *   --list-authorities, --list-pools, --counters and --stats print what cygnet holds.
 * - `swanctl --rekey --child` and `--rekey --ike` rekey it; the counters count both; `--terminate` closes it.
 * - A second `--load-all` with one connection removed unloads it (get-conns / unload-conn) and keeps the SA of
 *   the unchanged one.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CYGNET_VICI_URI } from '../lib/cygnet.js';
import { waitFor } from '../lib/exec.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { swanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { certConnection, credFiles, swanPki, swanSide, CYG_ID, SWAN_ID } from './30-cygnet-certs-swanpki.js';

export const name = 'swanctl-drives-cygnet';
export const timeoutMs = 60_000;

/** A second, unused connection with a PSK and a pool: what a road-warrior responder would load. */
function roadwarrior(localAddr: string): string {
  return `connections {
  rw {
    local_addrs = ${localAddr}
    remote_addrs = %any
    pools = rw-pool
    local {
      auth = psk
      id = ${CYG_ID}
    }
    remote {
      auth = psk
      id = road@cygnet.test
    }
    children {
      road {
        local_ts = 10.1.0.0/16
      }
    }
  }
}
secrets {
  ike-road {
    id-1 = ${CYG_ID}
    id-2 = road@cygnet.test
    secret = "road-warrior-psk"
  }
}
pools {
  rw-pool {
    addrs = 10.3.0.0/24
    dns = 10.3.0.1
  }
}
`;
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const p = await swanPki(ctx, 'ecdsa256');
  // trap: the CHILD_SA's policy shows in --list-pols before and while the SA is up.
  const conn = certConnection(h, { startAction: 'trap' });
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: swanctlConf(swanSide(conn)), files: credFiles(p.swan, 'swan', p.ca.certPem), label: 'right' });
  await swan.loadAll();

  // cygnet with nothing configured: everything arrives over vici.
  const cyg = await ctx.startCygnet({ ns: h.left.ns, config: '# empty: swanctl --load-all configures this daemon\n', args: ['--debug', 'ike 1, cfg 2, net 1, esp 1, dmn 1'], ready: 'vici' });
  const none = await cyg.swanctl(['--list-conns']);
  assert.equal(none.stdout.trim(), '', `no connections before --load-all: ${none.stdout}`);

  // The swanctl directory swanctl --load-all reads (x509/, x509ca/, private/ beside swanctl.conf).
  const sdir = await ctx.subdir('swanctl-dir');
  const files = credFiles(p.cyg, 'cygnet', p.ca.certPem);
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(join(sdir, rel, '..'), { recursive: true });
    await writeFile(join(sdir, rel), content);
  }
  const authority = `authorities {\n  interop-ca {\n    cacert = ca.crt\n    crl_uris = http://crl.cygnet.test/ca.crl\n  }\n}\n`;
  const full = swanctlConf(conn) + roadwarrior(h.left.outer4) + authority;
  await writeFile(join(sdir, 'swanctl.conf'), full);

  const load = await cyg.swanctl(['--load-all', '--noprompt', '--file', join(sdir, 'swanctl.conf')]);
  ctx.log(`swanctl --load-all:\n${load.stdout}`);
  for (const re of [
    /loaded certificate from '.*x509\/cygnet\.crt'/,
    /loaded certificate from '.*x509ca\/ca\.crt'/,
    /loaded private key from '.*private\/cygnet\.key'/,
    /loaded ike secret 'ike-road'/,
    /loaded authority 'interop-ca'/,
    /loaded pool 'rw-pool'/,
    /successfully loaded 1 pools, 0 unloaded/,
    /loaded connection 'cyg'/,
    /loaded connection 'rw'/,
    /successfully loaded 2 connections, 0 unloaded/,
  ]) {
    assert.match(load.stdout, re, `swanctl --load-all output`);
  }
  // swanctl's stderr names the credential folders this directory does not have; nothing else may fail.
  const problems = load.stderr.split('\n').filter((l) => l !== '' && !/^opening directory '.*' failed: No such file or directory$/.test(l) && !/^plugin '/.test(l));
  assert.doesNotMatch(load.stdout, /failed/, load.stdout);
  assert.deepEqual(problems, [], `nothing failed to load`);

  // Streams from before the SA exists: swanctl --log and --monitor-sa inside cygnet's namespaces.
  const stream = (label: string, cmd: string) =>
    // stdbuf: swanctl printf()s into a pipe, which would hold the lines until it exits.
    ctx.spawn(h.left.ns, 'nsenter', ['-t', String(cyg.pid), '-m', '-n', 'stdbuf', '-oL', 'swanctl', cmd, '--uri', CYGNET_VICI_URI], { label });
  const logStream = stream('swanctl-log', '--log');
  const monitor = stream('swanctl-monitor-sa', '--monitor-sa');
  // Both are registered (charon's "vici client N registered for: ..." at cfg 2) before the first event.
  await cyg.waitForLog(/vici client \d+ registered for: log/, 10_000);
  await cyg.waitForLog(/vici client \d+ registered for: child-updown/, 10_000);

  const conns = await cyg.swanctl(['--list-conns']);
  assert.match(conns.stdout, /^cyg: IKEv2/m, conns.stdout);
  assert.match(conns.stdout, /^rw: IKEv2/m, conns.stdout);
  assert.match(conns.stdout, /local public key authentication:\n\s+id: cygnet@cygnet\.test/, conns.stdout);
  assert.match(conns.stdout, /remote pre-shared key authentication:\n\s+id: road@cygnet\.test/, conns.stdout);
  const polsBefore = await cyg.swanctl(['--list-pols']);
  assert.match(polsBefore.stdout, /^cyg\/net, TUNNEL$/m, `trap policy listed: ${polsBefore.stdout}`);
  // --uninstall / --install take the trap policy away and put it back (vici install/uninstall).
  const un = await cyg.swanctl(['--uninstall', '--child', 'net']);
  assert.match(un.stdout, /uninstall completed successfully/, un.stdout);
  assert.equal((await cyg.swanctl(['--list-pols'])).stdout.trim(), '', 'no policy after --uninstall');
  const inst = await cyg.swanctl(['--install', '--child', 'net']);
  assert.match(inst.stdout, /install completed successfully/, inst.stdout);
  assert.match((await cyg.swanctl(['--list-pols'])).stdout, /^cyg\/net, TUNNEL$/m, 'policy back after --install');

  const init = await cyg.initiate('net');
  ctx.log(`swanctl --initiate:\n${init.stdout}`);
  assert.match(init.stdout, /\[IKE\] .*authentication of 'swan@cygnet\.test' with .* successful/, `control-log of --initiate: ${init.stdout}`);
  assert.match(init.stdout, /CHILD_SA net\{\d+\} established/, init.stdout);
  assert.match(init.stdout, /initiate completed successfully/, init.stdout);
  const [ci, si] = await Promise.all([cyg.waitEstablished('cyg', 'net'), swan.waitEstablished('cyg', 'net')]);
  assert.equal(ci.initiatorSpi, si.initiatorSpi);
  assert.equal(ci.responderSpi, si.responderSpi);
  assert.equal(ci.children[0]!.spiIn, si.children[0]!.spiOut);
  assert.equal(ci.localId, CYG_ID);
  assert.equal(ci.remoteId, SWAN_ID);

  const sas = await cyg.swanctl(['--list-sas']);
  assert.match(sas.stdout, new RegExp(`^cyg: #\\d+, ESTABLISHED, IKEv2, ${ci.initiatorSpi}_i\\* ${ci.responderSpi}_r`, 'm'), sas.stdout);
  assert.match(sas.stdout, /^\s+net: #\d+, reqid \d+, INSTALLED, TUNNEL-in-UDP, ESP:/m, sas.stdout);
  const pols = await cyg.swanctl(['--list-pols']);
  assert.match(pols.stdout, /^cyg\/net, TUNNEL$/m, pols.stdout);
  assert.match(pols.stdout, new RegExp(`local:\\s+${h.left.inner4.replace(/\./g, '\\.')}/32`), pols.stdout);
  assert.match(pols.stdout, new RegExp(`remote:\\s+${h.right.inner4.replace(/\./g, '\\.')}/32`), pols.stdout);
  const certs = await cyg.swanctl(['--list-certs']);
  assert.match(certs.stdout, /List of X\.509 End Entity Certificates[\s\S]*subject:\s+"C=CH, O=cygnet, CN=cygnet"[\s\S]*has private key/, certs.stdout);
  assert.match(certs.stdout, /List of X\.509 CA Certificates[\s\S]*subject:\s+"C=CH, O=cygnet, CN=cygnet interop CA"/, certs.stdout);
  const auths = await cyg.swanctl(['--list-authorities']);
  assert.match(auths.stdout, /^interop-ca:\n\s+cacert: C=CH, O=cygnet, CN=cygnet interop CA\n\s+crl_uris:\s+http:\/\/crl\.cygnet\.test\/ca\.crl/m, auths.stdout);
  const pools = await cyg.swanctl(['--list-pools']);
  assert.match(pools.stdout, /^rw-pool\s+10\.3\.0\.\d+\s+0 \/ 0 \/ 254$/m, pools.stdout);
  const stats = await cyg.swanctl(['--stats']);
  assert.match(stats.stdout, /IKE_SAs: 1 total, 0 half-open/, stats.stdout);
  assert.match(stats.stdout, /loaded plugins: .*counters/, stats.stdout);

  // Rekey the CHILD_SA, then the IKE_SA (RFC 7296 2.8, 2.18), both initiated by cygnet through swanctl.
  await cyg.rekey({ child: 'net' });
  await cyg.waitForSa((s) => s[0]?.children.find((c) => c.state === 'INSTALLED' && c.spiIn !== ci.children[0]!.spiIn), 8000, 'rekeyed CHILD SA');
  await cyg.rekey({ ike: 'cyg' });
  const rekeyed = await cyg.waitForSa((s) => s.find((x) => x.name === 'cyg' && x.state === 'ESTABLISHED' && x.initiatorSpi !== ci.initiatorSpi), 8000, 'rekeyed IKE SA');
  await swan.waitForSa((s) => s.find((x) => x.initiatorSpi === rekeyed.initiatorSpi && x.state === 'ESTABLISHED'), 8000, 'strongSwan has the rekeyed IKE SA');

  const counters = await cyg.swanctl(['--counters', '--name', 'cyg']);
  ctx.log(`swanctl --counters --name cyg:\n${counters.stdout}`);
  const count = (n: string): number => Number(new RegExp(`^\\s+${n}\\s*: (\\d+)$`, 'm').exec(counters.stdout)?.[1] ?? NaN);
  assert.equal(count('ike-rekey-init'), 1, counters.stdout);
  assert.equal(count('child-rekey'), 1, counters.stdout);
  assert.equal(count('ike-init-out-req'), 1, counters.stdout);
  assert.equal(count('ike-init-in-resp'), 1, counters.stdout);
  assert.equal(count('ike-auth-out-req'), 1, counters.stdout);
  assert.ok(count('create-child-out-req') >= 2, `two CREATE_CHILD_SA requests (CHILD and IKE rekey): ${counters.stdout}`);
  const all = await cyg.swanctl(['--counters', '--all']);
  assert.match(all.stdout, /^global:\n/m, all.stdout);
  await cyg.swanctl(['--counters', '--reset', '--name', 'cyg']);
  const reset = await cyg.swanctl(['--counters', '--name', 'cyg'], { allowFail: true });
  assert.match(reset.stdout + reset.stderr, /no counters found for this connection/, `after --reset: ${reset.stdout}${reset.stderr}`);

  // --load-all again without `rw`: swanctl unloads it; `cyg` is unchanged, so its SA stays.
  await writeFile(join(sdir, 'swanctl.conf'), swanctlConf(conn) + authority);
  const reload = await cyg.swanctl(['--load-all', '--noprompt', '--file', join(sdir, 'swanctl.conf')]);
  assert.match(reload.stdout, /successfully loaded 1 connections, 1 unloaded/, reload.stdout);
  assert.match(reload.stdout, /no pools found, 1 unloaded/, reload.stdout);
  const kept = await cyg.listSas();
  assert.equal(kept.find((s) => s.name === 'cyg')?.initiatorSpi, rekeyed.initiatorSpi, 'the unchanged connection keeps its IKE SA');

  await cyg.terminate('cyg');
  await Promise.all([cyg.waitNoSas(), swan.waitNoSas()]);

  // What the background swanctl processes printed while all this happened.
  // child-updown up when the SA came up, child-updown down when --terminate took it (and its CHILD_SA) down.
  const monitored = await waitFor('swanctl --monitor-sa to print the CHILD_SA up and down', async () => {
    const out = await monitor.output();
    return (out.match(/^\s+net: #\d+, reqid \d+, \w+, TUNNEL-in-UDP, ESP:AES_GCM_16-128$/gm) ?? []).length >= 2 ? out : undefined;
  }, 3000, 100);
  ctx.log(`swanctl --monitor-sa:\n${monitored}`);
  assert.match(monitored, new RegExp(`^cyg: #1, ESTABLISHED, IKEv2, ${ci.initiatorSpi}_i\\* ${ci.responderSpi}_r$`, 'm'), monitored);
  assert.match(monitored, new RegExp(`^cyg: #\\d+, \\w+, IKEv2, ${rekeyed.initiatorSpi}_i\\* ${rekeyed.responderSpi}_r$`, 'm'), 'the down event names the rekeyed IKE SA');
  // Stable reqids (issue 13): the CHILD SA that came up and the one --terminate took down after a CHILD and an
  // IKE rekey are different SAs (#1, then a later one) with the same reqid, as charon keeps it (RFC 7296 2.8).
  const childLines = [...monitored.matchAll(/^\s+net: #(\d+), reqid (\d+), /gm)];
  assert.ok(childLines.length >= 2, monitored);
  assert.notEqual(childLines[0]![1], childLines.at(-1)![1], 'the CHILD SA taken down is the rekeyed one');
  assert.equal(new Set(childLines.map((m) => m[2])).size, 1, `one reqid across the rekeys: ${monitored}`);
  const logged = await waitFor('swanctl --log to print the rekeys', async () => {
    const out = await logStream.output();
    return /IKE_SA cyg\[\d+\] established/.test(out) && /rekey/i.test(out) ? out : undefined;
  }, 3000, 100);
  assert.match(logged, /^\d\d\[IKE\] .*authentication of 'swan@cygnet\.test' with .* successful/m, 'swanctl --log shows the IKE log');
  // Streamed while the SA was rekeyed: the new CHILD SA of the CHILD rekey and the IKE rekey's line.
  assert.ok((logged.match(/^\d\d\[IKE\] .*CHILD_SA net\{\d+\} established/gm) ?? []).length >= 2, `swanctl --log shows both CHILD SAs: ${logged}`);
  assert.match(logged, /^\d\d\[IKE\] .*IKE_SA cyg\[\d+\] rekeyed to \[\d+\]/m, 'swanctl --log shows the IKE rekey');
  assert.match(logged, /^\d\d\[CFG\] added vici connection: cyg|^\d\d\[CFG\] unloaded vici connection: rw/m, 'swanctl --log shows the vici configuration lines');
}

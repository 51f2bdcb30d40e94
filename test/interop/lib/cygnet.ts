/**
 * A `cygnet daemon` peer in a namespace, for the cygnet <-> strongSwan scenarios (issues 4-7).
 *
 * The daemon runs from source through tsx (always the working tree's code, no build step), in its own network
 * namespace and a private mount namespace (own /run, so `/var/run/cygnet.vici` never collides between two
 * cygnets or with charon). Its config uses swanctl.conf syntax, so swanctl-conf.ts builds it, mirrored from
 * the strongSwan side. Control goes through Debian's swanctl with `--uri` once cygnet's vici socket exists
 * (issue 7); before that, scenarios wait on log lines and on cygnet's own events in its log.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './exec.js';
import type { Netns } from './netns.js';
import { spawnIsolated } from './process.js';
import { DaemonPeer } from './swanctl.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CYGNET_MAIN = join(REPO_ROOT, 'src/cli/main.ts');
export const CYGNET_VICI_URI = 'unix:///var/run/cygnet.vici';

export interface CygnetPeerOptions {
  ns: Netns;
  label?: string;
  dir: string;
  /** swanctl.conf-syntax configuration written to DIR/cygnet.conf. */
  config: string;
  /** Extra files in DIR (certificates, keys), by relative path. */
  files?: Record<string, string | Uint8Array>;
  /** Extra CLI arguments after `daemon --config FILE` (e.g. `['--debug', 'ike 2, net 1']`). */
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /**
   * When is it ready: `'vici'` (swanctl --stats answers on CYGNET_VICI_URI), or a log pattern
   * (default: `'vici'` if the daemon prints nothing better; scenarios before issue 7 pass a RegExp).
   */
  ready?: 'vici' | RegExp;
  startTimeoutMs?: number;
}

/** True when the working tree's CLI knows `daemon` (so scenarios can say why they cannot run yet). */
export async function cygnetHasDaemon(): Promise<boolean> {
  if (!existsSync(CYGNET_MAIN)) return false;
  const r = await run(process.execPath, ['--import', 'tsx', CYGNET_MAIN, 'daemon', '--help'], { cwd: REPO_ROOT, allowFail: true, timeoutMs: 20_000 }).catch(() => undefined);
  return r !== undefined && r.code === 0 && /config/i.test(r.stdout + r.stderr);
}

export class CygnetPeer extends DaemonPeer {
  /** Start `node --import tsx src/cli/main.ts daemon --config DIR/cygnet.conf` isolated in `ns`. */
  static async start(opts: CygnetPeerOptions): Promise<CygnetPeer> {
    const label = opts.label ?? `cygnet-${opts.ns.role}`;
    await mkdir(opts.dir, { recursive: true });
    const confPath = join(opts.dir, 'cygnet.conf');
    await writeFile(confPath, opts.config);
    for (const [rel, content] of Object.entries(opts.files ?? {})) {
      await mkdir(dirname(join(opts.dir, rel)), { recursive: true });
      await writeFile(join(opts.dir, rel), content);
    }
    // As root the daemon opens a TUN by default: scenarios that want one say --tun NAME, the others get --no-tun.
    const args = opts.args ?? [];
    const tunArgs = args.includes('--tun') || args.includes('--no-tun') ? [] : ['--no-tun'];
    const proc = spawnIsolated(opts.ns, process.execPath, ['--import', 'tsx', CYGNET_MAIN, 'daemon', '--config', confPath, ...args, ...tunArgs], {
      logFile: join(opts.dir, `${label}.log`),
      cwd: REPO_ROOT, // `--import tsx` resolves from here
      env: opts.env ?? process.env,
    });
    const peer = new CygnetPeer(opts.ns, label, opts.dir, proc, CYGNET_VICI_URI);
    try {
      const ready = opts.ready ?? 'vici';
      if (ready === 'vici') await peer.waitReady(proc, 'node', opts.startTimeoutMs ?? 20_000);
      else await peer.waitForLog(ready, opts.startTimeoutMs ?? 20_000);
    } catch (err) {
      await proc.stop(500);
      throw err;
    }
    return peer;
  }
}

/**
 * V8 settings of the long-running daemon (issue 17: 100,000 IKE SAs in under 0.5 GiB RSS).
 *
 * A gateway fills its heap quickly (a burst of setups after a restart or a failover) and then holds it. V8 grows the
 * heap during such a burst and, by default, compacts it only when fragmentation looks worth it, so pages it has
 * committed but barely uses stay resident. `--compact-on-every-full-gc` makes every full collection a compacting one:
 * live objects are packed and empty pages go back to the OS. Measured (bench ike, 100k SAs, after 20 s idle): RSS
 * 0.615 GiB without it, 0.477 GiB with it, setups per CPU second unchanged within the run-to-run spread (1,389 at 1k,
 * 1,408 at 100k with it; docs/PERFORMANCE.md section 4). Full collections are rare in the daemon (the data path
 * allocates nothing per packet, section 5), so their extra compaction work is not on the packet path.
 *
 * NODE_OPTIONS refuses this flag, so it is set with v8.setFlagsFromString at startup, before the daemon allocates
 * its state; V8 reads it at each full GC. `bench ike` applies the same settings so its figures are the daemon's.
 */
import { setFlagsFromString } from 'node:v8';

export const DAEMON_V8_FLAGS: readonly string[] = ['--compact-on-every-full-gc'];

/** Applies DAEMON_V8_FLAGS (process-wide: worker threads share them). */
export function applyDaemonGcSettings(set: (flag: string) => void = setFlagsFromString): readonly string[] {
  for (const f of DAEMON_V8_FLAGS) set(f);
  return DAEMON_V8_FLAGS;
}

/**
 * `NODE_OPTIONS="--import /path/to/cpu-prof-hook.mjs"` with CYGNET_CPU_PROF_DIR=DIR: records a V8 CPU profile of
 * the whole process and writes DIR/CPU.<pid>.cpuprofile when the process exits (node 20 refuses `--cpu-prof` in
 * NODE_OPTIONS, and the interop harness spawns the daemon with fixed node flags). Same format as --cpu-prof.
 * CYGNET_CPU_PROF_INTERVAL_US sets the sampling interval (default 200 us). With CYGNET_CPU_PROF_START=signal the
 * profiler starts on SIGUSR2 instead of at once, so start-up (tsx compiling the sources) stays out of the profile.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.CYGNET_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  const interval = Number(process.env.CYGNET_CPU_PROF_INTERVAL_US ?? 200);
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval });
  if (process.env.CYGNET_CPU_PROF_START === 'signal') process.once('SIGUSR2', () => session.post('Profiler.start'));
  else session.post('Profiler.start');
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    // The same-thread inspector session answers synchronously, so this also works from 'exit'.
    session.post('Profiler.stop', (err, res) => {
      if (!err && res?.profile) writeFileSync(join(dir, `CPU.${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  };
  process.on('beforeExit', write);
  process.on('exit', write);
}

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { applyDaemonGcSettings, DAEMON_V8_FLAGS } from './gc.js';

describe('daemon V8 settings (issue 17)', () => {
  it('sets --compact-on-every-full-gc through v8.setFlagsFromString', () => {
    const seen: string[] = [];
    expect(applyDaemonGcSettings((f) => seen.push(f))).toEqual(['--compact-on-every-full-gc']);
    expect(seen).toEqual([...DAEMON_V8_FLAGS]);
  });

  it('node accepts the flag at runtime (a flag V8 does not know would print "Error: unrecognized flag")', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', `require('node:v8').setFlagsFromString(${JSON.stringify(DAEMON_V8_FLAGS[0])}); globalThis.gc(); console.log('ok')`], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('ok');
    expect(r.status).toBe(0);
  });
});

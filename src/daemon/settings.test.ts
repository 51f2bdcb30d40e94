/** --settings FILE: strongswan.conf knobs reach the IKE endpoint and every connection; flags beat the file. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSwanctlConfig, isConfigError, diffConfigs } from '../config/index.js';
import { parseStrongswanConf } from '../config/strongswan-conf.js';
import { DEFAULT_RETRANSMIT } from '../ike/retransmit.js';
import { toDaemonConfig } from './connections.js';
import { Daemon } from './driver.js';
import { Logger } from './logger.js';
import { endpointSettings, loadGlobalSettings, withFragmentSize } from './settings.js';

const SWANCTL = `connections {
  gw {
    remote_addrs = 192.0.2.2
    local { auth = psk }
    remote { auth = psk }
    children { net { local_ts = 10.1.0.0/24 } }
  }
}
secrets { ike { secret = x } }
`;

const SETTINGS = `charon {
  retransmit_timeout = 1.5
  retransmit_tries = 3
  keep_alive = 2s
  fragment_size = 500
  make_before_break = no
  threads = 16
  plugins { kernel-libipsec { load = yes } }
}
`;

function daemon(settingsText: string | undefined, retransmit?: { timeoutMs?: number; tries?: number }) {
  const { config } = parseSwanctlConfig(SWANCTL, 'swanctl.conf');
  const lines: string[] = [];
  const d = new Daemon({
    config: toDaemonConfig(config),
    logger: new Logger({ levels: new Map([['cfg', 2]]), write: (l) => lines.push(l) }),
    ...(settingsText !== undefined ? { settings: parseStrongswanConf(settingsText) } : {}),
    ...(retransmit ? { retransmit } : {}),
  });
  return { d, config, lines };
}

describe('daemon settings file', () => {
  it('the file sets the endpoint settings and every connection fragment size', () => {
    const { d } = daemon(SETTINGS);
    const s = d.endpoint.settings;
    expect(s.retransmit).toEqual({ ...DEFAULT_RETRANSMIT, timeoutMs: 1500, tries: 3 });
    expect(s.keepaliveMs).toBe(2000);
    expect(s.makeBeforeBreak).toBe(false);
    expect(s.epochOffsetMs).not.toBe(0); // the daemon's own settings survive the merge
    expect(d.endpoint.connections().map((c) => c.fragmentSize)).toEqual([500]);
  });

  it('--retransmit-* flags override the file field by field', () => {
    const { d } = daemon(SETTINGS, { timeoutMs: 700 });
    expect(d.endpoint.settings.retransmit).toEqual({ ...DEFAULT_RETRANSMIT, timeoutMs: 700, tries: 3 });
    const flagsOnly = daemon(undefined, { tries: 1 }).d;
    expect(flagsOnly.endpoint.settings.retransmit).toEqual({ ...DEFAULT_RETRANSMIT, tries: 1 });
    expect(flagsOnly.endpoint.connections()[0]!.fragmentSize).toBe(1280);
  });

  it('without a file the defaults stay', () => {
    const { d } = daemon(undefined);
    expect(d.endpoint.settings.retransmit).toEqual(DEFAULT_RETRANSMIT);
    expect(d.endpoint.settings.keepaliveMs).toBe(20_000);
  });

  it('a reload re-applies fragment_size and the other charon.* knobs', () => {
    const { d, config, lines } = daemon(SETTINGS);
    d.reload(toDaemonConfig(config), diffConfigs(config, config), parseStrongswanConf(SETTINGS.replace('500', '700')));
    expect(d.endpoint.connections()[0]!.fragmentSize).toBe(700);
    expect(lines.join('\n')).not.toContain('applied changed charon.* settings');
    d.reload(toDaemonConfig(config), diffConfigs(config, config), parseStrongswanConf(SETTINGS.replace('2s', '5s')));
    expect(lines.join('\n')).toContain('applied changed charon.* settings');
    expect(d.endpoint.settings.keepaliveMs).toBe(5000);
  });

  it('helpers: merge precedence and fragment_size 0 keeps the default', () => {
    expect(endpointSettings({ keepaliveMs: 1 }, { keepaliveMs: 2 }).keepaliveMs).toBe(2);
    expect(endpointSettings({ retransmit: { ...DEFAULT_RETRANSMIT, base: 1.2 } }, {}, { tries: 9 }).retransmit).toEqual({ ...DEFAULT_RETRANSMIT, base: 1.2, tries: 9 });
    const conns = daemon(undefined).d.endpoint.connections();
    expect(withFragmentSize(conns, 0)[0]!.fragmentSize).toBe(1280);
  });

  it('loadGlobalSettings reads includes and reports errors with file:line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cygnet-settings-'));
    writeFileSync(join(dir, 'extra.conf'), 'keep_alive = 3s\n');
    writeFileSync(join(dir, 'strongswan.conf'), 'charon {\n  include extra.conf\n  fragment_size = 600\n}\n');
    const g = loadGlobalSettings(join(dir, 'strongswan.conf'));
    expect(g.endpoint.keepaliveMs).toBe(3000);
    expect(g.fragmentSize).toBe(600);
    writeFileSync(join(dir, 'bad.conf'), 'charon {\n\n  retransmit_tries = many\n}\n');
    let err: unknown;
    try {
      loadGlobalSettings(join(dir, 'bad.conf'));
    } catch (e) {
      err = e;
    }
    expect(isConfigError(err)).toBe(true);
    expect((err as Error).message).toContain(`${join(dir, 'bad.conf')}:3`);
  });
});

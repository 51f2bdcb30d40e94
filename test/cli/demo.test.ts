/**
 * `cygnet demo` (`npm start`, issue 7): two endpoints in one process over loopback UDP with memory TUNs bring up
 * IKE + CHILD SAs, carry packets both ways, rekey the CHILD SA once (RFC 7296 1.3.3) and exit 0 with a summary.
 * Run in-process with a short --seconds, and once as a real process to see it exits by itself.
 */
import { describe, expect, it } from 'vitest';
import { parseSwanctlConfig } from '../../src/config/index.js';
import { toDaemonConfig } from '../../src/daemon/connections.js';
import { DemoError, demoSwanctlConf, parseDemoArgs, runDemo, runDemoScenario, type DemoIo } from '../../src/cli/demo.js';
import { runCli } from '../daemon/harness.js';

function capture(isTTY = false): DemoIo & { text: () => string; errText: () => string } {
  let out = '';
  let err = '';
  return { out: (t) => void (out += t), err: (t) => void (err += t), isTTY, text: () => out, errText: () => err };
}

describe('cygnet demo', () => {
  it('exits 0 with packets both ways, one CHILD SA rekey and a summary', async () => {
    const io = capture();
    const code = await runDemo(['--seconds', '2'], io);
    const out = io.text();
    expect(code, `${out}\n${io.errText()}`).toBe(0);
    // strongSwan-worded lines: suite and SPIs of the IKE SA and the CHILD SA.
    expect(out).toMatch(/IKE_SA demo\[1\] established between 127\.0\.0\.1\[moon\.example\]\.\.\.127\.0\.0\.1\[sun\.example\]/);
    expect(out).toMatch(/IKE_SA demo\[1\] SPIs [0-9a-f]{16}_i\* [0-9a-f]{16}_r, suite AES_GCM_16-256\/PRF_HMAC_SHA2_256\/CURVE_25519/);
    expect(out).toMatch(/CHILD_SA net\{1\} established with SPIs [0-9a-f]{8}_i [0-9a-f]{8}_o and TS 10\.1\.0\.0\/24 === 10\.2\.0\.0\/24/);
    // Not a TTY: the rate line is printed as plain lines, no carriage returns.
    expect(out).toMatch(/^ +\d+\.\ds +moon -> sun +[\d,]+ pkt\/s +[\d.]+ Mbit\/s +\| +sun -> moon +[\d,]+ pkt\/s +[\d.]+ Mbit\/s$/m);
    expect(out).not.toContain('\r');
    const rekey = /rekeyed CHILD_SA net\{1\} -> \{2\}: SPIs ([0-9a-f]{8})_i ([0-9a-f]{8})_o -> ([0-9a-f]{8})_i ([0-9a-f]{8})_o/.exec(out);
    expect(rekey, out).not.toBeNull();
    expect(new Set(rekey!.slice(1)).size).toBe(4);
    expect(out).toContain('rekeys      1 CHILD SA');
    for (const dir of ['moon -> sun', 'sun -> moon']) {
      const m = new RegExp(`^  ${dir}  sent +([\\d,]+)  received +([\\d,]+)  lost +([\\d,]+) .* Mbit/s$`, 'm').exec(out);
      expect(m, `${dir} summary row\n${out}`).not.toBeNull();
      const n = (s: string) => Number(s.replace(/,/g, ''));
      expect(n(m![2]!)).toBeGreaterThan(0);
      expect(n(m![1]!) - n(m![2]!)).toBe(n(m![3]!));
    }
    expect(out).toContain('IKE_SA demo[1] deleted by peer');
    expect(out).toContain('ESP drops   0');
  }, 20_000);

  it('returns the summary; on a TTY the rate line rewrites itself in place', async () => {
    const io = capture(true);
    const s = await runDemoScenario({ seconds: 2, size: 600, verbose: false }, io);
    expect(s.rekeys).toBe(1);
    expect(s.moonToSun.received).toBeGreaterThan(0);
    expect(s.sunToMoon.received).toBeGreaterThan(0);
    expect(s.moonToSun.sent).toBe(s.moonToSun.received + s.moonToSun.lost);
    expect(s.moonToSun.mbitPerSecond).toBeCloseTo((s.moonToSun.received * 600 * 8) / 1e6 / s.trafficSeconds, 6);
    expect(s.spisAfter).not.toBe(s.spisBefore);
    expect(s.childSuite).toBe('AES_GCM_16-256');
    expect(s.trafficSeconds).toBeGreaterThanOrEqual(2);
    // Traffic stops at 2 s, or once the rekey has completed if that took longer (a loaded machine).
    expect(s.trafficSeconds).toBeLessThan(10);
    expect(io.text()).toMatch(/\r\x1b\[K +\d+\.\ds +moon -> sun/);
  }, 20_000);

  it('rejects bad options with exit 2 and a message naming the option', async () => {
    for (const [args, why] of [
      [['--seconds', '0'], "--seconds: '0' is not a number in 1..60"],
      [['--size', '20'], "--size: '20' is not an integer in 64..1400"],
      [['--bogus'], "unknown option '--bogus'"],
      [['extra'], "unexpected argument 'extra'"],
    ] as const) {
      const io = capture();
      expect(await runDemo(args, io)).toBe(2);
      expect(io.errText()).toContain(why);
    }
    const io = capture();
    expect(await runDemo(['--help'], io)).toBe(0);
    expect(io.text()).toContain('usage: cygnet demo');
    expect(parseDemoArgs([])).toEqual({ seconds: 5, size: 1400, verbose: false });
  });

  it('its swanctl.conf loads without warnings on both sides, as `cygnet daemon --config` would read it', () => {
    for (const me of ['moon', 'sun'] as const) {
      const text = demoSwanctlConf({ me, localPort: 40000, remotePort: 40002, secret: '0sAAECAwQFBgcICQoLDA0ODxAREhMUFRYX' });
      const { config, warnings } = parseSwanctlConfig(text, `${me}.conf`);
      expect(warnings).toEqual([]);
      const d = toDaemonConfig(config);
      expect(d.connections[0]!.localPort).toBe(40000);
      expect(d.startChildren.length).toBe(me === 'moon' ? 1 : 0);
    }
  });

  it('fails with exit-1 reasons, not a hang: wrong PSK on one side, or an invalid configuration value', async () => {
    const io = capture();
    const t0 = Date.now();
    const wrongPsk = runDemoScenario({ seconds: 1, size: 1400, verbose: false }, io, {
      editConf: (who, text) => (who === 'sun' ? text.replace(/secret = 0s\S+/, 'secret = "not-the-same"') : text),
    });
    await expect(wrongPsk).rejects.toThrow(DemoError);
    await expect(wrongPsk).rejects.toThrow(/IKE SA failed to come up; last log lines:[\s\S]*AUTHENTICATION_FAILED/);
    // RFC 7296 2.21.2: the responder's AUTHENTICATION_FAILED ends it at once, well before the 5 s timeout.
    expect(Date.now() - t0).toBeLessThan(4000);
    const badValue = runDemoScenario({ seconds: 1, size: 1400, verbose: false }, capture(), {
      editConf: (who, text) => (who === 'moon' ? text.replace('esp_proposals = aes256gcm16', 'esp_proposals = rot13') : text),
    });
    await expect(badValue).rejects.toThrow(/moon\.conf:\d+/);
  }, 20_000);

  it('as a process: `cygnet demo --seconds 1` exits 0 on its own', async () => {
    const p = runCli(['demo', '--seconds', '1']);
    const timer = setTimeout(() => p.kill(), 15_000);
    const code = await p.exited;
    clearTimeout(timer);
    expect(code, p.output()).toBe(0);
    expect(p.output()).toContain('summary (1400-byte packets');
  }, 20_000);
});

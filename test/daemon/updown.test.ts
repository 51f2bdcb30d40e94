/**
 * Child updown scripts (issue 13, strongSwan's updown plugin): two in-process daemons whose child `net` has
 * `updown = <script>`; the script appends its PLUTO_* environment to a file. up-client on install with the reqid,
 * IDs, selectors and ports; nothing on a CHILD SA rekey; down-client on delete; a failing script is logged with its
 * exit code and first stderr line, and the daemon carries on.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/driver.js';
import { daemonPair, stopDaemons, waitFor } from './harness.js';

afterEach(async () => {
  await stopDaemons();
});

const established = (d: Daemon) => d.status().ikeSas.some((s) => s.state === 'ESTABLISHED' && s.children.length > 0);

/** The invocations recorded by the script: one record (PLUTO_* variables) per run. */
function records(file: string): Record<string, string>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('---\n')
    .filter((r) => r.trim() !== '')
    .map((r) => Object.fromEntries(r.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])));
}

function recordingScript(dir: string, name: string, out: string): string {
  const script = join(dir, name);
  writeFileSync(script, `#!/bin/sh\n{ env | grep -E '^(PLUTO_|PATH=)' | sort; echo ---; } >> '${out}'\n`);
  chmodSync(script, 0o755);
  return script;
}

describe('updown scripts', () => {
  it('up-client on install, nothing on a CHILD rekey, down-client on delete', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cygnet-updown-'));
    const outA = join(dir, 'moon.env');
    const outB = join(dir, 'sun.env');
    const sa = recordingScript(dir, 'moon.sh', outA);
    const sb = recordingScript(dir, 'sun.sh', outB);
    const { a, b, la, lb, ports } = await daemonPair('start', { childExtra: `updown = ${sa}` }, { childExtra: `updown = ${sb}` });
    const logs = () => la.concat(lb).join('\n');
    await waitFor(() => established(a.d) && established(b.d), 10_000, logs);
    await waitFor(() => records(outA).length === 1 && records(outB).length === 1, 5_000, logs);

    const child = a.d.endpoint.listSas()[0]!.children[0]!;
    const reqid = a.d.gateway.childExtras(child).reqId;
    expect(reqid).toBeGreaterThan(0);
    const [up] = records(outA);
    expect(up).toMatchObject({
      PLUTO_VERSION: '1.1',
      PLUTO_VERB: 'up-client',
      PLUTO_CONNECTION: 'net',
      PLUTO_REQID: String(reqid),
      PLUTO_PROTO: 'esp',
      PLUTO_UNIQUEID: String(a.d.endpoint.listSas()[0]!.sa.id),
      PLUTO_ME: '127.0.0.1',
      PLUTO_MY_ID: 'moon.example',
      PLUTO_MY_CLIENT: '10.1.0.0/16',
      PLUTO_MY_PORT: '0',
      PLUTO_MY_PROTOCOL: '0',
      PLUTO_PEER: '127.0.0.1',
      PLUTO_PEER_ID: 'sun.example',
      PLUTO_PEER_CLIENT: '10.2.0.0/16',
      PLUTO_PEER_PORT: '0',
      PLUTO_PEER_PROTOCOL: '0',
    });
    // The in-memory TUN's name; ESP always rides UDP (as charon's encap = yes): the peer's port; no XAuth, no VIP.
    expect(up!.PLUTO_INTERFACE).toBeTruthy();
    expect(up!.PLUTO_UDP_ENC).toBe(String(ports.b));
    for (const k of ['PLUTO_XAUTH_ID', 'PLUTO_MY_SOURCEIP', 'PLUTO_IPCOMP', 'PLUTO_MARK_IN']) expect(up).not.toHaveProperty(k);
    expect(up!.PATH).toBeTruthy();
    // The responder's view is the mirror image.
    expect(records(outB)[0]).toMatchObject({ PLUTO_VERB: 'up-client', PLUTO_MY_ID: 'sun.example', PLUTO_PEER_ID: 'moon.example', PLUTO_MY_CLIENT: '10.2.0.0/16', PLUTO_PEER_CLIENT: '10.1.0.0/16' });

    // A CHILD SA rekey runs no script (charon raises child_rekey, not child_updown).
    expect(a.d.rekeyChild(child.id)).toBe(true);
    await waitFor(() => a.d.endpoint.listSas()[0]?.children.length === 1 && a.d.endpoint.listSas()[0]!.children[0]!.id !== child.id, 5_000, logs);
    await waitFor(() => b.d.endpoint.listSas()[0]?.children.length === 1 && b.d.endpoint.listSas()[0]!.children[0]!.id !== child.id, 5_000, logs);
    await a.d.updown.idle();
    await b.d.updown.idle();
    expect(records(outA)).toHaveLength(1);
    expect(records(outB)).toHaveLength(1);

    // Deleting the (rekeyed) CHILD SA runs down-client on both sides, with the same reqid.
    const rekeyed = a.d.endpoint.listSas()[0]!.children[0]!;
    expect(a.d.terminateChild(rekeyed.id)).toBe(true);
    await waitFor(() => records(outA).length === 2 && records(outB).length === 2, 5_000, logs);
    expect(records(outA)[1]).toMatchObject({ PLUTO_VERB: 'down-client', PLUTO_REQID: String(reqid), PLUTO_MY_CLIENT: '10.1.0.0/16', PLUTO_PEER_CLIENT: '10.2.0.0/16' });
    expect(records(outB)[1]).toMatchObject({ PLUTO_VERB: 'down-client', PLUTO_MY_ID: 'sun.example' });
  });

  it('deleting the IKE SA takes its CHILD SA down: down-client on both sides, and a stopped daemon waits for it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cygnet-updown-'));
    const outA = join(dir, 'moon.env');
    const outB = join(dir, 'sun.env');
    const extraA = { childExtra: `updown = ${recordingScript(dir, 'moon.sh', outA)}` };
    const { a, b, la, lb } = await daemonPair('start', extraA, { childExtra: `updown = ${recordingScript(dir, 'sun.sh', outB)}` });
    const logs = () => la.concat(lb).join('\n');
    await waitFor(() => established(a.d) && established(b.d), 10_000, logs);
    const ike = a.d.endpoint.listSas()[0]!.sa;
    expect(a.d.terminateIke(ike.id)).toBe(true);
    await waitFor(() => b.d.endpoint.listSas().length === 0, 5_000, logs);
    await b.d.updown.idle();
    expect(records(outB).map((r) => r.PLUTO_VERB)).toEqual(['up-client', 'down-client']);
    // stop() returns only after the queued scripts ran.
    await a.d.stop(200);
    expect(records(outA).map((r) => [r.PLUTO_VERB, r.PLUTO_UNIQUEID])).toEqual([
      ['up-client', String(ike.id)],
      ['down-client', String(ike.id)],
    ]);
  });

  it('a failing script is logged with its exit code and first stderr line, and is not fatal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cygnet-updown-'));
    const script = join(dir, 'fail.sh');
    writeFileSync(script, "#!/bin/sh\necho 'iptables: no chain by that name' >&2\necho second line >&2\nexit 3\n");
    chmodSync(script, 0o755);
    const { a, b, la, lb } = await daemonPair('start', { childExtra: `updown = ${script} iptables` }, {});
    await waitFor(() => established(a.d) && established(b.d), 10_000, () => la.concat(lb).join('\n'));
    await a.d.updown.idle();
    const line = la.find((l) => l.includes('updown script') && l.includes('failed'));
    expect(line).toContain(`updown script '${script} iptables' (up-client net{`);
    expect(line).toContain('failed (exit code 3): iptables: no chain by that name');
    expect(la.join('\n')).not.toContain('second line');
    // The SA is still up and the daemon still answers.
    expect(established(a.d)).toBe(true);
  });
});

/**
 * Secrets given to a running daemon over vici (swanctl --load-all: load-shared, load-key, load-token, load-conn)
 * never come back in its log, at the highest debug level, nor in the error messages it answers with.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ViciClient } from '../../src/vici/client.js';
import { freePorts, spawnDaemon, waitFor, type DaemonProcess } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'cygnet-secrets-'));
let d: DaemonProcess | undefined;
afterAll(() => {
  d?.kill();
  rmSync(dir, { recursive: true, force: true });
});

const SENTINEL = 'Sentinel-Secret-7f3a9c';
/** Not a secret: the control that shows bad values are quoted in these very logs and answers. */
const NOT_SECRET = 'Proposal-Control-51d2';

describe('no secret in the daemon log or vici answers (--debug "any 4")', () => {
  it('load-shared, load-key, load-token and load-conn with secrets, good and bad', async () => {
    const [p, pn] = await freePorts(2);
    const conf = join(dir, 'swanctl.conf');
    writeFileSync(conf, 'connections { }\n');
    const socket = join(dir, 'vici.sock');
    d = spawnDaemon(['--config', conf, '--socket', socket, '--debug', 'any 4', '--port', String(p), '--natt-port', String(pn), '--bind', '127.0.0.1']);
    await waitFor(() => /cygnet daemon running/.test(d!.output()), 20_000, () => d!.output());
    const c = await ViciClient.connect(socket);
    const answers: unknown[] = [];
    try {
      const ask = async (cmd: string, msg: Record<string, unknown>): Promise<void> => {
        answers.push(await c.request(cmd, msg as never));
      };
      await ask('load-shared', { id: 'ike-1', type: 'IKE', data: SENTINEL, owners: ['moon.example', 'sun.example'] });
      await ask('load-shared', { id: 'ike-2', type: 'IKE', data: `0x${SENTINEL}`, owners: ['a'] });
      await ask('load-shared', { id: 'eap-1', type: 'EAP', data: `0s${SENTINEL}!`, owners: ['carol'] });
      await ask('load-shared', { type: 'rsa', data: SENTINEL });
      await ask('load-key', { type: 'any', data: `-----BEGIN PRIVATE KEY-----\n${SENTINEL}\n-----END PRIVATE KEY-----\n` });
      await ask('load-token', { handle: '01', pin: SENTINEL });
      await ask('load-conn', { gw: { remote_addrs: ['192.0.2.1'], local: { auth: 'psk', secret: SENTINEL }, remote: { auth: 'psk' } } });
      await ask('load-conn', { gw2: { remote_addrs: ['192.0.2.1'], proposals: [NOT_SECRET] } });
    } finally {
      c.close();
    }
    // Refusals went through real error paths, the good key was accepted.
    expect(answers.slice(0, 3)).toEqual([{ success: 'yes' }, { success: 'yes' }, { success: 'yes' }]);
    expect(answers.slice(3).map((a) => (a as { success: string }).success)).toEqual(['no', 'no', 'no', 'no', 'no']);
    expect(JSON.stringify(answers[7])).toContain(NOT_SECRET);
    d.signal('SIGTERM');
    expect(await d.exited).toBe(0);
    const log = d.output();
    expect(log).toMatch(/loaded IKE shared key with id 'ike-1'/);
    expect(log).toContain(`invalid value '${NOT_SECRET}'`);
    expect(JSON.stringify(answers)).not.toContain(SENTINEL);
    expect(log).not.toContain(SENTINEL);
    expect(log).not.toContain(Buffer.from(SENTINEL).toString('hex'));
  }, 60_000);
});

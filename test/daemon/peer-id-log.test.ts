/**
 * Issue 11, end to end: "a newline in a peer ID forges log lines". A running `cygnet daemon` (text log on stderr)
 * is sent a real IKE_SA_INIT and IKE_AUTH over UDP by an in-process IkeEndpoint whose IDi is an FQDN carrying a
 * newline, a fake log line, a carriage return and a terminal escape. The daemon refuses it (no peer config for that
 * identity) and names the identity in its log: every line of the log is still one of the daemon's own lines (a
 * timestamp, a thread number and a group), the forged line appears only inside the escaped identity, and no raw
 * control character reaches the output.
 */
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import { IkeEndpoint } from '../../src/ike/endpoint.js';
import { createProvider } from '../../src/crypto/provider.js';
import { systemRandom } from '../../src/crypto/random.js';
import { freePorts, siteConf, spawnDaemon, waitFor } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'cygnet-peer-id-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FORGED = '2026-12-06T00:00:00.000Z 00[IKE] IKE_SA admin[1] established between 127.0.0.1[moon.example]...127.0.0.1[admin]';
const EVIL = `sun.example\n${FORGED}\r\u001b[2J`;

describe('a peer ID with control characters in the daemon text log', () => {
  it('is escaped: the forged line never starts a line, no raw control character is written', async () => {
    const [p, pn] = await freePorts(2);
    const conf = join(dir, 'moon.conf');
    writeFileSync(conf, siteConf({ localPort: p!, remotePort: 500, localId: 'moon.example', remoteId: 'sun.example', localTs: '10.1.0.0/16', remoteTs: '10.2.0.0/16', startAction: 'none' }).replace(/remote_addrs = 127\.0\.0\.1/, 'remote_addrs = %any'));
    const d = spawnDaemon(['--config', conf, '--port', String(p), '--natt-port', String(pn), '--bind', '127.0.0.1', '--debug', 'any 2']);
    const sock = dgram.createSocket('udp4');
    try {
      await waitFor(() => /cygnet daemon running/.test(d.output()), 20_000, () => d.output());
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      const local = sock.address().port;
      const ep = new IkeEndpoint({
        connections: [
          connection({
            name: 'evil', localAddrs: ['127.0.0.1'], remoteAddrs: ['127.0.0.1'], localPort: local, remotePort: p!,
            local: { auth: 'psk', id: EVIL }, remote: { auth: 'psk', id: 'moon.example' },
            children: [child('net', { localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'] })],
          }),
        ],
        credentials: pskCredentials([{ ids: [], secret: 'v+NkxY9LLZvwj4qCC2o/gGrWDF2d21jL' }]),
        crypto: createProvider(),
        random: systemRandom,
      });
      const flush = (): void => {
        for (let t = ep.pollTransmit(); t; t = ep.pollTransmit()) {
          const data = t.nonEspMarker ? Buffer.concat([Buffer.alloc(4), t.data]) : Buffer.from(t.data);
          sock.send(data, t.remote.port, t.remote.address);
        }
        while (ep.pollEvent());
      };
      sock.on('message', (msg, rinfo) => {
        const marker = rinfo.port === pn && msg.length >= 4 && msg.readUInt32BE(0) === 0;
        ep.receive(new Uint8Array(marker ? msg.subarray(4) : msg), { address: '127.0.0.1', port: local }, { address: rinfo.address, port: rinfo.port }, Date.now(), { marker });
        flush();
      });
      ep.initiate('evil', Date.now());
      flush();
      await waitFor(() => /no matching peer config found for/.test(d.output()), 20_000, () => d.output());
    } finally {
      sock.close();
      d.signal('SIGTERM');
      expect(await d.exited).toBe(0);
    }
    const out = d.output();
    const lines = out.split('\n').filter((l) => l !== '');
    // The refusal names the identity, escaped, on one line.
    const refusal = lines.filter((l) => l.includes('no matching peer config found for'));
    expect(refusal.length).toBeGreaterThan(0);
    console.log(`peer-id-log: ${refusal[0]}`);
    for (const l of refusal) expect(l).toContain(`'sun.example\\n${FORGED}\\r\\x1b[2J'`);
    // Every line is one of the daemon's (timestamp, thread, [GROUP]); the forged text never starts one.
    for (const l of lines) expect(l, l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \d\d\[[A-Z]{3}\] /);
    expect(lines.filter((l) => l.startsWith(FORGED))).toEqual([]);
    expect(out).not.toMatch(/[\r\u001b\u0000-\u0008\u000b-\u001f\u007f]/);
  }, 60_000);
});

import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { radiusServer } from '../radius/config.js';
import { Attr, RadiusCode } from '../radius/constants.js';
import { textAttr } from '../radius/packet.js';
import { serverAnswer, serverReceive } from '../radius/test-support.js';
import { RadiusSocketDriver } from './radius-socket.js';

const SECRET = new TextEncoder().encode('loopback-secret');
const closers: Array<() => void> = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

/** A UDP RADIUS server on loopback answering each request with `code` (undefined: silent), counting requests. */
async function fakeServer(code: number | undefined): Promise<{ port: number; count: () => number }> {
  const s: Socket = createSocket('udp4');
  let n = 0;
  s.on('message', (msg, rinfo) => {
    n++;
    if (code === undefined) return;
    const req = serverReceive(new Uint8Array(msg), SECRET);
    s.send(serverAnswer(req, SECRET, { code }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  closers.push(() => s.close());
  return { port: s.address().port, count: () => n };
}

describe('RadiusSocketDriver (UDP on loopback)', () => {
  it('sends an Access-Request to the server and resolves with its answer', async () => {
    const srv = await fakeServer(RadiusCode.ACCESS_REJECT);
    const d = new RadiusSocketDriver({ servers: [radiusServer({ name: 'lo', address: '127.0.0.1', authPort: srv.port, secret: SECRET })] });
    closers.push(() => d.close());
    const o = await d.client.request({ code: RadiusCode.ACCESS_REQUEST, attributes: [textAttr(Attr.USER_NAME, 'x')] });
    expect(o.kind === 'response' && o.response.code).toBe(RadiusCode.ACCESS_REJECT);
    expect(srv.count()).toBe(1);
  });

  it('accounting goes to acct_port; a silent server is retried on the timer and then named in the timeout', async () => {
    const silent = await fakeServer(undefined);
    const logs: string[] = [];
    const d = new RadiusSocketDriver({
      servers: [radiusServer({ name: 'quiet', address: '127.0.0.1', authPort: 9, acctPort: silent.port, secret: SECRET, retransmitTries: 3, retransmitTimeoutMs: 40, retransmitBase: 1 })],
      log: (_g, _l, m) => logs.push(m),
    });
    closers.push(() => d.close());
    const o = await d.client.request({ code: RadiusCode.ACCOUNTING_REQUEST, attributes: [] });
    expect(o).toEqual({ kind: 'timeout', servers: ['quiet'], reason: "no answer from RADIUS server 'quiet'" });
    expect(silent.count()).toBe(3);
    expect(logs).toContain('retransmit 2 of RADIUS Accounting-Request (timeout: 0.0s)');
  });

  it('a name that does not resolve is logged and the request times out', { timeout: 10_000 }, async () => {
    const logs: string[] = [];
    const d = new RadiusSocketDriver({
      servers: [radiusServer({ name: 'nx', address: 'no-such-host.invalid', secret: SECRET, retransmitTries: 1, retransmitTimeoutMs: 200 })],
      log: (_g, _l, m) => logs.push(m),
    });
    closers.push(() => d.close());
    const o = await d.client.request({ code: RadiusCode.ACCESS_REQUEST, attributes: [] });
    expect(o.kind).toBe('timeout');
    // the resolver's answer may come after the 200 ms timeout on a slow resolver: wait for it a little
    for (let i = 0; i < 40 && !logs.some((l) => l.startsWith("RADIUS socket for server 'nx'")); i++) await new Promise((r) => setTimeout(r, 100));
    expect(logs.some((l) => l.startsWith("RADIUS socket for server 'nx' (no-such-host.invalid:1812) failed:"))).toBe(true);
  });

  it('close() fails what is outstanding', async () => {
    const silent = await fakeServer(undefined);
    const d = new RadiusSocketDriver({ servers: [radiusServer({ name: 'q', address: '127.0.0.1', authPort: silent.port, secret: SECRET })] });
    const p = d.client.request({ code: RadiusCode.ACCESS_REQUEST, attributes: [] });
    await new Promise((r) => setTimeout(r, 20));
    d.close();
    expect(await p).toEqual({ kind: 'timeout', servers: ['q'], reason: 'RADIUS client shut down' });
  });
});

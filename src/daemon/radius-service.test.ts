import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { AcctStatus, Attr, RadiusCode } from '../radius/constants.js';
import { radiusServer, radiusSettings } from '../radius/config.js';
import { firstText, firstU32, type RadiusPacket } from '../radius/packet.js';
import { serverAnswer, serverReceive } from '../radius/test-support.js';
import { RadiusService } from './radius-service.js';

const SECRET = new TextEncoder().encode('svc-secret');
const closers: Array<() => void> = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

async function server(): Promise<{ port: number; seen: RadiusPacket[] }> {
  const s: Socket = createSocket('udp4');
  const seen: RadiusPacket[] = [];
  s.on('message', (msg, rinfo) => {
    const req = serverReceive(new Uint8Array(msg), SECRET);
    seen.push(req);
    const code = req.code === RadiusCode.ACCOUNTING_REQUEST ? RadiusCode.ACCOUNTING_RESPONSE : RadiusCode.ACCESS_CHALLENGE;
    const attrs = code === RadiusCode.ACCESS_CHALLENGE ? [{ type: Attr.EAP_MESSAGE, value: Uint8Array.of(1, 1, 0, 6, 4, 0) }] : [];
    s.send(serverAnswer(req, SECRET, { code, attributes: attrs }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  closers.push(() => s.close());
  return { port: s.address().port, seen };
}

describe('RadiusService', () => {
  it('EAP sessions carry the accounting session id; ike-up/interim/ike-down send Start/Interim-Update/Stop', async () => {
    const srv = await server();
    const settings = radiusSettings({ servers: [radiusServer({ name: 'r', address: '127.0.0.1', authPort: srv.port, acctPort: srv.port, secret: SECRET })], accounting: true, accountingIntervalMs: 50 });
    let bytes = 0;
    const svc = new RadiusService(settings, { sessionPrefix: 42, counters: (id) => (id === 9 ? { bytesIn: (bytes += 100), bytesOut: 7, packetsIn: 1, packetsOut: 1 } : undefined) });
    closers.push(() => svc.close());
    const step = await svc.eapServer('alice', { ikeSaUniqueId: 9, local: { address: '127.0.0.1', port: 4500 } }).start();
    expect(step.kind).toBe('send');
    expect(firstText(srv.seen[0] ?? ({} as RadiusPacket), Attr.ACCT_SESSION_ID)).toBe('42-9');
    expect(await svc.ikeUp({ ikeSaUniqueId: 9, userName: 'alice' })).toEqual({ ok: true });
    await new Promise((r) => setTimeout(r, 130));
    expect(await svc.ikeDown(9, { bytesIn: 1000, bytesOut: 2000, packetsIn: 3, packetsOut: 4 })).toEqual({ ok: true });
    const acct = srv.seen.filter((p) => p.code === RadiusCode.ACCOUNTING_REQUEST);
    const types = acct.map((p) => firstU32(p, Attr.ACCT_STATUS_TYPE));
    expect(types[0]).toBe(AcctStatus.START);
    expect(types.at(-1)).toBe(AcctStatus.STOP);
    expect(types.filter((t) => t === AcctStatus.INTERIM_UPDATE).length).toBeGreaterThanOrEqual(1);
    const firstInterim = acct.find((p) => firstU32(p, Attr.ACCT_STATUS_TYPE) === AcctStatus.INTERIM_UPDATE);
    expect(firstU32(firstInterim ?? ({} as RadiusPacket), Attr.ACCT_INPUT_OCTETS)).toBe(100);
    expect(firstU32(acct.at(-1) ?? ({} as RadiusPacket), Attr.ACCT_OUTPUT_OCTETS)).toBe(2000);
  });

  it('without accounting = yes: no accounting requests', async () => {
    const srv = await server();
    const svc = new RadiusService(radiusSettings({ servers: [radiusServer({ name: 'r', address: '127.0.0.1', authPort: srv.port, acctPort: srv.port, secret: SECRET })] }));
    closers.push(() => svc.close());
    expect(svc.accounting).toBeUndefined();
    expect(await svc.ikeUp({ ikeSaUniqueId: 1, userName: 'x' })).toBeUndefined();
    expect(await svc.ikeDown(1, { bytesIn: 1, bytesOut: 1, packetsIn: 1, packetsOut: 1 })).toBeUndefined();
    expect(srv.seen).toEqual([]);
  });
});

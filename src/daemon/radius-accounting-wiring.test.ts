import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChildSaInfo, IkeEvent, IkeSaInfo } from '../ike/events.js';
import { AcctStatus, Attr, RadiusCode, TerminateCause } from '../radius/constants.js';
import { radiusServer, radiusSettings } from '../radius/config.js';
import { attributes, firstText, firstU32, type RadiusPacket } from '../radius/packet.js';
import { serverAnswer, serverReceive } from '../radius/test-support.js';
import { RadiusAccountingWiring, terminateCause, type EspSaCounters } from './radius-accounting-wiring.js';
import { RadiusService } from './radius-service.js';

const SECRET = new TextEncoder().encode('wiring-secret');
const closers: Array<() => void> = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

/** An accounting server that answers every Accounting-Request and keeps them. */
async function acctServer(): Promise<{ port: number; seen: RadiusPacket[] }> {
  const s: Socket = createSocket('udp4');
  const seen: RadiusPacket[] = [];
  s.on('message', (msg, rinfo) => {
    const req = serverReceive(new Uint8Array(msg), SECRET);
    seen.push(req);
    const code = req.code === RadiusCode.ACCOUNTING_REQUEST ? RadiusCode.ACCOUNTING_RESPONSE : RadiusCode.ACCESS_REJECT;
    s.send(serverAnswer(req, SECRET, { code }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  closers.push(() => s.close());
  return { port: s.address().port, seen };
}

/** The daemon as the wiring sees it: an event bus and ESP SAs whose counters the test moves. */
class FakeDaemon {
  private readonly listeners: ((e: IkeEvent) => void)[] = [];
  readonly sas = new Map<string, { bytes: number; packets: number }>();
  readonly engine = { getSa: (spi: number, d: 'in' | 'out'): EspSaCounters | undefined => this.sas.get(`${d}${spi}`) };
  onEvent(l: (e: IkeEvent) => void): void {
    this.listeners.push(l);
  }
  emit(e: IkeEvent): void {
    for (const l of this.listeners) l(e);
  }
  /** Installs a CHILD SA's ESP SAs in the fake engine and announces it. */
  install(child: ChildSaInfo): void {
    this.sas.set(`in${child.spiIn}`, { bytes: 0, packets: 0 });
    this.sas.set(`out${child.spiOut}`, { bytes: 0, packets: 0 });
    const keys = { spi: 0, encrKey: new Uint8Array(0), integKey: new Uint8Array(0) };
    this.emit({ type: 'child-install', child, inbound: keys, outbound: keys, lifetimes: { softBytes: 0, hardBytes: 0, softPackets: 0, hardPackets: 0 }, outboundActive: true });
  }
  /** Traffic through a CHILD SA. */
  traffic(child: ChildSaInfo, bytesIn: number, bytesOut: number): void {
    const i = this.sas.get(`in${child.spiIn}`);
    const o = this.sas.get(`out${child.spiOut}`);
    if (i) (i.bytes += bytesIn), (i.packets += 1);
    if (o) (o.bytes += bytesOut), (o.packets += 1);
  }
  /** The engine forgets the SAs (the object keeps its counters, as EspEngine's). */
  remove(child: ChildSaInfo): void {
    this.sas.delete(`in${child.spiIn}`);
    this.sas.delete(`out${child.spiOut}`);
    this.emit({ type: 'child-remove', child, reason: 'rekeyed' });
  }
}

const ikeSa = (id: number, over: Partial<IkeSaInfo> = {}): IkeSaInfo => ({
  id,
  name: 'rw',
  state: 'ESTABLISHED',
  initiator: false,
  spiI: new Uint8Array(8),
  spiR: new Uint8Array(8),
  local: { address: '192.0.2.1', port: 4500 },
  remote: { address: '192.0.2.2', port: 4500 },
  localId: 'gw',
  remoteId: 'carol@cygnet.test',
  suite: 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519',
  natDetected: { local: false, remote: false },
  encapsulated: false,
  ...over,
});
const child = (id: number, ikeSaId: number): ChildSaInfo => ({
  ikeSaId,
  name: 'net',
  id,
  mode: 'tunnel',
  protocol: 'esp',
  encrId: 20,
  integId: 0,
  esn: false,
  spiIn: 0x1000 + id,
  spiOut: 0x2000 + id,
  localTs: [],
  remoteTs: [],
  local: { address: '192.0.2.1', port: 4500 },
  remote: { address: '192.0.2.2', port: 4500 },
  encapsulated: false,
  suite: 'AES_GCM_16-128',
});

async function setup(intervalMs = 0, accountingSendClass = false): Promise<{ d: FakeDaemon; svc: RadiusService; seen: RadiusPacket[]; acct: () => RadiusPacket[] }> {
  const srv = await acctServer();
  const settings = radiusSettings({ servers: [radiusServer({ name: 'r', address: '127.0.0.1', authPort: srv.port, acctPort: srv.port, secret: SECRET })], accounting: true, accountingIntervalMs: intervalMs, accountingSendClass });
  const svc = new RadiusService(settings, { sessionPrefix: 7 });
  closers.push(() => svc.close());
  const d = new FakeDaemon();
  new RadiusAccountingWiring(d, svc);
  return { d, svc, seen: srv.seen, acct: () => srv.seen.filter((p) => p.code === RadiusCode.ACCOUNTING_REQUEST) };
}

const until = async (what: string, f: () => boolean, ms = 2000): Promise<void> => {
  for (const end = Date.now() + ms; !f(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
const status = (p: RadiusPacket | undefined): number | undefined => (p ? firstU32(p, Attr.ACCT_STATUS_TYPE) : undefined);

describe('RadiusAccountingWiring', () => {
  it('Start with the EAP-RADIUS identity and Class; Stop with every CHILD SA counted (a rekeyed one and an IKE rekey included) and the cause', async () => {
    const { d, svc, acct } = await setup(0, true);
    // an earlier attempt of another peer with the same identity, never accepted
    svc.eapServer('carol@cygnet.test', { connectionName: 'rw', remote: { address: '192.0.2.99', port: 4500 } });
    // the EAP-RADIUS session that authenticated the peer, accepted with a Class
    const eap = svc.eapServer('carol@cygnet.test', { connectionName: 'rw', remote: { address: '192.0.2.2', port: 4500 } });
    eap.accepted = { server: 'r', classes: [Uint8Array.of(0x73, 0x74)], replyMessages: [] };
    const c1 = child(1, 5);
    d.install(c1);
    d.emit({ type: 'ike-up', sa: ikeSa(5) });
    await until('Start', () => acct().length === 1);
    const start = acct()[0];
    expect(status(start)).toBe(AcctStatus.START);
    expect(firstText(start ?? ({} as RadiusPacket), Attr.USER_NAME)).toBe('carol@cygnet.test');
    expect(firstText(start ?? ({} as RadiusPacket), Attr.ACCT_SESSION_ID)).toBe('7-5');
    // the Access-Accept's Class: proof the Start belongs to that RADIUS session (accounting_send_class)
    expect(attributes(start ?? ({} as RadiusPacket), Attr.CLASS)).toEqual([Uint8Array.of(0x73, 0x74)]);

    d.traffic(c1, 1000, 2000);
    // CHILD SA rekey: the old SA's counters stay counted after the engine dropped it
    const c2 = child(2, 5);
    d.install(c2);
    d.remove(c1);
    d.traffic(c2, 10, 20);
    // IKE SA rekey: the session moves to IKE SA 6, same Acct-Session-Id
    d.emit({ type: 'ike-rekeyed', old: ikeSa(5), sa: ikeSa(6) });
    d.emit({ type: 'ike-down', sa: ikeSa(5), reason: 'rekeyed', message: 'rekeyed' });
    const c3 = child(3, 6);
    d.install(c3);
    d.traffic(c3, 100, 200);
    d.emit({ type: 'ike-down', sa: ikeSa(6), reason: 'timeout', message: 'peer not responding' });
    await until('Stop', () => acct().length === 2);
    const stop = acct()[1] ?? ({} as RadiusPacket);
    expect(status(stop)).toBe(AcctStatus.STOP);
    expect(firstText(stop, Attr.ACCT_SESSION_ID)).toBe('7-5');
    expect(firstU32(stop, Attr.ACCT_INPUT_OCTETS)).toBe(1110);
    expect(firstU32(stop, Attr.ACCT_OUTPUT_OCTETS)).toBe(2220);
    expect(firstU32(stop, Attr.ACCT_INPUT_PACKETS)).toBe(3);
    expect(firstU32(stop, Attr.ACCT_OUTPUT_PACKETS)).toBe(3);
    expect(firstU32(stop, Attr.ACCT_TERMINATE_CAUSE)).toBe(TerminateCause.LOST_SERVICE);
    expect(firstU32(stop, Attr.NAS_PORT)).toBe(6);
    expect(svc.accounting?.active).toEqual([]);
    expect(attributes(stop, Attr.CLASS)).toEqual([Uint8Array.of(0x73, 0x74)]);
  });

  it('a RADIUS session is taken once, and only when it ended in an Access-Accept', async () => {
    const { svc } = await setup();
    const remote = { address: '192.0.2.2', port: 4500 };
    const rejected = svc.eapServer('mallory', { connectionName: 'rw', remote });
    rejected.rejected = { server: 'r', replyMessages: [] };
    expect(svc.takeSession('rw', remote, 'mallory')).toBeUndefined();
    const ok = svc.eapServer('carol', { connectionName: 'rw', remote });
    ok.accepted = { server: 'r', classes: [], replyMessages: [] };
    expect(svc.takeSession('rw', { address: '192.0.2.2', port: 4501 }, 'carol')).toBeUndefined();
    expect(svc.takeSession('rw', remote, 'carol')).toBe(ok);
    expect(svc.takeSession('rw', remote, 'carol')).toBeUndefined();
  });

  it('Class attributes are echoed only with accounting_send_class (none here); no EAP session: the IKE identity is the User-Name', async () => {
    const { d, acct } = await setup();
    d.emit({ type: 'ike-up', sa: ikeSa(9, { remoteId: 'dave@cygnet.test' }) });
    await until('Start', () => acct().length === 1);
    const start = acct()[0] ?? ({} as RadiusPacket);
    expect(firstText(start, Attr.USER_NAME)).toBe('dave@cygnet.test');
    expect(attributes(start, Attr.CLASS)).toEqual([]);
  });

  it('Interim-Update carries the counters so far', async () => {
    const { d, acct } = await setup(60);
    const c = child(1, 3);
    d.install(c);
    d.emit({ type: 'ike-up', sa: ikeSa(3) });
    d.traffic(c, 300, 400);
    await until('Interim-Update', () => acct().some((p) => status(p) === AcctStatus.INTERIM_UPDATE));
    const interim = acct().find((p) => status(p) === AcctStatus.INTERIM_UPDATE) ?? ({} as RadiusPacket);
    expect(firstU32(interim, Attr.ACCT_INPUT_OCTETS)).toBe(300);
    expect(firstU32(interim, Attr.ACCT_OUTPUT_OCTETS)).toBe(400);
    d.emit({ type: 'ike-down', sa: ikeSa(3), reason: 'deleted-by-peer', message: 'deleted by peer' });
    await until('Stop', () => acct().some((p) => status(p) === AcctStatus.STOP));
    expect(firstU32(acct().find((p) => status(p) === AcctStatus.STOP) ?? ({} as RadiusPacket), Attr.ACCT_TERMINATE_CAUSE)).toBe(TerminateCause.USER_REQUEST);
  });

  it('no accounting for IKE SAs we initiated, nor for ones that never came up (auth failure: no Start, no Stop)', async () => {
    const { d, acct } = await setup();
    d.emit({ type: 'ike-up', sa: ikeSa(1, { initiator: true }) });
    d.emit({ type: 'ike-down', sa: ikeSa(1, { initiator: true }), reason: 'deleted', message: '' });
    d.emit({ type: 'ike-down', sa: ikeSa(2), reason: 'auth-failed', message: 'EAP failed' });
    await new Promise((r) => setTimeout(r, 100));
    expect(acct()).toEqual([]);
  });

  it('maps down reasons to Acct-Terminate-Cause as strongSwan', () => {
    expect(terminateCause('timeout', '')).toBe(TerminateCause.LOST_SERVICE);
    expect(terminateCause('deleted', 'IKE_SA lifetime expired')).toBe(TerminateCause.SESSION_TIMEOUT);
    expect(terminateCause('deleted-by-peer', 'deleted by peer')).toBe(TerminateCause.USER_REQUEST);
  });
});

import { describe, expect, it } from 'vitest';
import { IkeViciBackend, type IkeControl } from './ike-backend.js';
import type { ViciLogLine, ViciResult } from './backend.js';
import type { ChildSaInfo, IkeEvent, IkeSaInfo } from '../ike/events.js';
import { child, connection } from '../ike/config-builder.js';
import { parseTrafficSelector, type TrafficSelector } from '../ike/traffic-selector.js';
import { ENCR } from '../crypto/transforms.js';

const ts = (s: string): TrafficSelector => parseTrafficSelector(s) as TrafficSelector;

const CONNS = [
  connection({ name: 'gw', remoteAddrs: ['192.0.2.2'], children: [child('net', { localTs: ['10.1.0.0/16'], remoteTs: ['10.2.0.0/16'] }), child('dmz')] }),
  connection({ name: 'bare', remoteAddrs: ['192.0.2.3'] }),
];

function ikeInfo(id: number, name: string, state: IkeSaInfo['state'] = 'ESTABLISHED'): IkeSaInfo {
  return {
    id, name, state, initiator: true, spiI: new Uint8Array(8).fill(id), spiR: new Uint8Array(8).fill(9),
    local: { address: '192.0.2.1', port: 4500 }, remote: { address: '192.0.2.2', port: 4500 },
    localId: 'moon', remoteId: 'sun', suite: 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519',
    natDetected: { local: false, remote: false }, encapsulated: true, establishedAt: 1000,
  };
}
function childInfo(ikeSaId: number, name: string, id: number): ChildSaInfo {
  return {
    ikeSaId, name, id, mode: 'tunnel', protocol: 'esp', encrId: ENCR.AES_GCM_16, encrKeyBits: 128, integId: 0, esn: false,
    spiIn: 0xc0000000 + id, spiOut: 0x0d000000 + id, localTs: [ts('10.1.0.0/16')], remoteTs: [ts('10.2.0.0/16')],
    local: { address: '192.0.2.1', port: 4500 }, remote: { address: '192.0.2.2', port: 4500 }, encapsulated: true, suite: 'AES_GCM_16-128',
  };
}

/** A scripted driver: records commands; the test pushes events through backend.onEvent. */
class FakeControl implements IkeControl {
  sas: { sa: IkeSaInfo; children: ChildSaInfo[] }[] = [];
  calls: string[] = [];
  nextId = 10;
  /** Events the "driver" flushes synchronously inside initiate/terminate. */
  syncEvents: (id: number) => IkeEvent[] = () => [];
  backend!: IkeViciBackend;
  initiate(conn: string, c?: string): number {
    const id = this.nextId++;
    this.calls.push(`initiate ${conn} ${c ?? '-'} -> ${id}`);
    for (const e of this.syncEvents(id)) this.backend.onEvent(e);
    return id;
  }
  terminateIke(id: number): boolean {
    this.calls.push(`terminateIke ${id}`);
    for (const e of this.syncEvents(id)) this.backend.onEvent(e);
    return this.sas.some((s) => s.sa.id === id);
  }
  terminateChild(id: number): boolean {
    this.calls.push(`terminateChild ${id}`);
    return true;
  }
  rekeyIke(id: number, reauth: boolean): boolean {
    this.calls.push(`rekeyIke ${id} ${reauth}`);
    return true;
  }
  rekeyChild(id: number): boolean {
    this.calls.push(`rekeyChild ${id}`);
    return true;
  }
  listSas() {
    return this.sas;
  }
  connections() {
    return CONNS;
  }
  reload(): ViciResult {
    return { success: true };
  }
  now(): number {
    return 61_000;
  }
}

function setup(): { ctl: FakeControl; b: IkeViciBackend } {
  const ctl = new FakeControl();
  const b = new IkeViciBackend(ctl, { version: '0.1.0', plugins: ['ike'] });
  ctl.backend = b;
  return { ctl, b };
}

function initiateReq(o: { child?: string; ike?: string }, logs: ViciLogLine[] = [], signal = new AbortController().signal) {
  return { ...o, timeoutMs: 0, logLevel: 1, onLog: (l: ViciLogLine) => logs.push(l), signal };
}

describe('IkeViciBackend', () => {
  it('initiate by child name resolves on that CHILD_SA install, forwarding the SA log lines', async () => {
    const { ctl, b } = setup();
    const logs: ViciLogLine[] = [];
    ctl.syncEvents = (id) => [{ type: 'log', group: 'ike', level: 1, ikeSaId: id, message: `initiating IKE_SA gw[${id}]` }];
    const p = b.initiate(initiateReq({ child: 'dmz' }, logs));
    expect(ctl.calls).toEqual(['initiate gw dmz -> 10']);
    b.onEvent({ type: 'log', group: 'ike', level: 1, ikeSaId: 99, message: 'another SA' });
    b.onEvent({ type: 'ike-up', sa: ikeInfo(10, 'gw') });
    b.onEvent({ type: 'log', group: 'chd', level: 1, ikeSaId: 10, message: 'CHILD_SA dmz{1} established' });
    b.onEvent({
      type: 'child-install', child: childInfo(10, 'dmz', 1), inbound: { spi: 1, encrKey: new Uint8Array(), integKey: new Uint8Array() },
      outbound: { spi: 2, encrKey: new Uint8Array(), integKey: new Uint8Array() }, lifetimes: { softBytes: 0, hardBytes: 0, softPackets: 0, hardPackets: 0 }, outboundActive: true,
    });
    expect(await p).toEqual({ success: true });
    expect(logs.map((l) => l.message)).toEqual(['initiating IKE_SA gw[10]', 'CHILD_SA dmz{1} established']);
    expect(logs[0]).toMatchObject({ ikeSaName: 'gw', ikeSaUniqueId: 10 });
  });

  it('initiate of a connection without children resolves on ike-up', async () => {
    const { b } = setup();
    const p = b.initiate(initiateReq({ ike: 'bare' }));
    b.onEvent({ type: 'ike-up', sa: ikeInfo(10, 'bare') });
    expect(await p).toEqual({ success: true });
  });

  it('unknown names fail at once with charon-like messages', async () => {
    const { ctl, b } = setup();
    expect(await b.initiate(initiateReq({ child: 'nope' }))).toEqual({ success: false, errmsg: "CHILD_SA config 'nope' not found" });
    expect(await b.initiate(initiateReq({ ike: 'nope' }))).toEqual({ success: false, errmsg: "IKE_SA config 'nope' not found" });
    expect(await b.initiate(initiateReq({ ike: 'bare', child: 'net' }))).toEqual({ success: false, errmsg: "CHILD_SA config 'net' not found" });
    expect(ctl.calls).toEqual([]);
  });

  it('initiate fails on ike-down, auth-failed or child-failed of its SA, even when flushed synchronously', async () => {
    const { ctl, b } = setup();
    ctl.syncEvents = (id) => [{ type: 'ike-down', sa: ikeInfo(id, 'gw', 'DESTROYING'), reason: 'error', message: 'no route to host' }];
    expect(await b.initiate(initiateReq({ child: 'net' }))).toEqual({ success: false, errmsg: "establishing IKE_SA 'gw' failed: error: no route to host" });
    ctl.syncEvents = () => [];
    const p2 = b.initiate(initiateReq({ child: 'net' }));
    b.onEvent({ type: 'auth-failed', ikeSaId: 11, message: 'AUTHENTICATION_FAILED notify' });
    expect((await p2).errmsg).toContain('authentication failed');
    const p3 = b.initiate(initiateReq({ child: 'net' }));
    b.onEvent({ type: 'child-failed', ikeSaId: 12, name: 'net', notify: 'TS_UNACCEPTABLE', message: '' });
    expect(await p3).toEqual({ success: false, errmsg: "establishing CHILD_SA 'net' failed: TS_UNACCEPTABLE" });
  });

  it('initiate stops waiting when the request is aborted (detached)', async () => {
    const { b } = setup();
    const ac = new AbortController();
    const p = b.initiate(initiateReq({ child: 'net' }, [], ac.signal));
    ac.abort();
    expect((await p).success).toBe(false);
  });

  it('terminate by IKE name waits for ike-down; by child for child-remove; none matching fails', async () => {
    const { ctl, b } = setup();
    ctl.sas = [{ sa: ikeInfo(1, 'gw'), children: [childInfo(1, 'net', 5)] }];
    const logs: ViciLogLine[] = [];
    const req = { timeoutMs: 0, logLevel: 1, onLog: (l: ViciLogLine) => logs.push(l), signal: new AbortController().signal, force: false };
    let done = false;
    const p = b.terminate({ ...req, ike: 'gw' }).then((r) => ((done = true), r));
    await Promise.resolve();
    expect(done).toBe(false);
    b.onEvent({ type: 'log', group: 'ike', level: 1, ikeSaId: 1, message: 'deleting IKE_SA gw[1]' });
    b.onEvent({ type: 'ike-down', sa: ikeInfo(1, 'gw', 'DELETING'), reason: 'deleted', message: '' });
    expect(await p).toEqual({ success: true, matches: 1 });
    expect(logs.map((l) => l.message)).toEqual(['deleting IKE_SA gw[1]']);

    const pc = b.terminate({ ...req, child: 'net' });
    b.onEvent({ type: 'child-remove', child: childInfo(1, 'net', 5), reason: 'deleted' });
    expect(await pc).toEqual({ success: true, matches: 1 });
    expect(ctl.calls).toEqual(['terminateIke 1', 'terminateChild 5']);

    expect(await b.terminate({ ...req, ike: 'nope' })).toEqual({ success: false, errmsg: 'no matching SAs to terminate found', matches: 0 });
    expect(await b.terminate({ ...req, ikeId: 1, force: true })).toEqual({ success: true, matches: 1 });
  });

  it('terminate completes when the ike-down is flushed synchronously', async () => {
    const { ctl, b } = setup();
    ctl.sas = [{ sa: ikeInfo(1, 'gw', 'CONNECTING'), children: [] }];
    ctl.syncEvents = (id) => [{ type: 'ike-down', sa: ikeInfo(id, 'gw', 'DESTROYING'), reason: 'deleted', message: '' }];
    const r = await b.terminate({ ike: 'gw', force: false, timeoutMs: 0, logLevel: 1, onLog: () => {}, signal: new AbortController().signal });
    expect(r).toEqual({ success: true, matches: 1 });
  });

  it('rekey selects CHILD_SAs or IKE_SAs', () => {
    const { ctl, b } = setup();
    ctl.sas = [{ sa: ikeInfo(1, 'gw'), children: [childInfo(1, 'net', 5)] }];
    expect(b.rekey({ child: 'net', reauth: false })).toEqual({ success: true, matches: 1 });
    expect(b.rekey({ ike: 'gw', reauth: true })).toEqual({ success: true, matches: 1 });
    expect(b.rekey({ ike: 'x', reauth: false })).toMatchObject({ success: false, matches: 0 });
    expect(ctl.calls).toEqual(['rekeyChild 5', 'rekeyIke 1 true']);
  });

  it('lists SAs, connections and stats through the adapters', () => {
    const { ctl, b } = setup();
    ctl.sas = [{ sa: ikeInfo(1, 'gw'), children: [childInfo(1, 'net', 5)] }, { sa: ikeInfo(2, 'gw', 'CONNECTING'), children: [] }];
    const sas = b.listSas();
    expect(sas[0]).toMatchObject({ name: 'gw', uniqueId: 1, established: 60, encrAlg: 'AES_GCM_16', encrKeySize: 128 });
    expect(sas[0]!.children[0]).toMatchObject({ name: 'net', uniqueId: 5, spiIn: 0xc0000005 });
    expect(b.stats()).toEqual({ ikeSas: { total: 2, halfOpen: 1 }, plugins: ['ike'], scheduled: 0 });
    expect(b.listConns().map((c) => c.name)).toEqual(['gw', 'bare']);
    expect(b.version()).toEqual({ daemon: 'cygnet', version: '0.1.0' });
  });
});

/**
 * ESP drops where users look (issue 15): list-sas carries drops-in / drops-out per CHILD SA and `cygnet list-sas`
 * prints them beside the packet counters; stats carries esp-drops and `cygnet stats` prints them; get-counters'
 * global section carries esp-drop-<reason> after charon's counter names; the status file's children carry them.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { viciChildSa, viciIkeSa } from '../../src/vici/adapt.js';
import { childSaBody, listSaEvent, registerViciCommands, statsReply } from '../../src/vici/commands.js';
import { ViciClient } from '../../src/vici/client.js';
import { decodeMessage, encodeMessage, type ViciMessage } from '../../src/vici/message.js';
import { formatListSa, formatStats } from '../../src/vici/format.js';
import { ViciServer } from '../../src/vici/server.js';
import { childStatus, statusLines, type EspCounters } from '../../src/daemon/status.js';
import type { ChildSaInfo, IkeSaInfo } from '../../src/ike/events.js';
import { parseTrafficSelector, type TrafficSelector } from '../../src/ike/traffic-selector.js';
import { ENCR } from '../../src/crypto/transforms.js';
import { IkeCounters } from '../../src/vici/counters.js';
import { FakeBackend } from './fake-backend.js';

const ts = (s: string): TrafficSelector => parseTrafficSelector(s) as TrafficSelector;

const SA: IkeSaInfo = {
  id: 5, name: 'site', state: 'ESTABLISHED', initiator: true,
  spiI: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), spiR: Uint8Array.from([9, 10, 11, 12, 13, 14, 15, 16]),
  local: { address: '10.0.0.1', port: 4500 }, remote: { address: '10.0.0.2', port: 4500 },
  localId: 'moon', remoteId: 'sun', suite: 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519',
  natDetected: { local: false, remote: false }, encapsulated: true, establishedAt: 0,
};

const CHILD: ChildSaInfo = {
  ikeSaId: 5, name: 'net', id: 9, mode: 'tunnel', protocol: 'esp', encrId: ENCR.AES_GCM_16, encrKeyBits: 128, integId: 0,
  keGroup: undefined as never, esn: false, spiIn: 0xc0000001, spiOut: 0xc0000002,
  localTs: [ts('10.1.0.0/16')], remoteTs: [ts('10.2.0.0/16')], local: SA.local, remote: SA.remote, encapsulated: true,
  suite: 'AES_GCM_16-128',
};

describe('list-sas shows per-SA drops', () => {
  it('drops-in / drops-out in the vici message and on the in/out lines', () => {
    const extras = { now: 1000, installedAt: 0, bytesIn: 100, packetsIn: 2, dropsIn: { replay: 3, 'bad-padding': 1 }, dropsOut: {} };
    const c = viciChildSa(CHILD, extras);
    expect(c.dropsIn).toEqual({ replay: 3, 'bad-padding': 1 });
    expect(c.dropsOut).toBeUndefined();
    const body = childSaBody(c);
    expect(body['drops-in']).toEqual({ replay: 3, 'bad-padding': 1 });
    expect(body['drops-out']).toBeUndefined();
    const lines = formatListSa(decodeMessage(encodeMessage(listSaEvent(viciIkeSa(SA, [CHILD], { now: 1000, child: () => extras })))));
    expect(lines).toContain('    in  c0000001,    100 bytes,     2 packets, dropped: replay 3, bad-padding 1');
    expect(lines).toContain('    out c0000002,      0 bytes,     0 packets');
  });

  it('no drops, no extra keys (the output stays swanctl-shaped)', () => {
    const body = childSaBody(viciChildSa(CHILD, { dropsIn: {}, dropsOut: {} }));
    expect(Object.keys(body).some((k) => k.startsWith('drops'))).toBe(false);
  });
});

describe('stats shows ESP drop totals', () => {
  it('esp-drops in the reply and a line in `cygnet stats`', () => {
    const r = statsReply({ ikeSas: { total: 1, halfOpen: 0 }, espDrops: { 'unknown-spi': 4, 'icv-failure': 2 } }, 0, 1000);
    expect(r['esp-drops']).toEqual({ 'unknown-spi': 4, 'icv-failure': 2 });
    expect(formatStats(decodeMessage(encodeMessage(r)))).toContain('ESP packets dropped: unknown-spi 4, icv-failure 2');
    expect(formatStats(decodeMessage(encodeMessage(statsReply({ ikeSas: { total: 0, halfOpen: 0 }, espDrops: {} }, 0, 1000))))).toContain('ESP packets dropped: none');
    expect(statsReply({ ikeSas: { total: 0, halfOpen: 0 } }, 0, 1000)['esp-drops']).toBeUndefined();
  });
});

describe('get-counters carries the ESP drops in the global section', () => {
  class DropBackend extends FakeBackend {
    readonly counters = new IkeCounters();
    espDrops(): Readonly<Record<string, number>> {
      return { replay: 7, 'tun-full': 1 };
    }
  }
  let dir: string;
  let server: ViciServer;
  let c: ViciClient;
  const backend = new DropBackend();
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cygnet-vici-drops-'));
    server = new ViciServer({ path: join(dir, 'vici') });
    registerViciCommands(server, backend, { log: () => {} });
    await server.listen();
    c = await ViciClient.connect(join(dir, 'vici'));
  });
  afterEach(async () => {
    c.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('esp-drop-<reason> after charon counter names, global only', async () => {
    backend.counters.count('invalid');
    backend.counters.count('child-rekey', 'gw');
    const g = (await c.request('get-counters')).counters as ViciMessage;
    expect(g['']).toMatchObject({ invalid: '1', 'esp-drop-replay': '7', 'esp-drop-tun-full': '1' });
    const all = (await c.request('get-counters', { all: 'yes' })).counters as ViciMessage;
    expect(all['']).toMatchObject({ 'esp-drop-replay': '7' });
    expect(Object.keys(all.gw as ViciMessage).some((k) => k.startsWith('esp-drop'))).toBe(false);
    const gw = (await c.request('get-counters', { name: 'gw' })).counters as ViciMessage;
    expect(Object.keys(gw.gw as ViciMessage)).toHaveLength(21);
  });
});

describe('status file children carry drops', () => {
  it('dropsIn / dropsOut when non-zero, and a SIGUSR1 line', () => {
    const counters = (_spi: number, dir: 'in' | 'out'): EspCounters => (dir === 'in' ? { bytes: 10, packets: 1, drops: { 'policy-violation': 2 } } : { bytes: 0, packets: 0, drops: {} });
    const s = childStatus(CHILD, counters);
    expect(s.dropsIn).toEqual({ 'policy-violation': 2 });
    expect(s.dropsOut).toBeUndefined();
    const lines = statusLines({ pid: 1, state: 'running', updated: '', counters: {}, ikeSas: [{ id: 5, name: 'site', state: 'ESTABLISHED', initiator: true, spiI: '', spiR: '', local: '', remote: '', localId: '', remoteId: '', suite: '', encapsulated: true, natLocal: false, natRemote: false, children: [s] }] });
    expect(lines).toContain('      dropped in: policy-violation 2');
  });
});

import { describe, expect, it } from 'vitest';
import { ConsoleHub, type SseClient } from './hub.js';
import type { ViciMessage } from '../vici/message.js';

const sa = (bytesIn: string, up = true): ViciMessage => ({
  ...(up ? { up: 'yes' } : {}),
  gw: { uniqueid: '4', state: 'ESTABLISHED', 'remote-host': '192.0.2.2', 'remote-id': 'sun', 'child-sas': { 'net-7': { name: 'net', uniqueid: '7', state: 'INSTALLED', 'bytes-in': bytesIn, 'bytes-out': '10', 'local-ts': ['10.1.0.0/16'], 'remote-ts': ['10.2.0.0/16'] } } },
});

function hubWith(lists: ViciMessage[][]): { hub: ConsoleHub; sent: Array<[string, unknown]>; clock: { t: number } } {
  const clock = { t: 1_000_000 };
  let i = 0;
  const hub = new ConsoleHub({ list: async () => lists[Math.min(i++, lists.length - 1)] ?? [] }, { now: () => clock.t, sampleMs: 3600_000 });
  const sent: Array<[string, unknown]> = [];
  const client: SseClient = { send: (e, d) => sent.push([e, d]) };
  hub.attach(client);
  return { hub, sent, clock };
}

describe('console hub', () => {
  it('turns vici events into timeline entries, charon log wording into auth-failed and dpd entries', () => {
    const { hub, sent } = hubWith([[]]);
    hub.onEvent('ike-updown', sa('0'));
    hub.onEvent('child-updown', sa('0', false));
    hub.onEvent('ike-rekey', { gw: { old: { uniqueid: '4' }, new: { uniqueid: '5' } } });
    hub.onEvent('log', { group: 'IKE', level: '0', 'ikesa-name': 'gw', msg: "received AUTHENTICATION_FAILED notify error" });
    hub.onEvent('log', { group: 'IKE', level: '1', 'ikesa-name': 'gw', msg: 'giving up after 5 retransmits' });
    hub.onEvent('log', { group: 'IKE', level: '1', msg: 'an ordinary line' });
    hub.stop();
    expect(hub.timeline.map((e) => e.kind)).toEqual(['ike-up', 'child-down', 'ike-rekey', 'auth-failed', 'dpd']);
    expect(hub.timeline[0]?.detail).toBe('IKE SA gw[4] established with sun (192.0.2.2)');
    expect(hub.timeline[1]?.detail).toBe('CHILD SA net{7} removed: 10.1.0.0/16 === 10.2.0.0/16');
    expect(hub.logs.map((l) => [l.group, l.level, l.ike])).toEqual([
      ['IKE', 0, 'gw'],
      ['IKE', 1, 'gw'],
      ['IKE', 1, ''],
    ]);
    expect(sent.filter(([e]) => e === 'log')).toHaveLength(3);
    expect(sent.filter(([e]) => e === 'timeline')).toHaveLength(5);
  });

  it('samples traffic per IKE SA and CHILD name on each list-sas, shares concurrent refreshes, keeps one hour', async () => {
    const { hub, sent, clock } = hubWith([[sa('100')], [sa('600')], [sa('900')]]);
    await Promise.all([hub.refresh(), hub.refresh()]);
    clock.t += 5000;
    await hub.refresh();
    expect(hub.history.get('4/net')?.map((s) => [s.t, s.bytesIn])).toEqual([
      [1_000_000, 100],
      [1_005_000, 600],
    ]);
    expect(sent.filter(([e]) => e === 'sas')).toHaveLength(2);
    clock.t += 3600_001;
    await hub.refresh();
    expect(hub.history.get('4/net')?.map((s) => s.bytesIn)).toEqual([900]);
    hub.stop();
  });

  it('keeps the last SA list when list-sas fails and says why', async () => {
    const hub = new ConsoleHub({
      list: async () => {
        throw new Error('connection closed by the server');
      },
    });
    await hub.refresh();
    expect(hub.sas).toEqual([]);
    expect(hub.viciError).toBe('connection closed by the server');
    hub.stop();
  });
});

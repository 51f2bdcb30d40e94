import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random.js';
import { RadiusAccounting } from './accounting.js';
import { RadiusClient } from './client.js';
import { radiusServer } from './config.js';
import { AcctStatus, Attr, RadiusCode, TerminateCause } from './constants.js';
import { attributes, firstAttribute, firstText, firstU32, ipv4Text, type RadiusPacket } from './packet.js';
import { serverAnswer, serverReceive } from './test-support.js';

const SECRET = new TextEncoder().encode('acct-secret');

function acctHarness(opts: { answer?: boolean; sendClass?: boolean; intervalMs?: number } = {}) {
  const seen: RadiusPacket[] = [];
  const client: RadiusClient = new RadiusClient({
    servers: [radiusServer({ name: 'acct1', address: '192.0.2.10', secret: SECRET, retransmitTries: 1, retransmitTimeoutMs: 10 })],
    random: seededRandom(9),
    onWake: () =>
      setImmediate(() => {
        for (const t of client.poll(0)) {
          expect(t.port).toBe(1813);
          const req = serverReceive(t.data, SECRET); // the RFC 2866 3 Request Authenticator verifies
          seen.push(req);
          if (opts.answer !== false) client.receive(t.server, t.kind, serverAnswer(req, SECRET, { code: RadiusCode.ACCOUNTING_RESPONSE }), 0);
        }
        if (client.nextDeadline() !== undefined) setImmediate(() => client.poll(1000));
      }),
  });
  const acct = new RadiusAccounting({ client, sessionPrefix: 1_700_000_123, ...(opts.sendClass ? { sendClass: true } : {}), ...(opts.intervalMs ? { intervalMs: opts.intervalMs } : {}) });
  return { acct, seen };
}

const info = {
  ikeSaUniqueId: 3,
  userName: 'alice',
  connectionName: 'rw',
  local: { address: '192.0.2.1', port: 4500 },
  remote: { address: '198.51.100.2', port: 4500 },
  virtualIps: ['10.3.0.9', 'fd00::9'],
  classes: [Uint8Array.of(1, 2, 3)],
};

describe('RadiusAccounting (RFC 2866, eap_radius_accounting.c)', () => {
  it('Start, Interim-Update, Stop with the session id, station ids, virtual IP, counters and cause', async () => {
    const { acct, seen } = acctHarness();
    expect(await acct.start(info, 10_000)).toEqual({ ok: true });
    expect(await acct.start(info, 10_500)).toEqual({ ok: true }); // a second Start for the same SA is not sent
    expect(await acct.interim(3, { bytesIn: 100, bytesOut: 200, packetsIn: 1, packetsOut: 2 }, 40_000)).toEqual({ ok: true });
    acct.setTerminateCause(3, TerminateCause.SESSION_TIMEOUT);
    const big = 2 ** 32 * 3 + 17;
    expect(await acct.stop(3, { bytesIn: big, bytesOut: 4096, packetsIn: 5, packetsOut: 6 }, 70_999)).toEqual({ ok: true });
    expect(acct.active).toEqual([]);
    expect(seen.map((p) => firstU32(p, Attr.ACCT_STATUS_TYPE))).toEqual([AcctStatus.START, AcctStatus.INTERIM_UPDATE, AcctStatus.STOP]);
    const [start, interim, stop] = seen;
    if (!start || !interim || !stop) throw new Error('missing requests');
    for (const p of seen) {
      expect(p.code).toBe(RadiusCode.ACCOUNTING_REQUEST);
      expect(firstText(p, Attr.ACCT_SESSION_ID)).toBe('1700000123-3');
      expect(firstText(p, Attr.USER_NAME)).toBe('alice');
      expect(firstU32(p, Attr.NAS_PORT_TYPE)).toBe(5);
      expect(firstText(p, Attr.CALLED_STATION_ID)).toBe('192.0.2.1[4500]');
      expect(firstText(p, Attr.CALLING_STATION_ID)).toBe('198.51.100.2[4500]');
      expect(attributes(p, Attr.FRAMED_IP_ADDRESS).map((v) => ipv4Text(v))).toEqual(['10.3.0.9']);
      expect(firstText(p, Attr.NAS_IDENTIFIER)).toBe('strongSwan');
      expect(attributes(p, Attr.ACCT_SESSION_ID)).toHaveLength(1);
      expect(firstAttribute(p, Attr.CLASS)).toBeUndefined(); // accounting_send_class is off
      expect(firstAttribute(p, Attr.MESSAGE_AUTHENTICATOR)).toBeUndefined();
    }
    expect(firstAttribute(start, Attr.ACCT_INPUT_OCTETS)).toBeUndefined();
    expect(firstU32(interim, Attr.ACCT_INPUT_OCTETS)).toBe(100);
    expect(firstU32(interim, Attr.ACCT_OUTPUT_OCTETS)).toBe(200);
    expect(firstU32(interim, Attr.ACCT_SESSION_TIME)).toBe(30);
    expect(firstU32(stop, Attr.ACCT_INPUT_OCTETS)).toBe(17);
    expect(firstU32(stop, Attr.ACCT_INPUT_GIGAWORDS)).toBe(3);
    expect(firstU32(stop, Attr.ACCT_OUTPUT_OCTETS)).toBe(4096);
    expect(firstAttribute(stop, Attr.ACCT_OUTPUT_GIGAWORDS)).toBeUndefined();
    expect(firstU32(stop, Attr.ACCT_INPUT_PACKETS)).toBe(5);
    expect(firstU32(stop, Attr.ACCT_OUTPUT_PACKETS)).toBe(6);
    expect(firstU32(stop, Attr.ACCT_SESSION_TIME)).toBe(60);
    expect(firstU32(stop, Attr.ACCT_TERMINATE_CAUSE)).toBe(TerminateCause.SESSION_TIMEOUT);
  });

  it('interim schedule: accounting_interval, or the server Acct-Interim-Interval; Stop clears it', async () => {
    const { acct } = acctHarness({ intervalMs: 60_000 });
    await acct.start(info, 1000);
    await acct.start({ ...info, ikeSaUniqueId: 4, interimIntervalS: 10 }, 2000);
    expect(acct.nextInterim()).toBe(12_000);
    expect(acct.dueInterims(12_000)).toEqual([4]);
    await acct.interim(4, { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 }, 12_000);
    expect(acct.nextInterim()).toBe(22_000);
    expect(acct.dueInterims(61_000)).toEqual([3, 4]);
    await acct.stop(4, { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 }, 30_000);
    expect(acct.nextInterim()).toBe(61_000);
    const { acct: none } = acctHarness();
    await none.start(info, 0);
    expect(none.nextInterim()).toBeUndefined();
  });

  it('accounting_send_class echoes the Class attributes; default cause User-Request', async () => {
    const { acct, seen } = acctHarness({ sendClass: true });
    await acct.start(info, 0);
    await acct.stop(3, { bytesIn: 1, bytesOut: 1, packetsIn: 1, packetsOut: 1 }, 0);
    expect(attributes(seen[0] ?? ({} as RadiusPacket), Attr.CLASS)).toEqual([Uint8Array.of(1, 2, 3)]);
    expect(firstU32(seen[1] ?? ({} as RadiusPacket), Attr.ACCT_TERMINATE_CAUSE)).toBe(TerminateCause.USER_REQUEST);
  });

  it('no answer, and unknown sessions, are reported not thrown', async () => {
    const { acct } = acctHarness({ answer: false });
    expect(await acct.start(info, 0)).toEqual({ ok: false, reason: "no answer from RADIUS server 'acct1'" });
    expect(await acct.interim(99, { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 }, 0)).toEqual({ ok: false, reason: 'no RADIUS accounting session for IKE SA 99' });
    expect(await acct.stop(99, { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 }, 0)).toEqual({ ok: false, reason: 'no RADIUS accounting session for IKE SA 99' });
  });
});

describe('a broken session context', () => {
  it('is reported, not thrown', async () => {
    const { acct, seen } = acctHarness();
    expect(await acct.start({ ...info, virtualIps: ['not-an-ip'] }, 0)).toEqual({ ok: false, reason: "cannot build the Accounting-Request: 'not-an-ip' is not an IPv4 address" });
    expect(seen).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { notifyForError } from './error-notify.js';
import { decodeMessage, encodeMessage } from './message.js';
import { hex } from './test-support.js';
import { ExchangeType, NotifyType, PayloadType } from './types.js';

const HDR = {
  spiI: hex('0011223344556677'),
  spiR: new Uint8Array(8),
  exchangeType: ExchangeType.IKE_SA_INIT,
  flags: { initiator: true, response: false, version: false },
  messageId: 0,
};

describe('notifyForError (RFC 7296 2.5, 3.10.1)', () => {
  it('UNSUPPORTED_CRITICAL_PAYLOAD carries the payload type', () => {
    const m = encodeMessage(HDR, [{ type: 'unknown', payloadType: 99, critical: true, body: new Uint8Array(0) }]);
    const r = decodeMessage(m);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(notifyForError(r.error, m)).toEqual({
      type: PayloadType.NOTIFY,
      critical: false,
      protocol: 0,
      spi: new Uint8Array(0),
      notifyType: NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD,
      data: Uint8Array.of(99),
    });
  });
  it('INVALID_MAJOR_VERSION for a higher major version only', () => {
    const m = encodeMessage({ ...HDR, majorVersion: 3 }, []);
    const r = decodeMessage(m);
    if (r.ok) throw new Error('decoded');
    expect(notifyForError(r.error, m)).toMatchObject({ notifyType: NotifyType.INVALID_MAJOR_VERSION, data: Uint8Array.of(0x20) });
    const v1 = encodeMessage({ ...HDR, majorVersion: 1 }, []);
    const r1 = decodeMessage(v1);
    if (r1.ok) throw new Error('decoded');
    expect(notifyForError(r1.error, v1)).toBeUndefined();
  });
  it('structural errors map to INVALID_SYNTAX, integrity and fragment errors to silence', () => {
    expect(notifyForError({ code: 'BAD_LENGTH', message: '', offset: 0 })).toMatchObject({ notifyType: NotifyType.INVALID_SYNTAX });
    expect(notifyForError({ code: 'INTEGRITY_CHECK_FAILED', message: '', offset: 0 })).toBeUndefined();
    expect(notifyForError({ code: 'FRAGMENT_LIMIT', message: '', offset: 0 })).toBeUndefined();
  });
});

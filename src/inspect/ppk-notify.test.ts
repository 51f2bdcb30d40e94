/** inspect names RFC 8784's notifies and shows the PPK ID a PPK_IDENTITY carries (issue 18). */
import { describe, expect, it } from 'vitest';
import { NotifyType } from '../ike/codec/types.js';
import { notify } from '../ike/payload-util.js';
import { describePayload } from './describe-ike.js';

describe('inspect: PPK notifies (RFC 8784)', () => {
  it('USE_PPK, PPK_IDENTITY with its ID type and ID, the responder empty one, NO_PPK_AUTH by size', () => {
    expect(describePayload(notify(NotifyType.USE_PPK))).toEqual({ type: 'N(USE_PPK)', text: '' });
    expect(describePayload(notify(NotifyType.PPK_IDENTITY, Uint8Array.of(2, ...new TextEncoder().encode('pq1'))))).toEqual({ type: 'N(PPK_IDENTITY)', text: "PPK_ID_FIXED 'pq1'" });
    expect(describePayload(notify(NotifyType.PPK_IDENTITY))).toEqual({ type: 'N(PPK_IDENTITY)', text: '' });
    expect(describePayload(notify(NotifyType.NO_PPK_AUTH, new Uint8Array(32)))).toEqual({ type: 'N(NO_PPK_AUTH)', text: '32 bytes' });
  });
});

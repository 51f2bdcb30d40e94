/** inspect names RFC 9370 ADDKE transforms (Transform Types 6-12) as strongSwan 6 does (issue 18). */
import { describe, expect, it } from 'vitest';
import { parseProposals } from '../crypto/proposals.js';
import { ProtocolId } from '../ike/codec/types.js';
import { toSaProposals } from '../ike/negotiate.js';
import { describeProposal } from './describe-ike.js';

describe('describeProposal with additional key exchanges', () => {
  it('an ESP proposal for a CHILD rekey with x25519-ke1_mlkem768-ke1_none', () => {
    const [p] = toSaProposals(parseProposals('aes256gcm16-x25519-ke1_mlkem768-ke1_none', 'esp'), ProtocolId.ESP, Uint8Array.of(0xc1, 0xa2, 0xb3, 0xc4));
    const text = describeProposal(p!);
    expect(text).toContain('CURVE_25519');
    expect(text).toMatch(/KE1_ML_KEM_768\/KE1_NONE$/);
    expect(text).not.toContain('TRANSFORM_TYPE_');
  });
});

import { describe, expect, it } from 'vitest';
import { parseProposals } from '../crypto/proposals.js';
import { ProtocolId, type Proposal as SaProposal } from './codec/types.js';
import { explainMismatch, selectProposal, toSaProposals, unacceptableTransformTypes } from './negotiate.js';

const ours = parseProposals('aes256gcm16-prfsha384-x25519', 'ike');
const spi = new Uint8Array(0);
/** The peer's x25519 proposal with ADDKE1 (type 6) transforms appended, as strongSwan 6 sends `x25519-ke1_mlkem768`. */
function peerWith(addke: number[]): SaProposal[] {
  const [p] = toSaProposals(ours, ProtocolId.IKE, spi);
  if (p === undefined) throw new Error('no proposal');
  return [{ ...p, transforms: [...p.transforms, ...addke.map((id) => ({ type: 6, id }))] }];
}

describe('ADDKE transforms in a peer proposal (RFC 7296 3.3.6, RFC 9370 2.2.1)', () => {
  it('without ADDKE the proposal is selected', () => {
    expect(selectProposal(ours, peerWith([]), ProtocolId.IKE)?.set.ke).toBe(31);
  });
  it('a required ML-KEM (ADDKE1 = 36 only) is refused, naming the type', () => {
    const peer = peerWith([36]);
    expect(unacceptableTransformTypes(peer[0] as SaProposal)).toEqual([6]);
    expect(selectProposal(ours, peer, ProtocolId.IKE)).toBeUndefined();
    expect(explainMismatch(ours, peer, ProtocolId.IKE)).toMatch(/required additional key exchange KE1_ML_KEM_768 .*IKE_INTERMEDIATE/);
  });
  it('an optional one (ADDKE1 = 36 or NONE) negotiates down to the classic exchange', () => {
    const peer = peerWith([36, 0]);
    expect(unacceptableTransformTypes(peer[0] as SaProposal)).toEqual([]);
    expect(selectProposal(ours, peer, ProtocolId.IKE)?.set.ke).toBe(31);
  });
  it('an unknown type (13) makes the proposal unacceptable', () => {
    const [p] = peerWith([]);
    const odd = { ...(p as SaProposal), transforms: [...(p as SaProposal).transforms, { type: 13, id: 1 }] };
    expect(selectProposal(ours, [odd], ProtocolId.IKE)).toBeUndefined();
  });
});

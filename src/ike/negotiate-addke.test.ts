import { describe, expect, it } from 'vitest';
import { parseProposals } from '../crypto/proposals.js';
import { ProtocolId, type Proposal as SaProposal } from './codec/types.js';
import { acceptedProposal, explainMismatch, formatProposal, initiatorIkeProposals, selectProposal, selectionToSaProposal, toSaProposals, unacceptableTransformTypes } from './negotiate.js';

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
  it('a required ML-KEM (ADDKE1 = 36 only) is refused by a responder without it, naming the type', () => {
    const peer = peerWith([36]);
    expect(unacceptableTransformTypes(peer[0] as SaProposal)).toEqual([]);
    expect(selectProposal(ours, peer, ProtocolId.IKE)).toBeUndefined();
    expect(explainMismatch(ours, peer, ProtocolId.IKE)).toMatch(
      /additional key exchange ADDKE1 differs \(we offer KE1_NONE, peer offers KE1_ML_KEM_768 \(required\); RFC 9370 2\.2\.1\)/,
    );
  });
  it('a responder configured with ke1_mlkem768 selects it, echoes one ADDKE1 transform, and the initiator accepts it', () => {
    const pq = parseProposals('aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke2_mlkem1024', 'ike');
    const offer = toSaProposals(pq, ProtocolId.IKE, spi);
    // RFC 9370 3: ADDKE1 is Transform Type 6, ADDKE2 type 7, IDs from the Transform Type 4 registry (36, 37)
    expect(offer[0]?.transforms.slice(-2)).toEqual([{ type: 6, id: 36 }, { type: 7, id: 37 }]);
    const sel = selectProposal(pq, offer, ProtocolId.IKE);
    expect(sel?.set.addke).toEqual([{ type: 6, id: 36 }, { type: 7, id: 37 }]);
    const echo = selectionToSaProposal(sel!.set, sel!.num, ProtocolId.IKE, spi);
    expect(acceptedProposal(pq, echo, ProtocolId.IKE)?.addke).toEqual([{ type: 6, id: 36 }, { type: 7, id: 37 }]);
    expect(formatProposal(sel!.set)).toBe('AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768/KE2_ML_KEM_1024');
  });
  it('our required ke1_mlkem768 against a peer without ADDKE fails, saying we require it', () => {
    const pq = parseProposals('aes256gcm16-prfsha384-x25519-ke1_mlkem768', 'ike');
    expect(selectProposal(pq, peerWith([]), ProtocolId.IKE)).toBeUndefined();
    expect(explainMismatch(pq, peerWith([]), ProtocolId.IKE)).toMatch(/we offer KE1_ML_KEM_768 \(required\), peer offers KE1_NONE/);
    // with ke1_none we go without it, and the answer (no ADDKE transform) is accepted by the initiator
    const opt = parseProposals('aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke1_none', 'ike');
    const sel = selectProposal(opt, peerWith([]), ProtocolId.IKE);
    expect(sel?.set.addke).toBeUndefined();
    expect(acceptedProposal(opt, selectionToSaProposal(sel!.set, 1, ProtocolId.IKE, spi), ProtocolId.IKE)?.ke).toBe(31);
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
  it('an initiator adds a proposal without ADDKE after an all-optional one, for responders without RFC 9370 (RFC 7296 3.3.6)', () => {
    const opt = parseProposals('aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke1_none,aes128gcm16-prfsha256-ecp256-ke1_mlkem768', 'ike');
    const offered = initiatorIkeProposals(opt);
    // the required one (no NONE) gets no copy: dropping ML-KEM there would be a silent downgrade
    expect(offered).toHaveLength(3);
    expect(offered[2]).toEqual(parseProposals('aes256gcm16-prfsha384-x25519', 'ike')[0]);
    const sa = toSaProposals(offered, ProtocolId.IKE, spi);
    expect(sa.map((p) => p.num)).toEqual([1, 2, 3]);
    expect(sa[2]?.transforms.some((t) => t.type >= 6)).toBe(false);
    // a legacy responder answering with proposal 3 is accepted, as x25519 alone
    const echo = selectionToSaProposal({ encr: 20, keyBits: 256, prf: 7, ke: 31 }, 3, ProtocolId.IKE, spi);
    expect(acceptedProposal(offered, echo, ProtocolId.IKE)?.addke).toBeUndefined();
    // a copy equal to a configured proposal is not added twice
    expect(initiatorIkeProposals(parseProposals('aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke1_none,aes256gcm16-prfsha384-x25519', 'ike'))).toHaveLength(2);
  });
});

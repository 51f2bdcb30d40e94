/** Test support: runs an EAP server against an EAP peer in process, as IKE_AUTH would carry the packets. */
import type { EapPeerSession, EapServerSession, EapStep } from './types.js';

export interface Conversation {
  readonly server: EapStep;
  readonly peer: EapStep | undefined;
  /** Every packet in order, for inspection: [who, bytes]. */
  readonly packets: readonly (readonly ['server' | 'peer', Uint8Array])[];
}

/** Pumps packets until one side ends; the server's final packet (Success/Failure) goes to the peer. */
export async function converse(server: EapServerSession, peer: EapPeerSession, maxRounds = 64): Promise<Conversation> {
  const packets: ['server' | 'peer', Uint8Array][] = [];
  let s = await server.start();
  for (let round = 0; round < maxRounds; round++) {
    if (s.eap !== undefined) packets.push(['server', s.eap]);
    if (s.kind !== 'send') {
      const p = s.eap === undefined ? undefined : await peer.process(s.eap);
      return { server: s, peer: p, packets };
    }
    const p = await peer.process(s.eap);
    if (p.eap !== undefined) packets.push(['peer', p.eap]);
    if (p.kind !== 'send') {
      // the peer gave up; its last packet (if any) still reaches the server
      const last = p.eap === undefined ? s : await server.process(p.eap);
      return { server: last, peer: p, packets };
    }
    s = await server.process(p.eap);
  }
  throw new Error(`EAP conversation did not end within ${maxRounds} rounds`);
}

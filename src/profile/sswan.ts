/**
 * strongSwan VPN Client for Android profile (.sswan, media type application/vnd.strongswan.profile): the JSON
 * format of docs.strongswan.org/docs/latest/os/androidVpnClientProfiles.html, as the app's
 * VpnProfileImportActivity reads it (uuid, name, type, remote {addr, port, id, cert}, local {eap_id, id, p12},
 * ike-proposal, esp-proposal, dns-servers, split-tunneling {subnets, block-ipv4, block-ipv6}).
 *
 * The app is strongSwan itself, so proposals are written in strongSwan's syntax and need no translation; the
 * app takes one proposal each for IKE and ESP (it validates them with strongSwan's parser), so the gateway's
 * first is used, and nothing is written when the gateway uses `default` (the app proposes strongSwan's defaults).
 */
import { formatProposalString } from '../crypto/proposals.js';
import type { ProposalEntry } from './algorithms.js';
import type { ClientProfileInput, ProfileOutput } from './input.js';
import { uuidV4, type RandomBytes } from './uuid.js';

/** The profile types the app's VpnType.fromIdentifier knows that a cygnet gateway can serve. */
export type SswanType = 'ikev2-eap' | 'ikev2-cert' | 'ikev2-eap-tls';

export function sswanType(input: ClientProfileInput): SswanType {
  return input.auth.kind === 'pubkey' ? 'ikev2-cert' : input.auth.kind === 'eap-tls' ? 'ikev2-eap-tls' : 'ikev2-eap';
}

function firstExplicit(list: readonly ProposalEntry[]): { text: string; more: number } | undefined {
  const head = list[0];
  if (head === undefined || head.source.trim().toLowerCase() === 'default') return undefined;
  return { text: formatProposalString(head.proposal), more: list.length - 1 };
}

function base64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

export function buildSswan(input: ClientProfileInput, random: RandomBytes): ProfileOutput {
  const notes: string[] = [];
  const type = sswanType(input);
  const remote: Record<string, unknown> = {
    addr: input.server,
    ...(input.port !== 500 ? { port: input.port } : {}),
    id: input.serverId,
    cert: base64(input.ca.der),
  };
  const local: Record<string, unknown> = {};
  if (type === 'ikev2-eap' && input.user !== undefined) local.eap_id = input.user;
  if (type !== 'ikev2-eap') {
    if (input.user !== undefined) local.id = input.user;
    if (input.pkcs12 !== undefined) local.p12 = base64(input.pkcs12.der);
  }
  const ike = firstExplicit(input.ikeProposals);
  const esp = firstExplicit(input.espProposals);
  for (const [kind, p] of [['IKE', ike], ['ESP', esp]] as const) {
    if (p !== undefined && p.more > 0) notes.push(`the app takes one ${kind} proposal: the profile has the gateway's first (${p.text}), not the ${p.more} after it`);
  }
  const split: Record<string, unknown> = {};
  if (input.subnets.length > 0 && !input.fullTunnel.v4 && !input.fullTunnel.v6) split.subnets = [...input.subnets];
  // A full IPv4 tunnel from a gateway that hands out no IPv6 address would leave IPv6 outside the VPN; the app
  // blocks such traffic only when told to (block-ipv6), so say it: nothing leaks around the tunnel.
  if (input.fullTunnel.v4 && !input.fullTunnel.v6 && !input.poolFamilies.v6) split['block-ipv6'] = true;
  if (input.fullTunnel.v6 && !input.fullTunnel.v4 && !input.poolFamilies.v4) split['block-ipv4'] = true;

  const profile: Record<string, unknown> = {
    uuid: uuidV4(random).toLowerCase(),
    name: input.displayName,
    type,
    remote,
    ...(Object.keys(local).length > 0 ? { local } : {}),
    ...(ike !== undefined ? { 'ike-proposal': ike.text } : {}),
    ...(esp !== undefined ? { 'esp-proposal': esp.text } : {}),
    ...(input.dns.length > 0 ? { 'dns-servers': [...input.dns] } : {}),
    ...(Object.keys(split).length > 0 ? { 'split-tunneling': split } : {}),
  };
  return { text: `${JSON.stringify(profile, null, 2)}\n`, notes };
}

/**
 * docs/ROAD-WARRIORS.md recommends a `proposals` / `esp_proposals` pair for gateways whose clients still offer
 * MODP-1024. This test loads that exact block with cygnet's configuration builder and checks that every client
 * default offer the page lists (strongSwan syntax, from strongSwan's interop notes for Windows and iOS/macOS)
 * shares an algorithm of every kind with one of the gateway's proposals, i.e. would be accepted (RFC 7296 2.7).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSwanctlConfig } from '../config/build.js';
import { parseProposals, type Proposal } from '../crypto/proposals.js';
import { KE } from '../crypto/transforms.js';

const doc = readFileSync('docs/ROAD-WARRIORS.md', 'utf8');

function weakBlock(): string {
  const section = doc.slice(doc.indexOf('## The `proposals` line'));
  const block = /```\n([\s\S]*?)\n```/.exec(section)?.[1];
  if (block === undefined) throw new Error('docs/ROAD-WARRIORS.md: no fenced block after "## The `proposals` line"');
  return block;
}

function overlaps(gw: Proposal, offer: Proposal): boolean {
  const encr = gw.encryption.some((a) => offer.encryption.some((b) => a.id === b.id && a.keyBits === b.keyBits));
  const integ = gw.integrity.length === 0 ? offer.integrity.length === 0 : gw.integrity.some((i) => offer.integrity.includes(i));
  const prf = gw.prf.length === 0 || gw.prf.some((p) => offer.prf.includes(p));
  // ESP without KE in the offer: the gateway's KE list must allow none (empty or KE_NONE).
  const offerKe = offer.ke.length > 0 ? offer.ke : [KE.NONE];
  const gwKe = gw.ke.length > 0 ? gw.ke : [KE.NONE];
  const ke = gwKe.some((k) => offerKe.includes(k));
  const esn = gw.esn.length === 0 || gw.esn.some((e) => offer.esn.includes(e));
  return encr && integ && prf && ke && esn;
}

/**
 * The default offers docs/ROAD-WARRIORS.md lists (DES left out of Windows' ESP: cygnet cannot parse it). Windows
 * 11's AEAD offer is not among them: it comes with the classic one, which the line matches.
 */
const OFFERS: readonly [string, 'ike' | 'esp', string][] = [
  ['Windows 10/11', 'ike', '3des-aes128-aes192-aes256-sha1-sha256-sha384-modp1024'],
  ['Windows 10/11', 'esp', 'aes256-aes128-3des-sha1'],
  ['iOS/macOS by hand, weakest', 'ike', 'aes128-sha1-modp1024'],
  ['macOS before 11', 'ike', '3des-sha1-modp1024'],
  ['iOS/macOS', 'ike', 'aes256-sha256-modp2048'],
  ['iOS/macOS', 'esp', 'aes256-sha256'],
  ['iOS/macOS, old', 'esp', '3des-sha1'],
];

describe('docs/ROAD-WARRIORS.md', () => {
  const text = `${weakBlock()}\n`;

  it('the recommended lines load in cygnet without errors or warnings about them', () => {
    const { config, warnings } = parseSwanctlConfig(text, 'ROAD-WARRIORS.md');
    expect(warnings.filter((w) => /proposal/.test(w.message))).toEqual([]);
    expect(config.connections.get('rw')?.proposals).toEqual(['default', 'aes256-aes128-sha256-sha1-modp1024', '3des-sha1-modp1024']);
  });

  it.each(OFFERS)("%s's default %s offer %s is accepted by one of them", (_who, protocol, offer) => {
    const { config } = parseSwanctlConfig(text, 'ROAD-WARRIORS.md');
    const rw = config.connections.get('rw');
    const lines = protocol === 'ike' ? rw?.proposals : rw?.children.get('rw')?.esp_proposals;
    const gateway = (lines ?? []).flatMap((l) => parseProposals(l, protocol));
    const theirs = parseProposals(offer, protocol)[0];
    if (theirs === undefined) throw new Error('no offer');
    expect(gateway.some((g) => overlaps(g, theirs))).toBe(true);
  });

  it('and without the weak proposals, Windows’ default IKE offer is refused (the line is needed)', () => {
    const strong = parseProposals('default', 'ike');
    const windows = parseProposals(OFFERS[0]?.[2] ?? '', 'ike')[0];
    if (windows === undefined) throw new Error('no offer');
    expect(strong.some((g) => overlaps(g, windows))).toBe(false);
  });
});

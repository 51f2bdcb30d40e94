/**
 * Known answers for the key exchange methods (vectors/key_exchange.json): X25519/X448 (RFC 7748, RFC 8031), ECP
 * groups (RFC 5903 section 8, strongSwan), Brainpool (RFC 6954), MODP (RFC 2409, 3526) and RFC 5114 groups.
 * The published private values are fed in through a RandomSource, the way IKE hands a backend its randomness.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { CryptoBackend } from '../../src/crypto/types.js';
import { eachBackend, fixedRandom, hex, loadVectors, str, Tally, toHex, type Entry } from './helpers.js';

const file = loadVectors('key_exchange.json');
const tally = new Tally('key_exchange');

function groupOf(e: Entry): number {
  const g = str(e, 'group');
  const m = /KE method (\d+)/.exec(g);
  if (m) return Number(m[1]);
  if (g.startsWith('Curve25519')) return 31;
  if (g.startsWith('Curve448')) return 32;
  throw new Error(`${e.id}: unknown group ${g}`);
}

/** Both sides from their private values: each public value and g^ir from each side. */
function bothSides(b: CryptoBackend, group: number, e: Entry, pubI: string, pubR: string, shared: string): void {
  const i = b.createKeyExchange(group, fixedRandom(hex(e.private_i)));
  const r = b.createKeyExchange(group, fixedRandom(hex(e.private_r)));
  expect(i.group).toBe(group);
  expect(toHex(i.publicValue), 'initiator public value').toBe(pubI);
  expect(toHex(r.publicValue), 'responder public value').toBe(pubR);
  expect(toHex(i.computeSharedSecret(hex(pubR))), 'g^ir at the initiator').toBe(shared);
  expect(toHex(r.computeSharedSecret(hex(pubI))), 'g^ir at the responder').toBe(shared);
  i.dispose();
  r.dispose();
}

function runEntry(e: Entry, b: CryptoBackend, group: number): void {
  if (typeof e.scalar === 'string') {
    // RFC 7748 section 5.2: X25519(scalar, u) = output.
    const kx = b.createKeyExchange(group, fixedRandom(hex(e.scalar)));
    expect(toHex(kx.computeSharedSecret(hex(e.u_coordinate)))).toBe(str(e, 'output'));
  } else if (typeof e.procedure === 'string') {
    // RFC 7748 section 5.2 iteration: k = u = 9; (k, u) = (X25519(k, u), k). 1 and 1000 rounds; the
    // 1,000,000-round value is not run (minutes per backend).
    let k: Uint8Array = new Uint8Array(32);
    k[0] = 9;
    let u: Uint8Array = k.slice();
    for (let n = 1; n <= 1000; n++) {
      const kx = b.createKeyExchange(group, fixedRandom(k));
      const next = kx.computeSharedSecret(u);
      u = k;
      k = next;
      if (n === 1) expect(toHex(k), 'after 1 iteration').toBe(str(e, 'after_1_iteration'));
    }
    expect(toHex(k), 'after 1000 iterations').toBe(str(e, 'after_1000_iterations'));
  } else if (typeof e.public_i === 'string') {
    bothSides(b, group, e, str(e, 'public_i'), str(e, 'public_r'), str(e, 'shared'));
  } else if (typeof e.ke_payload_i === 'string') {
    if (typeof e.public_i_uncompressed === 'string') {
      // RFC 5903 section 7: the KE payload is the uncompressed point without its 04 octet.
      expect(str(e, 'public_i_uncompressed')).toBe('04' + str(e, 'ke_payload_i'));
      expect(str(e, 'public_r_uncompressed')).toBe('04' + str(e, 'ke_payload_r'));
    }
    const shared = typeof e.shared_girx === 'string' ? str(e, 'shared_girx') : str(e, 'shared_x');
    bothSides(b, group, e, str(e, 'ke_payload_i'), str(e, 'ke_payload_r'), shared);
  } else {
    throw new Error(`${e.id}: unknown entry shape`);
  }
}

function lacks(b: CryptoBackend, group: number): string {
  const any = [1, 2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32].some((g) => b.hasKeyExchange(g));
  return any ? `${b.name} lacks group ${group}` : `${b.name} has no key exchange`;
}

describe('vectors: key_exchange.json', () => {
  for (const e of file.entries) {
    const group = groupOf(e);
    eachBackend(
      it,
      tally,
      e,
      (b) => (b.hasKeyExchange(group) ? null : lacks(b, group)),
      (b) => runEntry(e, b, group),
      120_000,
    );
  }

  it('every entry ran on at least one backend', () => {
    expect(tally.uncovered(file.entries)).toEqual([]);
  });

  afterAll(() => {
    console.log(tally.line(file.entries.length));
  });
});

import { createECDH } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../random.js';
import { drawEcpScalar, ECP_CURVES, groupLabel, leftPad } from './kex-common.js';
import { nobleBackend } from './noble.js';
import { nodeBackend } from './node.js';

describe('key exchange tables', () => {
  it('each curve order n is right: (n-1)*G = -G has the x of G and another y', () => {
    for (const c of ECP_CURVES.values()) {
      const pub = (d: bigint) => {
        const e = createECDH(c.nodeName);
        e.setPrivateKey(Buffer.from(d.toString(16).padStart(c.coordBytes * 2, '0'), 'hex'));
        return e.getPublicKey();
      };
      const g = pub(1n);
      const minusG = pub(c.n - 1n);
      expect(g.length, c.name).toBe(1 + 2 * c.coordBytes);
      expect(minusG.subarray(1, 1 + c.coordBytes).equals(g.subarray(1, 1 + c.coordBytes)), c.name).toBe(true);
      expect(minusG.equals(g), c.name).toBe(false);
    }
  });

  it('private scalars are in [1, n) and reproducible from a seed', () => {
    for (const c of ECP_CURVES.values()) {
      const a = drawEcpScalar(c, seededRandom(5));
      const b = drawEcpScalar(c, seededRandom(5));
      expect(a).toEqual(b);
      const v = BigInt('0x' + Buffer.from(a).toString('hex'));
      expect(v > 0n && v < c.n).toBe(true);
    }
  });

  it('a seeded exchange is the same on node and noble', () => {
    for (const g of [14, 19, 31, 32]) {
      expect(nodeBackend.createKeyExchange(g, seededRandom(1)).publicValue).toEqual(
        nobleBackend.createKeyExchange(g, seededRandom(1)).publicValue,
      );
    }
  });

  it('a peer value handed over as a view into a larger buffer (as the IKE decoder does) is read at its offset', () => {
    for (const g of [31, 32, 19, 14]) {
      for (const b of [nodeBackend, nobleBackend]) {
        const ours = b.createKeyExchange(g, seededRandom(2));
        const peer = b.createKeyExchange(g, seededRandom(3));
        const framed = new Uint8Array(peer.publicValue.length + 7).fill(0xa5);
        framed.set(peer.publicValue, 3);
        const view = framed.subarray(3, 3 + peer.publicValue.length);
        expect(ours.computeSharedSecret(view), `${b.name} group ${g}`).toEqual(peer.computeSharedSecret(ours.publicValue));
      }
    }
  });

  it('an exchange used after dispose() is a DISPOSED error naming the group', () => {
    for (const g of [14, 19, 31]) {
      const kx = nodeBackend.createKeyExchange(g, seededRandom(4));
      const pub = kx.publicValue;
      kx.dispose();
      expect(() => kx.computeSharedSecret(pub)).toThrow(expect.objectContaining({ code: 'DISPOSED', message: expect.stringMatching(new RegExp(`group ${g}`)) }));
    }
  });

  it('labels and padding', () => {
    expect(groupLabel(14)).toBe('MODP_2048 (group 14)');
    expect(groupLabel(19)).toMatch(/P-256/);
    expect(groupLabel(31)).toMatch(/Curve25519/);
    expect(leftPad(Uint8Array.of(1, 2), 4)).toEqual(Uint8Array.of(0, 0, 1, 2));
  });
});

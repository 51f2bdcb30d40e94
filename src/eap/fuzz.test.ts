/** Whatever bytes arrive, the sessions answer with a step (never a rejected promise): random and mutated packets. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random.js';
import { EapPeer } from './peer.js';
import { EapServer } from './server.js';
import type { EapStep } from './types.js';

const secrets = () => ({ kind: 'password' as const, password: 'pw' });
const newServer = (methods: readonly string[]) => new EapServer({ ikeIdentity: 'alice', eapId: '%any', ownIdentity: 'gw', methods, allowMd5: true, random: seededRandom(1), secrets });
const newPeer = () => new EapPeer({ identity: 'alice', serverIdentity: 'gw', methods: ['mschapv2', 'md5'], allowMd5: true, random: seededRandom(2), secrets });
const isStep = (s: EapStep): boolean => s.kind === 'send' || s.kind === 'success' || s.kind === 'failure';

describe('EAP sessions never throw on hostile input', () => {
  it('server: random packets after start()', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(['mschapv2'], ['md5'], ['md5', 'mschapv2']), fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 4 }), async (methods, packets) => {
        const s = newServer(methods);
        await s.start();
        for (const p of packets) expect(isStep(await s.process(p))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
  it('server: valid Responses with mutated bytes (right identifier, plausible types)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(1, 3, 4, 26), fc.uint8Array({ maxLength: 70 }), fc.integer({ min: 0, max: 80 }), async (type, body, claimed) => {
        const s = newServer(['mschapv2', 'md5']);
        const first = await s.start();
        const id = first.eap?.[1] ?? 0;
        const after = await s.process(Uint8Array.of(2, id, 0, 10, 1, 0x61, 0x6c, 0x69, 0x63, 0x65));
        const id2 = after.eap?.[1] ?? 0;
        const len = Math.min(5 + body.length, claimed + 5);
        expect(isStep(await s.process(Uint8Array.of(2, id2, len >> 8, len & 0xff, type, ...body)))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
  it('peer: random Requests of every method type', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(1, 2, 3, 4, 13, 26, 99), fc.uint8Array({ maxLength: 70 })), { maxLength: 4 }), async (reqs) => {
        const p = newPeer();
        for (const [type, body] of reqs) {
          const len = 5 + body.length;
          expect(isStep(await p.process(Uint8Array.of(1, 7, len >> 8, len & 0xff, type, ...body)))).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});

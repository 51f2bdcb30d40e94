/**
 * Known answers for the PRF and integrity algorithms (vectors/prf_hmac.json): HMAC-SHA1/SHA2 (RFC 2202, 4231,
 * 4868), AES-XCBC (RFC 3566, 4434) and AES-CMAC (RFC 4493, 4494, 4615). Entries named PRF_* go through createPrf
 * (which applies the RFC 4434 / RFC 4615 key rules); the others through the backend MAC, truncated as the entry says.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createPrf } from '../../src/crypto/prf.js';
import type { MacAlgorithm } from '../../src/crypto/types.js';
import { eachBackend, hex, loadVectors, str, Tally, toHex, type Entry } from './helpers.js';

const file = loadVectors('prf_hmac.json');
const tally = new Tally('prf_hmac');

type Plan = { kind: 'prf'; prfId: number; mac: MacAlgorithm } | { kind: 'mac'; mac: MacAlgorithm } | { kind: 'none'; reason: string };

function planOf(e: Entry): Plan {
  const a = str(e, 'algorithm');
  if (a === 'HMAC-SHA-224') return { kind: 'none', reason: 'HMAC-SHA-224 is no IKEv2/ESP transform (no hmac-sha224 in the contract)' };
  const prf = /^PRF(?: PRF)?_(?:HMAC_SHA1|HMAC_SHA2_256|HMAC_SHA2_384|HMAC_SHA2_512|AES128_XCBC|AES128_CMAC) \((\d+)\)/.exec(a.replace(/^PRF PRF_/, 'PRF_'));
  const mac: MacAlgorithm | undefined = a.includes('XCBC')
    ? 'aes-xcbc'
    : a.includes('CMAC')
      ? 'aes-cmac'
      : /SHA2_256|SHA-256/.test(a)
        ? 'hmac-sha256'
        : /SHA2_384|SHA-384/.test(a)
          ? 'hmac-sha384'
          : /SHA2_512|SHA-512/.test(a)
            ? 'hmac-sha512'
            : /SHA1/.test(a)
              ? 'hmac-sha1'
              : undefined;
  if (!mac) throw new Error(`${e.id}: unknown algorithm ${a}`);
  if (prf) return { kind: 'prf', prfId: Number(prf[1]), mac };
  return { kind: 'mac', mac };
}

describe('vectors: prf_hmac.json', () => {
  for (const e of file.entries) {
    const plan = planOf(e);
    if (plan.kind === 'none') {
      tally.recordNotApplicable(e.id, plan.reason);
      continue;
    }
    const key = hex(e.key);
    const data = hex(e.data);
    const mac = str(e, 'mac');
    eachBackend(
      it,
      tally,
      e,
      (b) => (b.hasMac(plan.mac) ? null : `${b.name} lacks ${plan.mac}`),
      (b) => {
        if (plan.kind === 'prf') {
          const prf = createPrf(plan.prfId, b);
          expect(prf.outputBytes * 2).toBe(mac.length);
          expect(toHex(prf.compute(key, data)), `prf ${plan.prfId}`).toBe(mac);
          // The same input given in two parts.
          const cut = data.length >> 1;
          expect(toHex(prf.compute(key, [data.subarray(0, cut), data.subarray(cut)]))).toBe(mac);
        } else {
          const ctx = b.createMac(plan.mac, key);
          const full = ctx.compute(data);
          // Integrity transforms truncate the MAC to its leftmost bytes (RFC 2404, RFC 4868 section 2.3, RFC 3566).
          expect(toHex(full.subarray(0, mac.length / 2)), plan.mac).toBe(mac);
          const out = new Uint8Array(ctx.outputBytes + 3);
          ctx.compute([data.subarray(0, 1), data.subarray(1)], out);
          expect(toHex(out.subarray(0, mac.length / 2)), `${plan.mac} into out`).toBe(mac);
          ctx.dispose();
        }
      },
    );
  }

  it('every entry ran on at least one backend', () => {
    expect(tally.uncovered(file.entries)).toEqual([]);
  });

  afterAll(() => {
    console.log(tally.line(file.entries.length));
  });
});

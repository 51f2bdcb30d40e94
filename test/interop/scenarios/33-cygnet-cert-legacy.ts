/**
 * The pre-RFC 7427 signature methods, each side initiating: strongSwan with `charon.signature_authentication =
 * no` sends no SIGNATURE_HASH_ALGORITHMS notify (RFC 7427 4) and signs with the method of RFC 7296 3.8 / RFC 4754:
 *
 *   rsa    AUTH method 1, RSA PKCS#1 v1.5 with SHA-1 (RFC 7296 3.8)
 *   ecdsa  AUTH method 9, ECDSA with SHA-256 on P-256, raw r|s (RFC 4754 7); method 10, SHA-384 on P-384
 *
 * cygnet, seeing no SIGNATURE_HASH_ALGORITHMS from the peer, must sign with the same legacy method, and verify it.
 */
import type { ScenarioContext } from '../lib/scenario.js';
import type { KeyType } from '../lib/pki.js';
import { twoHosts } from '../lib/topology.js';
import { certBothWays, certConnection, credFiles, swanPki, swanSide } from './30-cygnet-certs-swanpki.js';

export const name = 'cygnet-cert-legacy';
export const timeoutMs = 30_000;

const CASES: ReadonlyArray<{ label: string; keyType: KeyType; cygAuth: RegExp; swanAuth: RegExp }> = [
  { label: 'rsa-method1', keyType: 'rsa2048', cygAuth: /with RSA signature successful/, swanAuth: /with RSA signature successful/ },
  { label: 'ecdsa-method9', keyType: 'ecdsa256', cygAuth: /with ECDSA-256 signature successful/, swanAuth: /with ECDSA-256 signature successful/ },
  { label: 'ecdsa-method10', keyType: 'ecdsa384', cygAuth: /with ECDSA-384 signature successful/, swanAuth: /with ECDSA-384 signature successful/ },
];

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const pkis = await Promise.all(CASES.map((c) => swanPki(ctx, c.keyType)));
  for (const [i, c] of CASES.entries()) {
    const p = pkis[i]!;
    const conn = certConnection(h);
    await certBothWays(ctx, h, {
      label: c.label,
      cygConn: conn,
      swanConn: swanSide(conn),
      cygFiles: credFiles(p.cyg, 'cygnet', p.ca.certPem),
      swanFiles: credFiles(p.swan, 'swan', p.ca.certPem),
      cygAuth: c.cygAuth,
      swanAuth: c.swanAuth,
      charonOptions: 'signature_authentication = no',
    });
  }
}

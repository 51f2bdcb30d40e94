/**
 * RFC 7427 digital signature authentication (AUTH method 14) between cygnet and strongSwan with each signature
 * scheme of issue 6, each side initiating:
 *
 *   ecdsa    ECDSA P-256 keys and CA, `auth = pubkey`            -> ecdsa-with-SHA256
 *   rsa-pss  RSA 2048, `local { auth = rsa/pss-sha256 }` both   -> RSASSA-PSS SHA-256, salt 32 (RFC 7427 3.2)
 *   rsa      RSA 2048, `local { auth = rsa-sha256 }` both       -> sha256WithRSAEncryption (PKCS#1 v1.5)
 *
 * The scheme is picked only by each side's *local* auth: a `remote { auth = rsa/pss-sha256 }` would constrain the
 * CA's signature on the certificate too (README pitfall), so remote stays `pubkey`. Each side's log must name the
 * scheme it verified in the other's AUTH, and the SPIs must match (as in 30).
 */
import type { ScenarioContext } from '../lib/scenario.js';
import type { KeyType } from '../lib/pki.js';
import { twoHosts } from '../lib/topology.js';
import { certBothWays, certConnection, credFiles, swanPki, swanSide } from './30-cygnet-certs-swanpki.js';

export const name = 'cygnet-cert-schemes';
export const timeoutMs = 30_000;

interface Case {
  label: string;
  keyType: KeyType;
  auth: string;
  /** cygnet's log for strongSwan's AUTH. */
  cygAuth: RegExp;
  /** strongSwan's log for cygnet's AUTH. */
  swanAuth: RegExp;
}

const CASES: readonly Case[] = [
  { label: 'ecdsa', keyType: 'ecdsa256', auth: 'pubkey', cygAuth: /RFC 7427 signature \(ECDSA with SHA256\)/, swanAuth: /with ECDSA_WITH_SHA256_DER successful/ },
  { label: 'rsa-pss', keyType: 'rsa2048', auth: 'rsa/pss-sha256', cygAuth: /RFC 7427 signature \(RSASSA-PSS SHA256\)/, swanAuth: /with RSA_EMSA_PSS_SHA2_256_SALT_32 successful/ },
  { label: 'rsa-pkcs1', keyType: 'rsa2048', auth: 'rsa-sha256', cygAuth: /RFC 7427 signature \(SHA256 with RSA\)/, swanAuth: /with RSA_EMSA_PKCS1_SHA2_256 successful/ },
];

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const pkis = await Promise.all(CASES.map((c) => swanPki(ctx, c.keyType)));
  for (const [i, c] of CASES.entries()) {
    const p = pkis[i]!;
    const conn = certConnection(h, { localAuth: c.auth });
    await certBothWays(ctx, h, {
      label: c.label,
      cygConn: conn,
      swanConn: swanSide(conn, { localAuth: c.auth }),
      cygFiles: credFiles(p.cyg, 'cygnet', p.ca.certPem),
      swanFiles: credFiles(p.swan, 'swan', p.ca.certPem),
      cygAuth: c.cygAuth,
      swanAuth: c.swanAuth,
    });
  }
}

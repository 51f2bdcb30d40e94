/**
 * Certificate authentication strongSwan <-> strongSwan with a PKI made by strongSwan's `pki` (issue 6
 * reference): one ECDSA P-256 CA, end-entity certificates of several key types, identities from the
 * subjectAltName. RFC 7296 2.15 / RFC 7427 signature schemes as strongSwan logs them.
 */
import assert from 'node:assert/strict';
import { issue, makeCa, type KeyType } from '../lib/pki.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, swanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';

export const name = 'strongswan-certs';
export const timeoutMs = 45_000;

/**
 * [label, key type, local auth (both sides), scheme strongSwan logs for the peer's AUTH]. Only `local` auth
 * picks the scheme: a constraint like `rsa/pss-sha256` in `remote` applies to the whole chain, and this CA
 * signs with ECDSA, so the remote side stays plain `pubkey`.
 */
const CASES: ReadonlyArray<readonly [string, KeyType, string, RegExp]> = [
  ['ecdsa', 'ecdsa256', 'pubkey', /with ECDSA_WITH_SHA256_DER successful/],
  ['rsapss', 'rsa2048', 'rsa/pss-sha256', /with RSA_EMSA_PSS_SHA2_256_SALT_32 successful/],
  ['rsa', 'rsa2048', 'pubkey-sha256', /with RSA_EMSA_PKCS1_SHA2_256 successful/],
  ['ed25519', 'ed25519', 'pubkey', /with ED25519 successful/],
];

export async function run(ctx: ScenarioContext): Promise<void> {
  const { left, right } = await twoHosts(ctx.lab);
  const pkiDir = await ctx.subdir('pki');
  const ca = await makeCa(pkiDir, 'ca', { keyType: 'ecdsa256' });
  const leftFiles: Record<string, string> = { 'x509ca/ca.crt': ca.certPem };
  const rightFiles: Record<string, string> = { 'x509ca/ca.crt': ca.certPem };
  const conns: PskConnection[] = [];
  for (const [label, keyType, auth] of CASES) {
    const lc = await issue(pkiDir, `left-${label}`, ca, { dn: `C=CH, O=cygnet, CN=left ${label}`, keyType, san: [`${label}@left.test`] });
    const rc = await issue(pkiDir, `right-${label}`, ca, { dn: `C=CH, O=cygnet, CN=right ${label}`, keyType, san: [`${label}@right.test`] });
    leftFiles[`x509/left-${label}.crt`] = lc.certPem;
    leftFiles[`private/left-${label}.key`] = lc.keyPem;
    rightFiles[`x509/right-${label}.crt`] = rc.certPem;
    rightFiles[`private/right-${label}.key`] = rc.keyPem;
    conns.push({
      name: label,
      localAddrs: left.outer4,
      remoteAddrs: right.outer4,
      localId: `${label}@left.test`,
      remoteId: `${label}@right.test`,
      proposals: 'aes128gcm16-prfsha256-x25519',
      certs: { local: `left-${label}.crt`, peer: `right-${label}.crt` },
      localAuth: auth,
      remoteAuth: 'pubkey',
      child: { name: `${label}-net`, localTs: `${left.inner4}/32`, remoteTs: `${right.inner4}/32`, espProposals: 'aes128gcm16' },
    });
  }
  const [l, r] = await Promise.all([
    ctx.startStrongswan({ ns: left.ns, swanctlConf: conns.map(swanctlConf).join(''), files: leftFiles }),
    ctx.startStrongswan({
      ns: right.ns,
      // Same scheme choice on the right: mirror() would swap local/remote auth.
      swanctlConf: conns.map((c) => swanctlConf({ ...mirror(c), localAuth: c.localAuth, remoteAuth: 'pubkey' })).join(''),
      files: rightFiles,
    }),
  ]);
  await Promise.all([l.loadAll(), r.loadAll()]);

  for (const [label, , , scheme] of CASES) {
    await l.initiate(`${label}-net`);
    const [li] = await Promise.all([l.waitEstablished(label, `${label}-net`), r.waitEstablished(label, `${label}-net`)]);
    assert.equal(li.remoteId, `${label}@right.test`);
    const lAuth = await l.grep(new RegExp(`authentication of '${label}@right.test' with`));
    const rAuth = await r.grep(new RegExp(`authentication of '${label}@left.test' with`));
    ctx.log(`${label}: ${lAuth.join(' ')} | ${rAuth.join(' ')}`);
    assert.ok(lAuth.some((x) => scheme.test(x)), `${label}: left verified right with ${scheme}: ${lAuth.join(' ')}`);
    assert.ok(rAuth.some((x) => scheme.test(x)), `${label}: right verified left with ${scheme}: ${rAuth.join(' ')}`);
    const ping = await left.ns.ping(right.inner4, { count: 1 });
    assert.equal(ping.received, 1, ping.output);
    await l.terminate(label);
    await r.waitNoSas(label);
  }
}

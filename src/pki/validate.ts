/**
 * Certification path validation (RFC 5280 6, the parts IKE needs, as strongSwan's credential manager and
 * constraints/revocation plugins do them) and matching the peer's IKE identity against its certificate
 * (RFC 4945 3.1, RFC 7296 3.5). Time is an input (`now`, ms since the epoch). Every refusal has a stable code
 * and a message that names the certificate and what to fix.
 */
import { formatIdentity, identitiesEqual, IdType, type Identity } from '../identity/index.js';
import { formatIp } from '../net/ip-address.js';
import { certSignedBy, certreqHash, sameCertificate, subjectKeyIdOf, type Certificate } from './certificate.js';
import { normalizeSerial, type Crl } from './crl.js';
import { bytesEqual, concatBytes, hexColon } from './der.js';
import { keyIdSha1, spkiSha1 } from './keys.js';
import { generalNameIdentity, generalNameText, namesEqual } from './name.js';
import { EKU_NAMES, OID } from './oids.js';
import { verifyWithScheme } from './sigalg.js';
import { PkiError } from './errors.js';

export type ValidationCode =
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'UNTRUSTED_ISSUER'
  | 'BAD_SIGNATURE'
  | 'NOT_A_CA'
  | 'PATH_LENGTH'
  | 'WRONG_KEY_USAGE'
  | 'WRONG_EKU'
  | 'REVOKED'
  | 'UNSUPPORTED_CRITICAL_EXTENSION'
  | 'CHAIN_TOO_LONG';

export type ValidationResult =
  | { readonly ok: true; readonly chain: readonly Certificate[]; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly code: ValidationCode; readonly message: string; readonly cert: Certificate };

export interface ValidationOptions {
  /**
   * EKU the end-entity certificate must carry (any one of them), e.g. [OID.serverAuth] when we are a Windows-like
   * client. Default: none, as strongSwan (which accepts certificates without, or with any, EKU).
   */
  readonly requiredEku?: readonly string[];
  /**
   * 'ike' refuses an end-entity certificate whose EKU extension lists none of serverAuth, clientAuth,
   * ikeIntermediate, ipsecIKE or anyExtendedKeyUsage (e.g. only emailProtection); default 'none' (strongSwan).
   */
  readonly ekuPolicy?: 'none' | 'ike';
  /** Maximum chain length (end-entity to anchor); default 8. */
  readonly maxDepth?: number;
  /**
   * swanctl remote `cacerts`: the chain must pass through one of these CA certificates (root or intermediate).
   * They need not be in the store (strongSwan trusts a connection's cacerts); they are added as anchors for this call.
   */
  readonly requiredCas?: readonly Certificate[];
}

/**
 * Trust anchors (x509ca/), CRLs (x509crl/), and optionally known intermediate CA certificates that help build
 * paths when a peer does not send its intermediates (they are not trusted by themselves).
 */
export class TrustStore {
  private readonly anchors: Certificate[] = [];
  private readonly crlList: Crl[] = [];
  private readonly pool: Certificate[] = [];

  constructor(cas: readonly Certificate[] = [], crls: readonly Crl[] = [], intermediates: readonly Certificate[] = []) {
    for (const c of cas) this.addCa(c);
    for (const c of crls) this.addCrl(c);
    for (const c of intermediates) this.addIntermediate(c);
  }

  /** A CA certificate usable for path building only (not an anchor). */
  addIntermediate(cert: Certificate): void {
    if (!this.pool.some((a) => sameCertificate(a, cert))) this.pool.push(cert);
  }

  get intermediates(): readonly Certificate[] {
    return this.pool;
  }

  addCa(cert: Certificate): void {
    if (!this.anchors.some((a) => sameCertificate(a, cert))) this.anchors.push(cert);
  }

  addCrl(crl: Crl): void {
    this.crlList.push(crl);
  }

  get cas(): readonly Certificate[] {
    return this.anchors;
  }

  get crls(): readonly Crl[] {
    return this.crlList;
  }

  isAnchor(cert: Certificate): boolean {
    return this.anchors.some((a) => sameCertificate(a, cert));
  }

  /** CERTREQ Certification Authority data: SHA-1 of each CA's SubjectPublicKeyInfo, concatenated (RFC 7296 3.7). */
  certreqData(): Uint8Array {
    return concatBytes(...this.anchors.map(certreqHash));
  }

  /** The CA a received CERTREQ hash names (to pick which of our certificates to send), if we hold it. */
  caForCertreqHash(hash: Uint8Array): Certificate | undefined {
    return this.anchors.find((a) => bytesEqual(certreqHash(a), hash));
  }

  /** CRLs whose issuer is `ca` (by name, and by key id when the CRL has one). */
  crlsFor(ca: Certificate): Crl[] {
    return this.crlList.filter(
      (c) => namesEqual(c.issuer, ca.subject) && (c.authorityKeyId === undefined || bytesEqual(c.authorityKeyId, subjectKeyIdOf(ca))),
    );
  }
}

function when(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function isIssuerCandidate(cert: Certificate, issuer: Certificate): boolean {
  if (!namesEqual(cert.issuer, issuer.subject)) return false;
  // AKI/SKI, when both exist, disambiguate re-keyed CAs with the same name (RFC 5280 4.2.1.1).
  if (cert.authorityKeyId && issuer.subjectKeyId && !bytesEqual(cert.authorityKeyId, issuer.subjectKeyId)) return false;
  return true;
}

const IKE_EKUS = new Set<string>([OID.serverAuth, OID.clientAuth, OID.ikeIntermediate, OID.ipsecIke, OID.anyExtendedKeyUsage]);

function ekuText(ekus: readonly string[] | undefined): string {
  return ekus && ekus.length ? ekus.map((o) => EKU_NAMES[o] ?? o).join(', ') : 'none';
}

/**
 * Validates `leaf` up to a trust anchor in `store`, using `intermediates` (received in CERT payloads) and the
 * store's known intermediates for the gaps. Checks, per certificate: validity at `now`, unknown critical extensions, issuer signature, the issuer's
 * basicConstraints CA flag, pathLenConstraint and keyCertSign usage, revocation by the issuer's CRLs (each CRL's
 * signature checked; an outdated CRL still revokes, as strongSwan), and for the end entity keyUsage
 * (digitalSignature) and the EKU policy.
 */
export function validateChain(
  leaf: Certificate,
  intermediates: readonly Certificate[],
  store: TrustStore,
  now: number,
  opts: ValidationOptions = {},
): ValidationResult {
  const warnings: string[] = [];
  const fail = (code: ValidationCode, cert: Certificate, message: string): ValidationResult => ({ ok: false, code, message, cert });
  const name = (c: Certificate) => `"${c.subject.text}"`;

  // End-entity checks first: they are the ones users most often have to fix.
  if (leaf.keyUsage && !leaf.keyUsage.has('digitalSignature') && !leaf.keyUsage.has('nonRepudiation'))
    return fail(
      'WRONG_KEY_USAGE',
      leaf,
      `certificate ${name(leaf)} has keyUsage ${[...leaf.keyUsage].join(', ') || 'none'} without digitalSignature, so it cannot sign IKE AUTH; ` +
        're-issue it without a keyUsage extension or with digitalSignature',
    );
  if (opts.requiredEku && opts.requiredEku.length > 0 && !opts.requiredEku.some((o) => leaf.extKeyUsage?.includes(o)))
    return fail(
      'WRONG_EKU',
      leaf,
      `certificate ${name(leaf)} lacks the extended key usage ${ekuText(opts.requiredEku)} (it has: ${ekuText(leaf.extKeyUsage)}); ` +
        `re-issue it with --flag ${opts.requiredEku.map((o) => EKU_NAMES[o] ?? o).join(' --flag ')}`,
    );
  if (opts.ekuPolicy === 'ike' && leaf.extKeyUsage && !leaf.extKeyUsage.some((o) => IKE_EKUS.has(o)))
    return fail(
      'WRONG_EKU',
      leaf,
      `certificate ${name(leaf)} restricts its use to ${ekuText(leaf.extKeyUsage)}, none of which allows IKE; ` +
        're-issue it with --flag serverAuth (gateways) or --flag clientAuth (clients)',
    );

  if (opts.requiredCas && opts.requiredCas.length > 0) {
    const { requiredCas, ...rest } = opts;
    const extended = new TrustStore([...store.cas, ...requiredCas], store.crls, store.intermediates);
    const r = validateChain(leaf, intermediates, extended, now, rest);
    if (!r.ok || r.chain.some((c) => requiredCas.some((ca) => sameCertificate(ca, c)))) return r;
    return fail(
      'UNTRUSTED_ISSUER',
      leaf,
      `certificate ${name(leaf)} chains to "${r.chain[r.chain.length - 1]!.subject.text}", but the connection accepts only certificates issued under ` +
        `${requiredCas.map((c) => `"${c.subject.text}"`).join(', ')} (remote cacerts)`,
    );
  }

  const chain: Certificate[] = [leaf];
  const maxDepth = opts.maxDepth ?? 8;
  let cert = leaf;
  for (let depth = 0; ; depth++) {
    if (depth >= maxDepth) return fail('CHAIN_TOO_LONG', cert, `the chain of ${name(leaf)} is longer than ${maxDepth} certificates`);
    const role = depth === 0 ? 'certificate' : store.isAnchor(cert) ? 'CA certificate' : 'intermediate CA certificate';
    if (now < cert.notBefore)
      return fail('NOT_YET_VALID', cert, `${role} ${name(cert)} is not valid before ${when(cert.notBefore)} (now is ${when(now)}); check the clock on both peers or wait`);
    if (now > cert.notAfter)
      return fail('EXPIRED', cert, `${role} ${name(cert)} expired on ${when(cert.notAfter)} (now is ${when(now)}); issue a new one (pki --issue) and load it`);
    if (cert.unhandledCritical.length > 0)
      return fail(
        'UNSUPPORTED_CRITICAL_EXTENSION',
        cert,
        `${role} ${name(cert)} has critical extension(s) ${cert.unhandledCritical.join(', ')} that cygnet does not process (RFC 5280 4.2 requires refusing it)`,
      );
    if (store.isAnchor(cert)) return { ok: true, chain, warnings };

    const anchors = store.cas.filter((a) => isIssuerCandidate(cert, a));
    const inters = [...intermediates, ...store.intermediates].filter((i) => isIssuerCandidate(cert, i) && !sameCertificate(i, cert) && !chain.some((c) => sameCertificate(c, i)));
    const candidates = [...anchors, ...inters];
    if (candidates.length === 0) {
      if (cert.selfSigned)
        return fail('UNTRUSTED_ISSUER', cert, `${role} ${name(cert)} is self-signed and not a trusted CA; put it into x509ca/ (remote cacerts) if you trust it`);
      return fail(
        'UNTRUSTED_ISSUER',
        cert,
        `${role} ${name(cert)} was issued by "${cert.issuer.text}", which is not a trusted CA` +
          (depth === 0 && intermediates.length === 0 ? ' and the peer sent no intermediate certificates' : '') +
          `; add "${cert.issuer.text}" (or the root above it) to x509ca/, or have the peer send its intermediate CA certificate`,
      );
    }
    const issuer = candidates.find((c) => certSignedBy(cert, c.publicKey));
    if (!issuer) {
      const why = cert.signatureScheme ? '' : ` (signature algorithm ${cert.signatureAlgorithmOid} is not supported)`;
      return fail(
        'BAD_SIGNATURE',
        cert,
        `the signature of ${role} ${name(cert)} does not verify with the key of "${cert.issuer.text}"${why}: the certificate was altered, ` +
          'or it was issued by a different CA key with the same name (re-keyed CA? load the right CA certificate)',
      );
    }
    // Issuer constraints (RFC 5280 6.1.4 (k), (l), (m), (n)). pathLenConstraint counts the non-self-issued
    // intermediate CA certificates between the issuer and the end entity.
    const nonSelfIssuedBelow = chain.slice(1).filter((c) => !namesEqual(c.subject, c.issuer)).length;
    const issuerRole = store.isAnchor(issuer) ? 'CA certificate' : 'intermediate CA certificate';
    const v1Root = issuer.version < 3 && store.isAnchor(issuer);
    if (!v1Root && !issuer.basicConstraints?.ca)
      return fail(
        'NOT_A_CA',
        issuer,
        `${issuerRole} ${name(issuer)} issued ${name(cert)} but is not a CA (no basicConstraints CA:TRUE); re-issue it with --ca`,
      );
    if (issuer.basicConstraints?.pathLen !== undefined && nonSelfIssuedBelow > issuer.basicConstraints.pathLen)
      return fail(
        'PATH_LENGTH',
        issuer,
        `${issuerRole} ${name(issuer)} allows ${issuer.basicConstraints.pathLen} intermediate CA(s) below it (pathlen), but the chain has ${nonSelfIssuedBelow}; ` +
          're-issue it with a larger --pathlen or shorten the chain',
      );
    if (issuer.keyUsage && !issuer.keyUsage.has('keyCertSign'))
      return fail('WRONG_KEY_USAGE', issuer, `${issuerRole} ${name(issuer)} has keyUsage ${[...issuer.keyUsage].join(', ')} without keyCertSign, so it may not issue certificates`);

    // Revocation by the issuer's CRLs (RFC 5280 6.3, simplified: full CRLs, no delta CRLs).
    const serial = normalizeSerial(cert.serial);
    for (const crl of store.crlsFor(issuer)) {
      const crlOk = crl.signatureScheme !== undefined && verifyWithScheme(crl.signatureScheme, issuer.publicKey, crl.tbs, crl.signature);
      if (!crlOk) {
        warnings.push(`CRL of "${crl.issuer.text}" is not signed by ${name(issuer)}; ignored`);
        continue;
      }
      if (issuer.keyUsage && !issuer.keyUsage.has('cRLSign')) {
        warnings.push(`CRL of "${crl.issuer.text}" ignored: the CA certificate lacks cRLSign`);
        continue;
      }
      if (crl.nextUpdate !== undefined && now > crl.nextUpdate) warnings.push(`CRL of "${crl.issuer.text}" is outdated since ${when(crl.nextUpdate)}`);
      const entry = crl.revoked.find((r) => bytesEqual(r.serial, serial));
      if (entry && entry.date <= Math.max(now, crl.thisUpdate))
        return fail(
          'REVOKED',
          cert,
          `${role} ${name(cert)} (serial ${hexColon(serial)}) was revoked on ${when(entry.date)} (${entry.reasonText}) by the CRL of "${crl.issuer.text}"; ` +
            'issue a new certificate for this peer',
        );
    }

    chain.push(issuer);
    cert = issuer;
  }
}

export type IdMatchResult = { readonly ok: true } | { readonly ok: false; readonly code: 'ID_NOT_IN_CERT'; readonly message: string };

/** What a certificate can be identified by, for messages: "subject C=.., CN=..; subjectAltNames DNS:a, email:b". */
export function certIdentities(cert: Certificate): string {
  const sans = cert.subjectAltNames.map((g) => `${g.type === 'dns' ? 'DNS' : g.type === 'email' ? 'email' : g.type === 'ip' ? 'IP' : g.type === 'dn' ? 'DN' : g.type}:${generalNameText(g)}`);
  return `subject "${cert.subject.text}"; subjectAltNames ${sans.length ? sans.join(', ') : 'none'}`;
}

/**
 * Whether the peer's IKE identity is bound to `cert` (RFC 4945 3.1, as strongSwan's certificate->has_subject):
 * ID_DER_ASN1_DN against the subject DN or a directoryName SAN; ID_FQDN against dNSName SANs; ID_RFC822_ADDR
 * against rfc822Name SANs; ID_IPV4/IPV6_ADDR against iPAddress SANs; ID_KEY_ID against the key identifiers; %any
 * always. FQDN/e-mail compare case-insensitively.
 */
export function certMatchesId(cert: Certificate, id: Identity): IdMatchResult {
  if (id.type === 0) return { ok: true };
  let ok: boolean;
  switch (id.type) {
    case IdType.ID_DER_ASN1_DN:
    case IdType.ID_FQDN:
    case IdType.ID_RFC822_ADDR:
    case IdType.ID_IPV4_ADDR:
    case IdType.ID_IPV6_ADDR:
      // One comparison for IKE IDs, subjects and SANs (src/identity): DNs structurally (RFC 5280 7.1), never as
      // printed text; the peer's ID is a concrete name, so a "*" in it is a literal, not a wildcard.
      ok =
        (id.type === IdType.ID_DER_ASN1_DN && identitiesEqual(id, { type: IdType.ID_DER_ASN1_DN, data: cert.subject.der })) ||
        cert.subjectAltNames.some((g) => {
          const san = generalNameIdentity(g);
          return san !== undefined && identitiesEqual(id, san);
        });
      break;
    case IdType.ID_KEY_ID:
      ok = bytesEqual(id.data, keyIdSha1(cert.publicKey)) || bytesEqual(id.data, spkiSha1(cert.publicKey)) || (cert.subjectKeyId !== undefined && bytesEqual(id.data, cert.subjectKeyId));
      break;
    default:
      ok = false;
  }
  if (ok) return { ok: true };
  const shown = id.type === IdType.ID_IPV4_ADDR || id.type === IdType.ID_IPV6_ADDR ? formatIp(id.data) : formatIdentity(id);
  return {
    ok: false,
    code: 'ID_NOT_IN_CERT',
    message:
      `identity '${shown}' is not confirmed by certificate "${cert.subject.text}": neither its subject nor a subjectAltName matches, it contains ${certIdentities(cert)}; ` +
      `issue the certificate with --san ${shown} or configure the peer's id as one of these`,
  };
}

/**
 * Splits a received CERTREQ's Certification Authority data into its 20-octet SHA-1 hashes (RFC 7296 3.7), each
 * to look up with TrustStore.caForCertreqHash.
 */
export function decodeCertreq(data: Uint8Array): Uint8Array[] {
  if (data.length % 20 !== 0) throw new PkiError('BAD_ENCODING', `CERTREQ data of ${data.length} octets is not a list of 20-octet SHA-1 hashes`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += 20) out.push(data.slice(i, i + 20));
  return out;
}

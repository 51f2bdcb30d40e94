/**
 * src/pki: X.509 certificates, keys, IKEv2 signature AUTH, chain validation with CRLs, credential loading.
 * Sans-IO: no clock (validation takes `now` in ms since the epoch), no files (credential loading takes injected
 * readFile/readdir; node-fs.ts binds them to node:fs), key generation aside (OS CSPRNG via node:crypto).
 *
 * ## How IKE_AUTH uses it (RFC 7296 2.15, 3.6, 3.7; RFC 7427)
 *
 * Setup (once per config load):
 *   const creds = loadCredentialDir(dir, nodeCredentialFs)          // swanctl layout: x509/ x509ca/ x509crl/ private/ ...
 *   const store = new TrustStore(creds.cas, creds.crls)             // or store.addCa(cert) / store.addCrl(crl)
 *   const local = findKeyForCert(creds, cert) / creds.keys          // the private key whose public half matches `cert`
 *   const auth  = parseAuthKeyword(conn.local.auth)                 // undefined => not a signature method (psk, eap)
 *
 * IKE_SA_INIT: both sides add N(SIGNATURE_HASH_ALGORITHMS) with `encodeSignatureHashes()` (SHA2-256/384/512 and
 *   Identity); keep the peer's list from `decodeSignatureHashes(notify.data)` (undefined if it sent none).
 *
 * Sending IKE_AUTH (initiator: HDR, SK {IDi, [CERT+], [CERTREQ], [IDr], AUTH, ...}):
 *   - CERT payloads: encoding 4 (X.509 Certificate - Signature), data = `cert.der`, then each intermediate's `der`
 *     (send_cert: always => always; ifasked => when the peer sent CERTREQ; never => none).
 *   - CERTREQ: encoding 4, data = concatenation of `certreqHash(ca)` (20 octets each, SHA-1 of the CA's
 *     SubjectPublicKeyInfo) for every CA in the store: `store.certreqData()`.
 *   - IDi for a certificate: default ID_DER_ASN1_DN with data `cert.subject.der` (strongSwan's default).
 *   - AUTH: `const { method, data } = signAuth(privateKey, InitiatorSignedOctets, { ...auth, peerHashes })`;
 *     put `method` into the AUTH payload's Auth Method and `data` into its Authentication Data.
 *
 * The one peer-certificate path of IKE_AUTH is src/ike/auth-pubkey.ts (certPayloads, verifyPeerCert): it runs
 * the steps below. For CERTREQ: `store.certreqData()` to send, `decodeCertreq(data)` (validate.ts) to read.
 *
 * Receiving IKE_AUTH step by step (the responder mirror is the same):
 *   1. certs = CERT payloads of encoding 4 → `parseCertificate(payload.data)` (catch PkiError → AUTHENTICATION_FAILED);
 *      the first is the end-entity, the rest are intermediates.
 *   2. `const v = validateChain(certs[0], certs.slice(1), store, now, { requiredEku?, ekuPolicy? })` → on `!v.ok` refuse with `v.code`
 *      and log `v.message` (names the certificate and what to fix).
 *   3. `const m = certMatchesId(certs[0], peerIdentity)` (Identity from src/ike/identity.ts) → on `!m.ok` refuse
 *      (code ID_NOT_IN_CERT, message lists what the certificate contains).
 *   4. `const a = verifyAuth(certs[0], auth.method, auth.data, ResponderSignedOctets, auth keyword constraints)`
 *      → on `!a.ok` refuse with `a.reason`. `describeAuth(method, a.scheme)` is the log label.
 *   5. Remote `id` config of %any: the peer's ID still has to be in its certificate (3).
 *
 * ## Modules
 *   keys.ts         loadPrivateKey, loadPublicKey, exportPrivateKey, exportPublicKey, keyIdSha1, spkiSha1
 *   keygen.ts       generateKey({ type: 'rsa'|'ecdsa'|'ed25519', size })
 *   pkcs12.ts       parsePkcs12(data, password) -> { keys, certs }, buildPkcs12(...)
 *   certificate.ts  parseCertificate(s), loadCertificate, certSignedBy, certreqHash, subjectKeyIdOf
 *   crl.ts          parseCrl, loadCrl
 *   build.ts        issueCertificate (pki --self / --issue), signCrl (pki --signcrl)
 *   sigalg.ts       SignatureScheme, AlgorithmIdentifier encode/decode, sign/verify with node:crypto
 *   auth.ts         signAuth, verifyAuth, parseAuthKeyword, (en|de)codeSignatureHashes
 *   validate.ts     TrustStore, validateChain, certMatchesId (codes below)
 *   credentials.ts  loadCredentialDir(dir, fs) (swanctl layout)
 *   print.ts        formatCertificate/formatCrl as `pki --print`
 *   node-fs.ts      nodeCredentialFs (node:fs binding; not re-exported here to keep the barrel IO-free)
 *
 * Validation codes: EXPIRED, NOT_YET_VALID, UNTRUSTED_ISSUER, BAD_SIGNATURE, NOT_A_CA, PATH_LENGTH,
 * WRONG_KEY_USAGE, WRONG_EKU, REVOKED, UNSUPPORTED_CRITICAL_EXTENSION, CHAIN_TOO_LONG; certMatchesId: ID_NOT_IN_CERT.
 */
export * from './errors.js';
export * from './oids.js';
export * from './der.js';
export * from './keys.js';
export * from './keygen.js';
export * from './name.js';
export * from './sigalg.js';
export * from './certificate.js';
export * from './auth.js';
export * from './crl.js';
export * from './build.js';
export * from './validate.js';
export * from './pkcs12.js';
export * from './credentials.js';
export * from './print.js';

/**
 * src/eap: EAP for IKEv2 (RFC 7296 2.16), sans-IO. The IKE side carries packets; these sessions decide.
 *
 * ## How IKE_AUTH uses it
 *
 * Gateway (EAP server), once per IKE SA whose remote round is `auth = eap-...`:
 *   const s = new EapServer({ ikeIdentity: IDi text, eapId: remote eap_id, methods: conn.remote.eap.methods,
 *                             ownIdentity: IDr text, random, secrets: toEapSecrets(config.secrets),
 *                             plugins: [eapTlsPlugin({ certs, key, cas })] })   // EAP-TLS: src/eap-tls
 *   first IKE_AUTH response: step = await s.start()      -> EAP payload step.eap (no AUTH yet)
 *   each IKE_AUTH request with EAP: step = await s.process(eapPayload.data)
 *     'send'    -> answer with EAP payload step.eap
 *     'success' -> answer with EAP payload step.eap (EAP-Success); the next request's AUTH is checked with
 *                  step.msk as the shared key (no msk, e.g. EAP-MD5: SK_pi/SK_pr as RFC 7296 2.16 says)
 *     'failure' -> answer with EAP payload step.eap (EAP-Failure, or MSCHAPv2's final Failure-Request) and
 *                  AUTHENTICATION_FAILED; log step.reason (names the method and the EAP identity)
 *   s.identity: the EAP identity (for logs, aaa/eap id checks); s.method: 'mschapv2' | 'tls' | 'md5'.
 *   eap-radius: src/radius's RadiusEapServer implements the same EapServerSession.
 *
 * Client (EAP peer), when the IKE_AUTH response has no AUTH but an EAP payload:
 *   const p = new EapPeer({ identity: local eap_id ?? our IKE id, serverIdentity: aaa_id ?? IDr text,
 *                           methods: conn.local.eap.methods, random, secrets, plugins })
 *   step = await p.process(eapPayload.data)
 *     'send'    -> next IKE_AUTH request with EAP payload step.eap
 *     'success' -> (after EAP-Success) next request carries AUTH computed with step.msk
 *     'failure' -> give up; step.eap, if present, is a last Response the server may want (MSCHAPv2
 *                  Failure-Response, a TLS alert); log step.reason
 *
 * ## Modules
 *   types.ts          EapStep, EapServerSession, EapPeerSession, options, method plugin interface
 *   packet.ts         RFC 3748 codec (EapError codes in errors.ts)
 *   server.ts/peer.ts the sessions: EAP-Identity (eap_id %any), Nak (eap-dynamic), identifier checks
 *   mschapv2.ts       EAP-MSCHAPv2 server/peer; mschapv2-crypto.ts RFC 2759 / RFC 3079; md4.ts RFC 1320
 *   md5.ts            EAP-MD5 (tests only, refused unless allowMd5)
 *   secrets.ts        eap-/ntlm- secrets lookup
 *   testing.ts        converse(server, peer) for tests
 */
export * from './types.js';
export { EapError, type EapErrorCode } from './errors.js';
export { decodeEap, encodeEap, encodeEapResult, encodeNak, decodeNak, decodeIdentity, EapCode, EapType, eapTypeName, type EapPacket } from './packet.js';
export { EapServer } from './server.js';
export { EapPeer } from './peer.js';
export { md4 } from './md4.js';
export * as mschapv2 from './mschapv2-crypto.js';
export { eapSecretLookup, eapSecretProblem, type EapSecretEntry } from './secrets.js';

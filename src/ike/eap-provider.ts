/**
 * Where IKE_AUTH gets its EAP sessions (RFC 7296 2.16): the gateway's EAP server (or a RADIUS relay, RFC 3579) and
 * the client's EAP peer. The endpoint takes a provider so drivers can add what needs I/O (EAP-TLS over node:tls,
 * RADIUS over UDP); `localEapProvider` is the sans-IO default with the built-in methods and the configured secrets.
 */
import type { RandomSource } from '../crypto/random.js';
import { EapPeer, EapServer, type EapMethodPlugin, type EapPeerSession, type EapSecretLookup, type EapServerSession } from '../eap/index.js';

export interface EapServerRequest {
  /** The connection (swanctl name) whose remote round is EAP. */
  readonly connection: string;
  /** swanctl `auth = eap-...`: ['mschapv2'], several for eap-dynamic, ['radius'] for eap-radius. */
  readonly methods: readonly string[];
  /** The peer's IKE identity (IDi as text). */
  readonly ikeIdentity: string;
  /** Our IKE identity. */
  readonly ownIdentity: string;
  /** swanctl remote `eap_id` ('%any' asks for the EAP identity). */
  readonly eapId?: string;
  /** The peer's address ("ip[port]"), for RADIUS' Calling-Station-Id. */
  readonly peerAddress: string;
  readonly ownAddress: string;
  /** The IKE SA's id (RADIUS NAS-Port and Acct-Session-Id, as strongSwan's eap-radius). */
  readonly ikeSaId?: number;
}

export interface EapPeerRequest {
  readonly connection: string;
  readonly methods: readonly string[];
  /** Our EAP identity (swanctl local `eap_id`, default our IKE identity). */
  readonly identity: string;
  /** The gateway's identity. */
  readonly serverIdentity: string;
}

export interface EapProvider {
  server(r: EapServerRequest): EapServerSession;
  peer(r: EapPeerRequest): EapPeerSession;
}

export interface LocalEapOptions {
  readonly random: RandomSource;
  /** eap-/ntlm- secrets (src/eap secrets.ts eapSecretLookup). */
  readonly secrets?: EapSecretLookup;
  /** Methods implemented outside the sans-IO core (EAP-TLS from src/eap-tls). */
  readonly plugins?: readonly EapMethodPlugin[];
  /** EAP-MD5 is for tests only: refused unless set. */
  readonly allowMd5?: boolean;
  /** eap-radius: the relay's sessions (src/radius); without it eap-radius fails with a clear reason. */
  readonly radius?: (r: EapServerRequest) => EapServerSession;
}

/** The built-in EAP methods with the configured secrets; RADIUS when the driver supplies a relay. */
export function localEapProvider(o: LocalEapOptions): EapProvider {
  return {
    server: (r) => {
      if (r.methods.includes('radius')) {
        if (!o.radius) return failing(`connection '${r.connection}' uses eap-radius, but no RADIUS server is configured (strongswan.conf charon.plugins.eap-radius)`);
        return o.radius(r);
      }
      const methods = r.methods.length > 0 ? r.methods : ['mschapv2'];
      return new EapServer({
        ikeIdentity: r.ikeIdentity,
        ...(r.eapId !== undefined ? { eapId: r.eapId } : {}),
        methods,
        ownIdentity: r.ownIdentity,
        random: o.random,
        ...(o.secrets ? { secrets: o.secrets } : {}),
        ...(o.allowMd5 ? { allowMd5: true } : {}),
        ...(o.plugins ? { plugins: o.plugins } : {}),
      });
    },
    peer: (r) =>
      new EapPeer({
        identity: r.identity,
        serverIdentity: r.serverIdentity,
        methods: r.methods.length > 0 ? r.methods : ['mschapv2', 'tls', 'md5'],
        random: o.random,
        ...(o.secrets ? { secrets: o.secrets } : {}),
        ...(o.allowMd5 ? { allowMd5: true } : {}),
        ...(o.plugins ? { plugins: o.plugins } : {}),
      }),
  };
}

/** A server session that fails at once, with `reason` (a configuration that cannot work). */
function failing(reason: string): EapServerSession {
  return {
    identity: undefined,
    method: undefined,
    start: async () => ({ kind: 'failure', reason }),
    process: async () => ({ kind: 'failure', reason }),
  };
}

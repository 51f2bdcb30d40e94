/**
 * The daemon's EAP sessions for IKE_AUTH (RFC 7296 2.16): the built-in methods with the eap-/ntlm- secrets of
 * swanctl.conf, EAP-TLS (src/eap-tls, node:tls) with the connection's own certificate and key and the configured
 * CAs, and eap-radius relayed to the RADIUS servers of strongswan.conf (src/daemon/radius-service.ts).
 */
import type { RandomSource } from '../crypto/random.js';
import type { EapMethodPlugin, EapPeerSession, EapSecretLookup, EapServerSession } from '../eap/index.js';
import { eapTlsPlugin } from '../eap-tls/index.js';
import type { Credentials, IkeConnectionConfig } from '../ike/config.js';
import { localEapProvider, type EapProvider } from '../ike/eap-provider.js';
import type { RadiusService } from './radius-service.js';

export interface DaemonEapOptions {
  readonly random: RandomSource;
  /** eap-/ntlm- secrets (src/config/ike-adapter.ts toEapSecrets). */
  readonly secrets: () => EapSecretLookup | undefined;
  readonly connections: () => readonly IkeConnectionConfig[];
  readonly credentials: () => Credentials;
  readonly radius?: () => RadiusService | undefined;
  /** EAP-TLS key log lines (the daemon's --key-log), for decrypting captures. */
  readonly keylog?: (line: string) => void;
  /** The daemon's log: EAP-TLS reports the negotiated TLS version and suite under `tls`, as charon's libtls. */
  readonly log?: (group: string, level: number, message: string) => void;
}

/** "192.0.2.1[4500]" as EapServerRequest gives addresses, back to address and port. */
function endpointOf(s: string): { address: string; port: number } | undefined {
  const m = /^(.*)\[(\d+)\]$/.exec(s);
  return m?.[1] !== undefined && m[2] !== undefined ? { address: m[1], port: Number(m[2]) } : undefined;
}

export function daemonEapProvider(o: DaemonEapOptions): EapProvider {
  // EAP-TLS with the certificate the connection authenticates us with (local certs) and the trusted CAs.
  const tlsFor = (connection: string): { plugins: EapMethodPlugin[]; problem?: string } => {
    const conn = o.connections().find((c) => c.name === connection);
    const creds = o.credentials();
    const cert = conn?.local.certs?.[0];
    if (cert === undefined) return { plugins: [], problem: `connection '${connection}' uses EAP-TLS but has no local certificate (local { certs = ... })` };
    const key = creds.privateKeyFor?.(cert);
    if (key === undefined) return { plugins: [], problem: `connection '${connection}' uses EAP-TLS but holds no private key for its certificate "${cert.subject.text}" (swanctl private/)` };
    const log = o.log;
    return {
      plugins: [
        eapTlsPlugin({
          certs: conn?.local.certs ?? [cert],
          key,
          cas: creds.trust?.cas ?? [],
          ...(creds.trust ? { trust: creds.trust } : {}),
          ...(o.keylog ? { keylog: o.keylog } : {}),
          ...(log ? { log: (level: number, message: string) => log('tls', level, message) } : {}),
        }),
      ],
    };
  };
  /** EAP-TLS alone (`auth = eap-tls`) without a certificate cannot work: say why instead of offering nothing. */
  const tlsOnlyProblem = (connection: string, methods: readonly string[]): string | undefined =>
    methods.length === 1 && methods[0] === 'tls' ? tlsFor(connection).problem : undefined;
  const base = (connection: string): EapProvider => {
    const radius = o.radius?.();
    const secrets = o.secrets();
    return localEapProvider({
      random: o.random,
      ...(secrets ? { secrets } : {}),
      plugins: tlsFor(connection).plugins,
      ...(radius
        ? {
            radius: (r) => {
              const local = endpointOf(r.ownAddress);
              const remote = endpointOf(r.peerAddress);
              return radius.eapServer(r.ikeIdentity, { ...(local ? { local } : {}), ...(remote ? { remote } : {}), connectionName: r.connection, ...(r.ikeSaId !== undefined ? { ikeSaUniqueId: r.ikeSaId } : {}) });
            },
          }
        : {}),
    });
  };
  return {
    server: (r) => {
      const problem = tlsOnlyProblem(r.connection, r.methods);
      return problem === undefined ? base(r.connection).server(r) : failingServer(problem);
    },
    peer: (r) => {
      const problem = tlsOnlyProblem(r.connection, r.methods);
      return problem === undefined ? base(r.connection).peer(r) : failingPeer(problem);
    },
  };
}

/** A server session that fails at once with `reason` (a configuration that cannot work). */
function failingServer(reason: string): EapServerSession {
  return { identity: undefined, method: 'tls', start: async () => ({ kind: 'failure', reason }), process: async () => ({ kind: 'failure', reason }) };
}

/** A peer session that fails on the gateway's first request with `reason`. */
function failingPeer(reason: string): EapPeerSession {
  return { method: 'tls', process: async () => ({ kind: 'failure', reason }) };
}

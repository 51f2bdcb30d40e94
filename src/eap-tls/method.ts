/**
 * EAP-TLS (RFC 5216 with TLS 1.2, RFC 9190 with TLS 1.3) server and peer methods for src/eap's sessions, with
 * fragmentation and the MSK of RFC 5216 2.3 / RFC 9190 2.3. Both sides require a certificate from the other
 * (mutual authentication) chained to the configured CAs, and check it names the expected identity.
 */
import { constants, X509Certificate } from 'node:crypto';
import { connect, createSecureContext, createServer, type SecureContextOptions, type TLSSocket } from 'node:tls';
import { EapError } from '../eap/errors.js';
import { EapCode, EapType } from '../eap/packet.js';
import type { EapMethodPeer, EapMethodPlugin, EapMethodServer, EapStep } from '../eap/types.js';
import { parseIdentity } from '../identity/index.js';
import { certMatchesId, exportPrivateKey, parseCertificate, TrustStore, validateChain, type Certificate, type PrivateKey, type ValidationCode } from '../pki/index.js';
import { fatalAlertRecord, serverCertificates, TlsAlert } from './early-check.js';
import { buildTlsFrame, DEFAULT_FRAGMENT_SIZE, DEFAULT_MAX_MESSAGE_COUNT, Fragmenter, parseTlsFrame, Reassembler, TlsFlag, type TlsFrame } from './framing.js';
import { TlsPipe } from './pipe.js';

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

export interface EapTlsOptions {
  /** Our certificate, then intermediates to send. */
  readonly certs: readonly Certificate[];
  readonly key: PrivateKey;
  /** Trust anchors for the other side's certificate. */
  readonly cas: readonly Certificate[];
  /** Largest EAP packet to send (strongSwan's eap-tls fragment_size, default 1024). */
  readonly fragmentSize?: number;
  /** EAP-TLS packets processed at most before giving up (strongSwan's eap-tls max_message_count, 32; 0 = no limit). */
  readonly maxMessageCount?: number;
  readonly minVersion?: TlsVersion;
  readonly maxVersion?: TlsVersion;
  /** NSS key log lines (SSLKEYLOGFILE format) of each handshake, for Wireshark and the daemon's key log. */
  readonly keylog?: (line: string) => void;
  /**
   * When given, the other side's chain is also validated as IKE validates certificates (src/pki validateChain:
   * CRLs, key usage, EKU policy) at `now()`; OpenSSL's check against `cas` happens in any case.
   */
  readonly trust?: TrustStore;
  /** The clock for `trust` (ms since the epoch), default Date.now. */
  readonly now?: () => number;
  /** Where the negotiated TLS version and suite are reported (the daemon's `tls` log group), level 1 as charon. */
  readonly log?: (level: number, message: string) => void;
}

const pem = (c: Certificate): string => new X509Certificate(c.der).toString();

function contextOptions(o: EapTlsOptions): SecureContextOptions {
  const [own, ...chain] = o.certs;
  if (own === undefined) throw new Error('EAP-TLS needs our certificate');
  return {
    cert: [pem(own), ...chain.map(pem)].join(''),
    key: Buffer.from(exportPrivateKey(o.key, 'pem', 'pkcs8')),
    ca: o.cas.map(pem),
    minVersion: o.minVersion ?? 'TLSv1.2',
    // TLS 1.3 only where the other side offers it. strongSwan 5.9.8's libtls stops at 1.2 by default
    // (libtls.version_max); raised to 1.3 it follows an early EAP-TLS 1.3 draft, not RFC 9190: its MSK is the
    // exporter with label "client EAP encryption" (tls_crypto.c), so AUTH fails, and as a client charon crashes on
    // the RFC 9190 2.5 commitment message (tls_fragmentation.c process_application has no application in EAP-TLS)
    maxVersion: o.maxVersion ?? 'TLSv1.3',
  };
}

/**
 * The MSK: TLS 1.2 Key_Material = PRF(master_secret, "client EAP encryption", client.random || server.random)
 * (RFC 5216 2.3), which is the RFC 5705 exporter without context; TLS 1.3 Key_Material =
 * TLS-Exporter("EXPORTER_EAP_TLS_Key_Material", Type-Code 0x0D, 128) (RFC 9190 2.3). MSK = the first 64 octets.
 */
export function eapTlsMsk(socket: TLSSocket): Uint8Array {
  const key =
    socket.getProtocol() === 'TLSv1.3'
      ? socket.exportKeyingMaterial(128, 'EXPORTER_EAP_TLS_Key_Material', Buffer.of(EapType.Tls))
      : // no context at all (RFC 5705 4: "no context" differs from an empty one); @types/node marks it required
        socket.exportKeyingMaterial(128, 'client EAP encryption', undefined as unknown as Buffer);
  return new Uint8Array(key.subarray(0, 64));
}

/** The other side's certificates as node:tls reports them: the leaf, then its issuers up to the anchor. */
function peerChain(socket: TLSSocket): Certificate[] {
  const out: Certificate[] = [];
  const seen = new Set<string>();
  for (let c = socket.getPeerCertificate(true); c?.raw !== undefined && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    out.push(parseCertificate(new Uint8Array(c.raw)));
  }
  return out;
}

/** Why `leaf` does not name `identity` (subject DN or subjectAltName, src/pki certMatchesId); undefined if it does. */
function identityProblem(leaf: Certificate, identity: string, who: string): string | undefined {
  if (identity === '%any' || identity === '') return undefined;
  const m = certMatchesId(leaf, parseIdentity(identity));
  return m.ok ? undefined : `${who} certificate does not contain the identity '${identity}': ${m.message}`;
}

/**
 * Why the other side's certificate is not acceptable: not trusted by OpenSSL, refused by src/pki (when `trust`
 * is set), or not naming `identity` (subject DN or subjectAltName, src/pki certMatchesId); undefined if fine.
 */
function peerCertProblem(socket: TLSSocket, o: EapTlsOptions, identity: string, who: string): string | undefined {
  // node:tls lets OpenSSL finish the handshake whatever the chain check said and reports the verdict here
  const [leaf, ...issuers] = peerChain(socket);
  if (!socket.authorized) {
    const openssl = String(socket.authorizationError ?? 'no certificate');
    if (leaf === undefined) return `${who} certificate is not trusted: ${openssl}`;
    // src/pki says which certificate and issuer in words; OpenSSL's code stays for the search engines
    const v = validateChain(leaf, issuers, o.trust ?? new TrustStore(o.cas), (o.now ?? Date.now)());
    return `${who} certificate is not trusted: ${v.ok ? `"${leaf.subject.text}"` : v.message} (OpenSSL: ${openssl})`;
  }
  if (leaf === undefined) return `${who} sent no certificate`;
  if (o.trust !== undefined) {
    const v = validateChain(leaf, issuers, o.trust, (o.now ?? Date.now)());
    if (!v.ok) return `${who} certificate is not acceptable: ${v.message}`;
  }
  return identityProblem(leaf, identity, who);
}

const ALERT_FOR: Partial<Record<ValidationCode, number>> = {
  UNTRUSTED_ISSUER: TlsAlert.UnknownCa,
  EXPIRED: TlsAlert.CertificateExpired,
  NOT_YET_VALID: TlsAlert.CertificateExpired,
  REVOKED: TlsAlert.CertificateRevoked,
  BAD_SIGNATURE: TlsAlert.BadCertificate,
};

/**
 * The server's certificate as its TLS 1.2 first flight carries it (src/eap-tls/early-check.ts), checked as IKE
 * checks certificates (src/pki validateChain against `trust`, else the configured CAs) and for the expected
 * identity: the problem and the alert to answer with, or undefined (acceptable, or no certificate in clear).
 */
function earlyServerProblem(flight: Uint8Array, o: EapTlsOptions, identity: string): { problem: string; alert: number } | undefined {
  const ders = serverCertificates(flight);
  if (ders === undefined || ders.length === 0) return undefined;
  let leaf: Certificate;
  let issuers: Certificate[];
  try {
    [leaf, ...issuers] = ders.map((d) => parseCertificate(d)) as [Certificate, ...Certificate[]];
  } catch (e) {
    return { problem: `the server certificate cannot be parsed: ${e instanceof Error ? e.message : String(e)}`, alert: TlsAlert.BadCertificate };
  }
  const v = validateChain(leaf, issuers, o.trust ?? new TrustStore(o.cas), (o.now ?? Date.now)());
  if (!v.ok) return { problem: `the server certificate is not trusted: ${v.message}`, alert: ALERT_FOR[v.code] ?? TlsAlert.CertificateUnknown };
  const mismatch = identityProblem(leaf, identity, 'the server');
  return mismatch === undefined ? undefined : { problem: mismatch, alert: TlsAlert.BadCertificate };
}

/**
 * What was negotiated, in charon's libtls wording ("negotiated TLS 1.2 using suite TLS_ECDHE_..."): strongSwan
 * 5.9.8 stops at TLS 1.2 unless charon.plugins.eap-tls.max_version says otherwise, so this is the line that shows
 * which of RFC 5216 (1.2) or RFC 9190 (1.3) framing and key derivation ran.
 */
export function negotiatedText(socket: TLSSocket): string {
  const version = (socket.getProtocol() ?? 'unknown').replace(/^TLSv/, 'TLS ');
  const cipher = socket.getCipher();
  return `negotiated ${version} using suite ${cipher.standardName ?? cipher.name}`;
}

const tlsReason = (e: Error): string => {
  const code = (e as { code?: string }).code;
  return code !== undefined && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
};

/** The sending half shared by both roles: fragments of one flight out, ACKs in; fragments in, ACKs out. */
abstract class EapTlsEnd {
  readonly type = EapType.Tls;
  protected readonly pipe = new TlsPipe();
  protected readonly inbound = new Reassembler();
  protected outbound: Fragmenter | undefined;
  protected readonly fragmentSize: number;
  private processed = 0;

  constructor(protected readonly o: EapTlsOptions) {
    this.fragmentSize = o.fragmentSize ?? DEFAULT_FRAGMENT_SIZE;
  }

  /** Reads one packet's EAP-TLS fields, counting it against max_message_count (a bound on a stalled or hostile peer). */
  protected frame(eap: Uint8Array): TlsFrame {
    const max = this.o.maxMessageCount ?? DEFAULT_MAX_MESSAGE_COUNT;
    if (max > 0 && ++this.processed > max) {
      throw new EapError('bad-method-data', `EAP-TLS packet count exceeded (${this.processed} > max_message_count ${max})`);
    }
    return parseTlsFrame(eap);
  }

  protected label(identity: string): string {
    return `EAP-TLS authentication of '${identity}'`;
  }
}

export class EapTlsServer extends EapTlsEnd implements EapMethodServer {
  private state: 'new' | 'handshake' | 'committed' | 'done' = 'new';

  constructor(
    o: EapTlsOptions,
    private readonly identity: string,
  ) {
    super(o);
  }

  async initiate(identifier: number): Promise<Uint8Array> {
    // rejectUnauthorized false: the verdict is read from `authorized` below, so the failure reason can say why
    // (tls.Server builds its context from these options; it ignores a ready secureContext)
    const server = createServer({ ...contextOptions(this.o), requestCert: true, rejectUnauthorized: false });
    const keylog = this.o.keylog;
    if (keylog !== undefined) server.on('keylog', (line: Buffer) => keylog(line.toString('latin1').trimEnd()));
    this.pipe.attachServer(server);
    this.state = 'handshake';
    return buildTlsFrame(EapCode.Request, identifier, TlsFlag.Start); // RFC 5216 2.1.1: EAP-TLS Start
  }

  async process(eap: Uint8Array): Promise<EapStep> {
    const frame = this.frame(eap);
    if ((frame.flags & TlsFlag.Start) !== 0) throw new EapError('bad-method-data', 'EAP-TLS Start flag (offset 5) from the client');
    const next = (frame.identifier + 1) & 0xff;
    if (frame.data.length === 0 && !this.inbound.pending) {
      // an ACK of our fragment, or the peer's empty answer to our last flight
      if (this.outbound !== undefined && !this.outbound.done) return { kind: 'send', eap: this.outbound.next(EapCode.Request, next) };
      return this.finishHandshake();
    }
    const message = this.inbound.add(frame);
    if (message === undefined) return { kind: 'send', eap: buildTlsFrame(EapCode.Request, next, 0) };
    this.pipe.feed(message);
    let out = await this.pipe.settle();
    if (this.pipe.error !== undefined) {
      this.pipe.destroy();
      return { kind: 'failure', reason: `${this.label(this.identity)} failed: ${tlsReason(this.pipe.error)}` };
    }
    if (this.pipe.secure && this.state === 'handshake') {
      this.o.log?.(1, `EAP-TLS with '${this.identity}': ${negotiatedText(this.pipe.tls)}`);
      const problem = peerCertProblem(this.pipe.tls, this.o, this.identity, 'the client');
      if (problem !== undefined) {
        this.pipe.destroy();
        return { kind: 'failure', reason: `${this.label(this.identity)} failed: ${problem}` };
      }
      this.state = 'committed';
      if (this.pipe.tls.getProtocol() === 'TLSv1.3') {
        // RFC 9190 2.5: the Commitment Message, one octet 0x00 of application data: no more handshake messages
        this.pipe.tls.write(Buffer.of(0));
        const more = await this.pipe.settle();
        const joined = new Uint8Array(out.length + more.length);
        joined.set(out);
        joined.set(more, out.length);
        out = joined;
      }
    }
    if (out.length === 0) return this.finishHandshake();
    this.outbound = new Fragmenter(out, this.fragmentSize);
    return { kind: 'send', eap: this.outbound.next(EapCode.Request, next) };
  }

  private finishHandshake(): EapStep {
    if (this.state !== 'committed' || !this.pipe.secure) {
      this.pipe.destroy();
      return { kind: 'failure', reason: `${this.label(this.identity)} failed: the TLS handshake did not complete` };
    }
    this.state = 'done';
    const msk = eapTlsMsk(this.pipe.tls);
    this.pipe.destroy();
    return { kind: 'success', msk };
  }
}

export class EapTlsPeer extends EapTlsEnd implements EapMethodPeer {
  private started = false;
  private msk: Uint8Array | undefined;
  private problem: string | undefined;

  constructor(
    o: EapTlsOptions,
    private readonly identity: string,
    private readonly serverIdentity: string,
  ) {
    super(o);
  }

  async process(eap: Uint8Array): Promise<EapStep> {
    const frame = this.frame(eap);
    let out: Uint8Array;
    if ((frame.flags & TlsFlag.Start) !== 0) {
      if (this.started) throw new EapError('bad-method-data', 'EAP-TLS Start (flags offset 5) in the middle of a handshake');
      this.started = true;
      const socket = connect({
        socket: this.pipe.transport,
        // strongSwan 5.9.8's libtls server sends no renegotiation_info (RFC 5746) in its ServerHello, and OpenSSL 3
        // as a client then stops with "unsafe legacy renegotiation disabled". SSL_OP_LEGACY_SERVER_CONNECT accepts
        // such servers for TLS <= 1.2: RFC 5746's attack splices attacker data before a renegotiation, and an
        // EAP-TLS connection never renegotiates nor carries application data (RFC 5216 2.1; it is dropped once the
        // MSK is derived). Renegotiation itself stays refused (node:tls never starts one on this socket).
        secureContext: createSecureContext({ ...contextOptions(this.o), secureOptions: constants.SSL_OP_LEGACY_SERVER_CONNECT }),
        // the verdict (`authorized`) is read in peerCertProblem below: with rejectUnauthorized node would destroy
        // the socket itself and leave our already-built last flight (Certificate .. Finished) as the only output
        rejectUnauthorized: false,
        // the server's identity is checked against the IKE/AAA identity below, not a host name
        checkServerIdentity: () => undefined,
      });
      const keylog = this.o.keylog;
      if (keylog !== undefined) socket.on('keylog', (line: Buffer) => keylog(line.toString('latin1').trimEnd()));
      this.pipe.attach(socket, 'secureConnect');
      out = await this.pipe.settle();
    } else if (!this.started) {
      throw new EapError('bad-method-data', 'EAP-TLS Request before the Start flag (offset 5)');
    } else if (frame.data.length === 0 && !this.inbound.pending) {
      if (this.outbound !== undefined && !this.outbound.done) return { kind: 'send', eap: this.outbound.next(EapCode.Response, frame.identifier) };
      throw new EapError('bad-method-data', 'EAP-TLS Request without data while we have nothing left to send');
    } else {
      const message = this.inbound.add(frame);
      if (message === undefined) return { kind: 'send', eap: buildTlsFrame(EapCode.Response, frame.identifier, 0) };
      if (this.msk === undefined) {
        // RFC 5216 2.1.3: a server we cannot authenticate gets a TLS alert, before we send our certificate
        const early = earlyServerProblem(message, this.o, this.serverIdentity);
        if (early !== undefined) {
          this.pipe.destroy();
          return {
            kind: 'failure',
            reason: `${this.label(this.identity)} failed: ${early.problem} (sending fatal TLS alert ${early.alert})`,
            eap: buildTlsFrame(EapCode.Response, frame.identifier, 0, fatalAlertRecord(early.alert)),
          };
        }
      }
      this.pipe.feed(message);
      out = await this.pipe.settle();
    }
    if (this.pipe.error !== undefined) {
      const reason = `${this.label(this.identity)} failed: ${tlsReason(this.pipe.error)}`;
      this.pipe.destroy();
      // RFC 5216 2.1.3: the peer's TLS alert goes to the server in a Response
      return out.length > 0 ? { kind: 'failure', reason, eap: new Fragmenter(out, this.fragmentSize).next(EapCode.Response, frame.identifier) } : { kind: 'failure', reason };
    }
    if (this.pipe.secure && this.msk === undefined) {
      this.o.log?.(1, `EAP-TLS as '${this.identity}' with '${this.serverIdentity}': ${negotiatedText(this.pipe.tls)}`);
      this.problem = peerCertProblem(this.pipe.tls, this.o, this.serverIdentity, 'the server');
      if (this.problem !== undefined) {
        this.pipe.destroy();
        // TLS 1.3 (certificate encrypted, no early check) or a verdict only OpenSSL reached: our last flight is
        // withheld and a fatal alert goes instead, so the server fails now rather than waiting for an answer
        // (it arrives in clear where the server expects protected records: it fails either way, RFC 8446 5 / 6)
        const alert = this.problem.includes('not trusted') ? TlsAlert.UnknownCa : TlsAlert.BadCertificate;
        return {
          kind: 'failure',
          reason: `${this.label(this.identity)} failed: ${this.problem} (sending fatal TLS alert ${alert})`,
          eap: buildTlsFrame(EapCode.Response, frame.identifier, 0, fatalAlertRecord(alert)),
        };
      }
      this.msk = eapTlsMsk(this.pipe.tls);
    }
    if (out.length === 0) return { kind: 'send', eap: buildTlsFrame(EapCode.Response, frame.identifier, 0) };
    this.outbound = new Fragmenter(out, this.fragmentSize);
    return { kind: 'send', eap: this.outbound.next(EapCode.Response, frame.identifier) };
  }

  finish(): EapStep {
    this.pipe.destroy();
    if (this.msk === undefined) return { kind: 'failure', reason: `EAP-Success before the EAP-TLS handshake of '${this.identity}' completed` };
    return { kind: 'success', msk: this.msk };
  }
}

/**
 * The EAP-TLS method for EapServer/EapPeer options: `plugins: [eapTlsPlugin({ certs, key, cas })]` with 'tls' among
 * the methods.
 */
export function eapTlsPlugin(o: EapTlsOptions): EapMethodPlugin {
  return {
    name: 'tls',
    type: EapType.Tls,
    server: (identity) => new EapTlsServer(o, identity),
    peer: (identity, serverIdentity) => new EapTlsPeer(o, identity, serverIdentity),
  };
}

/**
 * The RADIUS client as a sans-IO state machine: requests in, datagrams and deadlines out, answers in, outcomes
 * out. strongSwan's libradius is the reference (radius_socket.c, radius_config.c, eap_radius_plugin.c):
 *
 * - Retransmission (RFC 2865 2.5 leaves it to the client): the same datagram, same Identifier and Request
 *   Authenticator, `retransmit_tries` transmissions in all, the n-th retransmission waiting
 *   retransmit_timeout * retransmit_base^n (2 s, 2.8 s, 3.92 s, 5.49 s with the defaults), then the request has
 *   timed out: "RADIUS Access-Request timed out after 4 attempts".
 * - Server choice (radius_config.c get_preference): preference + free capacity (0..100, from `sockets`) + 110 for
 *   a server that answered its last request; an unreachable one gets a boost on every 8th/32nd/128th choice so it
 *   is tried again now and then; equal scores are split at random.
 * - Failover: strongSwan gives up when the chosen server times out; cygnet then tries the next server for a
 *   request that is not bound to one (a first Access-Request, an Accounting-Request). A request carrying a
 *   server's State (RFC 2865 5.24) stays with that server: no other one knows the conversation.
 * - Identifiers (RFC 2865 3): per server and port, counting up as strongSwan does, never one still awaiting an
 *   answer; 256 requests in flight to one server queue the next until one is answered.
 * - Answers: an unparsable datagram, an Identifier with nothing outstanding (a late or duplicate reply), a code
 *   that does not answer the request, a wrong Response Authenticator or Message-Authenticator (RFC 3579 3.2) are
 *   each dropped with the reason logged, and the request keeps waiting (RFC 2865 3: silently discarded).
 *
 * The driver (src/daemon/radius-socket.ts) sends what poll() returns, hands received datagrams to receive(),
 * and calls poll() again at nextDeadline() and whenever `onWake` fires.
 */
import type { RandomSource } from '../crypto/random.js';
import { encodeAccessRequest, encodeAccountingRequest, verifyResponse } from './authenticator.js';
import type { RadiusServerConfig } from './config.js';
import { Attr, codeName, RadiusCode } from './constants.js';
import { RadiusError } from './errors.js';
import { mskFromAccept } from './mppe.js';
import { decodePacket, textAttr, type RadiusAttribute, type RadiusPacket } from './packet.js';

export type RadiusPortKind = 'auth' | 'acct';

export type RadiusLog = (group: 'cfg' | 'ike', level: number, message: string) => void;

/** A datagram for the driver to send. */
export interface RadiusTransmit {
  readonly server: string;
  readonly kind: RadiusPortKind;
  readonly address: string;
  readonly port: number;
  readonly source?: string;
  readonly data: Uint8Array;
}

export interface RadiusRequest {
  /** Access-Request or Accounting-Request. */
  readonly code: typeof RadiusCode.ACCESS_REQUEST | typeof RadiusCode.ACCOUNTING_REQUEST;
  /**
   * The attributes, without NAS-Identifier (each server's own is added) and without Message-Authenticator (added
   * to every Access-Request, as strongSwan does).
   */
  readonly attributes: readonly RadiusAttribute[];
  /** Only this server (an EAP conversation continuing with the server that holds its State). */
  readonly server?: string;
}

export type RadiusOutcome =
  | {
      readonly kind: 'response';
      readonly server: string;
      readonly response: RadiusPacket;
      /** For an Access-Accept: Recv-Key || Send-Key (RFC 2548), undefined when the server sent no keys. */
      readonly msk?: Uint8Array;
      /** Why the MPPE keys of an Access-Accept could not be read, if they could not. */
      readonly mskError?: string;
    }
  | { readonly kind: 'timeout'; readonly servers: readonly string[]; readonly reason: string };

interface ServerState {
  readonly cfg: RadiusServerConfig;
  reachable: boolean;
  retry: number;
  readonly next: Record<RadiusPortKind, number>;
  readonly inFlight: Record<RadiusPortKind, Map<number, Pending>>;
}

interface Pending {
  readonly req: RadiusRequest;
  readonly kind: RadiusPortKind;
  readonly resolve: (o: RadiusOutcome) => void;
  readonly tried: string[];
  server?: ServerState;
  id: number;
  authenticator: Uint8Array;
  data?: Uint8Array;
  attempt: number;
  deadline: number;
}

export interface RadiusClientOptions {
  readonly servers: readonly RadiusServerConfig[];
  readonly random: RandomSource;
  readonly log?: RadiusLog;
  /** Called (synchronously) when there is something to send: the driver should call poll(now) soon. */
  readonly onWake?: () => void;
}

export class RadiusClient {
  private readonly servers: ServerState[];
  private readonly queue: Pending[] = [];
  private readonly log: RadiusLog;
  onWake: (() => void) | undefined;

  constructor(private readonly opts: RadiusClientOptions) {
    if (opts.servers.length === 0) throw new RadiusError('BAD_VALUE', 'no RADIUS server configured');
    const names = new Set<string>();
    for (const s of opts.servers) {
      if (names.has(s.name)) throw new RadiusError('BAD_VALUE', `RADIUS server '${s.name}' is configured twice`);
      names.add(s.name);
    }
    this.servers = opts.servers.map((cfg) => ({
      cfg,
      reachable: true,
      retry: 0,
      // strongSwan starts each socket's identifier at a random value (radius_socket_create: rng)
      next: { auth: this.randomByte(), acct: this.randomByte() },
      inFlight: { auth: new Map(), acct: new Map() },
    }));
    this.log = opts.log ?? (() => {});
    this.onWake = opts.onWake;
  }

  get serverNames(): readonly string[] {
    return this.servers.map((s) => s.cfg.name);
  }

  /** Sends `req` (on the next poll) and resolves with the server's answer or the timeout; never rejects. */
  request(req: RadiusRequest): Promise<RadiusOutcome> {
    return new Promise((resolve) => {
      const kind: RadiusPortKind = req.code === RadiusCode.ACCOUNTING_REQUEST ? 'acct' : 'auth';
      this.queue.push({ req, kind, resolve, tried: [], id: -1, authenticator: new Uint8Array(16), attempt: 0, deadline: Number.POSITIVE_INFINITY });
      this.onWake?.();
    });
  }

  /** Requests waiting to be sent or answered. */
  get pendingCount(): number {
    return this.queue.length + this.servers.reduce((n, s) => n + s.inFlight.auth.size + s.inFlight.acct.size, 0);
  }

  /** The earliest time poll() has something to do (a retransmission or a timeout), if any. */
  nextDeadline(): number | undefined {
    let d = Number.POSITIVE_INFINITY;
    for (const s of this.servers) for (const kind of ['auth', 'acct'] as const) for (const p of s.inFlight[kind].values()) d = Math.min(d, p.deadline);
    return d === Number.POSITIVE_INFINITY ? undefined : d;
  }

  /** Sends what is queued and retransmits or gives up on what is due at `now`. */
  poll(now: number): RadiusTransmit[] {
    const out: RadiusTransmit[] = [];
    for (const s of this.servers) {
      for (const kind of ['auth', 'acct'] as const) {
        for (const p of [...s.inFlight[kind].values()]) if (p.deadline <= now) this.expire(p, s, now, out);
      }
    }
    const waiting = this.queue.splice(0);
    for (const p of waiting) this.dispatch(p, now, out);
    return out;
  }

  /**
   * A datagram from `server`'s `kind` port (the driver's socket for it is connected, so the source is that server:
   * radius_socket.c connects too).
   */
  receive(serverName: string, kind: RadiusPortKind, data: Uint8Array, _now: number): void {
    const s = this.servers.find((x) => x.cfg.name === serverName);
    if (!s) {
      this.log('cfg', 1, `received RADIUS message for unknown server '${serverName}', ignored`);
      return;
    }
    let msg: RadiusPacket;
    try {
      msg = decodePacket(data);
    } catch (e) {
      this.log('cfg', 1, `received invalid RADIUS message from server '${serverName}': ${e instanceof Error ? e.message : String(e)}, ignored`);
      return;
    }
    const p = s.inFlight[kind].get(msg.identifier);
    if (!p?.data) {
      this.log('cfg', 1, `received RADIUS ${codeName(msg.code)} with unexpected ID ${msg.identifier} from server '${serverName}' (late or duplicate reply), ignored`);
      return;
    }
    const answers = p.kind === 'acct' ? [RadiusCode.ACCOUNTING_RESPONSE] : [RadiusCode.ACCESS_ACCEPT, RadiusCode.ACCESS_REJECT, RadiusCode.ACCESS_CHALLENGE];
    if (!(answers as number[]).includes(msg.code)) {
      this.log('cfg', 1, `received RADIUS ${codeName(msg.code)} with ID ${msg.identifier} from server '${serverName}', no answer to ${codeName(p.req.code)}, ignored`);
      return;
    }
    try {
      verifyResponse(data, p.authenticator, s.cfg.secret);
    } catch (e) {
      this.log('cfg', 1, `RADIUS ${codeName(msg.code)} with ID ${msg.identifier} from server '${serverName}' dropped: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    s.inFlight[kind].delete(msg.identifier);
    s.reachable = true;
    this.log('cfg', 1, `received RADIUS ${codeName(msg.code)} from server '${serverName}'`);
    let outcome: RadiusOutcome = { kind: 'response', server: serverName, response: msg };
    if (msg.code === RadiusCode.ACCESS_ACCEPT) {
      try {
        const msk = mskFromAccept(msg, s.cfg.secret, p.authenticator);
        if (msk) outcome = { ...outcome, msk };
      } catch (e) {
        outcome = { ...outcome, mskError: e instanceof Error ? e.message : String(e) };
      }
    }
    p.resolve(outcome);
    // an Identifier came free: a request queued for lack of one can go now
    if (this.queue.length > 0) this.onWake?.();
  }

  /** Resolves everything outstanding as timed out (daemon shutdown). */
  close(reason = 'RADIUS client closed'): void {
    const all = [...this.queue.splice(0)];
    for (const s of this.servers) for (const kind of ['auth', 'acct'] as const) {
      all.push(...s.inFlight[kind].values());
      s.inFlight[kind].clear();
    }
    for (const p of all) p.resolve({ kind: 'timeout', servers: p.tried, reason });
  }

  // ---- internals ----

  private randomByte(): number {
    return this.opts.random.fill(new Uint8Array(1))[0] ?? 0;
  }

  /** radius_config.c get_preference(), with `retry` counting choices while unreachable. */
  private score(s: ServerState): number {
    const sockets = Math.max(1, s.cfg.sockets);
    const busy = s.inFlight.auth.size + s.inFlight.acct.size;
    let pref = s.cfg.preference + Math.floor((Math.max(0, sockets - busy) * 100) / sockets);
    if (s.reachable) return pref + 110;
    s.retry++;
    if (s.retry % 128 === 0) pref += 110;
    else if (s.retry % 32 === 0) pref += 90;
    else if (s.retry % 8 === 0) pref += 10;
    return pref;
  }

  private choose(p: Pending): ServerState | undefined {
    if (p.req.server !== undefined) {
      const s = this.servers.find((x) => x.cfg.name === p.req.server);
      return s && !p.tried.includes(s.cfg.name) ? s : undefined;
    }
    let best: ServerState | undefined;
    let bestScore = -1;
    for (const s of this.servers) {
      if (p.tried.includes(s.cfg.name)) continue;
      const sc = this.score(s);
      // eap_radius_create_client(): equal scores, 50-50 chance
      if (sc > bestScore || (sc === bestScore && (this.randomByte() & 1) === 0)) {
        best = s;
        bestScore = sc;
      }
    }
    return best;
  }

  private allocateId(s: ServerState, kind: RadiusPortKind): number | undefined {
    const map = s.inFlight[kind];
    if (map.size >= 256) return undefined;
    let id = s.next[kind] & 0xff;
    while (map.has(id)) id = (id + 1) & 0xff;
    s.next[kind] = (id + 1) & 0xff;
    return id;
  }

  private dispatch(p: Pending, now: number, out: RadiusTransmit[]): void {
    const s = p.server ?? this.choose(p);
    if (!s) {
      const why = p.req.server !== undefined && !this.servers.some((x) => x.cfg.name === p.req.server) ? `RADIUS server '${p.req.server}' is not configured` : 'no RADIUS server left to try';
      p.resolve({ kind: 'timeout', servers: p.tried, reason: why });
      return;
    }
    const id = this.allocateId(s, p.kind);
    if (id === undefined) {
      // 256 outstanding requests to this server and port: wait for one to be answered
      p.server = s;
      this.queue.push(p);
      return;
    }
    p.server = s;
    p.id = id;
    if (!p.tried.includes(s.cfg.name)) p.tried.push(s.cfg.name);
    const attrs: RadiusAttribute[] = [...p.req.attributes, textAttr(Attr.NAS_IDENTIFIER, s.cfg.nasIdentifier)];
    try {
      if (p.kind === 'auth') {
        p.authenticator = this.opts.random.fill(new Uint8Array(16));
        attrs.push({ type: Attr.MESSAGE_AUTHENTICATOR, value: new Uint8Array(16) });
        p.data = encodeAccessRequest({ code: p.req.code, identifier: id, authenticator: p.authenticator, attributes: attrs }, s.cfg.secret);
      } else {
        p.data = encodeAccountingRequest({ code: p.req.code, identifier: id, authenticator: p.authenticator, attributes: attrs }, s.cfg.secret);
        p.authenticator = p.data.slice(4, 20);
      }
    } catch (e) {
      p.resolve({ kind: 'timeout', servers: p.tried, reason: `cannot encode RADIUS ${codeName(p.req.code)}: ${e instanceof Error ? e.message : String(e)}` });
      return;
    }
    p.attempt = 0;
    p.deadline = now + s.cfg.retransmitTimeoutMs;
    s.inFlight[p.kind].set(id, p);
    this.log('cfg', 1, `sending RADIUS ${codeName(p.req.code)} to server '${s.cfg.name}'`);
    out.push(this.transmit(s, p));
  }

  private transmit(s: ServerState, p: Pending): RadiusTransmit {
    const port = p.kind === 'auth' ? s.cfg.authPort : s.cfg.acctPort;
    return { server: s.cfg.name, kind: p.kind, address: s.cfg.address, port, ...(s.cfg.source !== undefined ? { source: s.cfg.source } : {}), data: p.data ?? new Uint8Array(0) };
  }

  private expire(p: Pending, s: ServerState, now: number, out: RadiusTransmit[]): void {
    p.attempt++;
    if (p.attempt < s.cfg.retransmitTries) {
      const timeout = s.cfg.retransmitTimeoutMs * s.cfg.retransmitBase ** p.attempt;
      p.deadline = now + timeout;
      this.log('cfg', 1, `retransmit ${p.attempt} of RADIUS ${codeName(p.req.code)} (timeout: ${(timeout / 1000).toFixed(1)}s)`);
      out.push(this.transmit(s, p));
      return;
    }
    s.inFlight[p.kind].delete(p.id);
    s.reachable = false;
    this.log('cfg', 1, `RADIUS ${codeName(p.req.code)} timed out after ${p.attempt} attempts to server '${s.cfg.name}'`);
    // a request holding a server's State belongs to that server (RFC 2865 5.24); others may fail over
    const bound = p.req.server !== undefined || p.req.attributes.some((a) => a.type === Attr.STATE);
    const next = bound ? undefined : this.choose(p);
    if (next) {
      this.log('cfg', 1, `trying RADIUS server '${next.cfg.name}' instead of '${s.cfg.name}'`);
      p.server = next;
      this.dispatch(p, now, out);
      return;
    }
    p.resolve({ kind: 'timeout', servers: p.tried, reason: `no answer from RADIUS server${p.tried.length > 1 ? 's' : ''} ${p.tried.map((n) => `'${n}'`).join(', ')}` });
  }
}

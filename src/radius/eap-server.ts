/**
 * EAP pass-through to RADIUS (RFC 3579): the gateway relays the peer's EAP packets to a RADIUS server in
 * Access-Requests and the server's EAP packets back, as strongSwan's eap-radius plugin (eap_radius.c) does.
 *
 * - start(): an Access-Request carrying the peer's EAP-Identity response (identifier as set, data =
 *   id_prefix + identity), or with `eap_start` an empty EAP-Message (EAP-Start, RFC 3579 2.1).
 * - Access-Challenge (RFC 3579 2.6.2) -> 'send' with the server's EAP-Request; its State (RFC 2865 5.24) goes back
 *   in the next Access-Request, to the same server.
 * - Access-Accept -> 'success' with the EAP-Success and the MSK = MS-MPPE-Recv-Key || MS-MPPE-Send-Key
 *   (src/radius/mppe.ts); Framed-IP-Address, Class, Session-Timeout, Acct-Interim-Interval, Filter-Id are kept in
 *   `accepted` for the gateway. An Access-Accept answering the very first request is no authentication at all
 *   (some Microsoft servers do this): strongSwan treats it as a reject, so does this.
 * - Access-Reject -> 'failure' with the Reply-Message if any; no answer -> 'failure' naming the servers tried.
 *
 * Every request carries what eap_radius_build_attributes() adds: User-Name, NAS-Port-Type Virtual (RFC 2865
 * 5.41), Service-Type Framed, NAS-Port (IKE SA unique id), NAS-Port-Id (connection name), NAS-IP(v6)-Address,
 * Called-/Calling-Station-Id as "ip[port]", Acct-Session-Id, and Framed-IP-Address once a virtual IP is known.
 */
import type { EapServerSession, EapStep } from '../eap/types.js';
import type { RadiusClient, RadiusLog, RadiusOutcome } from './client.js';
import { Attr, codeName, NAS_PORT_TYPE_VIRTUAL, RadiusCode, SERVICE_TYPE_FRAMED } from './constants.js';
import {
  attributes,
  eapMessage,
  eapMessageAttributes,
  firstAttribute,
  firstText,
  firstU32,
  ipv4Attr,
  ipv4Text,
  octetsAttr,
  textAttr,
  textOf,
  u32Attr,
  type RadiusAttribute,
  type RadiusPacket,
} from './packet.js';

/** An address and UDP port of the IKE SA. */
export interface RadiusEndpoint {
  readonly address: string;
  readonly port: number;
}

/** What the gateway knows of the IKE SA being authenticated (the attributes strongSwan takes from its ike_sa_t). */
export interface RadiusSessionContext {
  /** Our IKE address: NAS-IP(v6)-Address and Called-Station-Id. */
  readonly local?: RadiusEndpoint;
  /** The peer's: Calling-Station-Id. */
  readonly remote?: RadiusEndpoint;
  /** The IKE SA's unique id: NAS-Port. */
  readonly ikeSaUniqueId?: number;
  /** The connection's name: NAS-Port-Id. */
  readonly connectionName?: string;
  /** Acct-Session-Id when accounting is on (RadiusAccounting.sessionId). */
  readonly acctSessionId?: string;
  /** The virtual IPv4 address assigned to the peer, if already known: Framed-IP-Address. */
  readonly virtualIp?: string;
}

/** What an Access-Accept said beyond "yes", for the gateway to apply. */
export interface RadiusAcceptInfo {
  readonly server: string;
  /** Framed-IP-Address (RFC 2865 5.8): the virtual IP to assign. */
  readonly framedIp?: string;
  /** Framed-IP-Netmask (RFC 2865 5.9). */
  readonly framedNetmask?: string;
  /** Class attributes (RFC 2865 5.25), in order: group memberships with class_group, echoed in accounting. */
  readonly classes: readonly Uint8Array[];
  /** Filter-Id (RFC 2865 5.11). */
  readonly filterId?: string;
  /** Session-Timeout (RFC 2865 5.27), seconds: strongSwan sets it as the IKE SA's reauthentication lifetime. */
  readonly sessionTimeoutS?: number;
  /** Acct-Interim-Interval (RFC 2869 5.16), seconds. */
  readonly interimIntervalS?: number;
  readonly replyMessages: readonly string[];
}

export interface RadiusEapServerOptions {
  readonly client: RadiusClient;
  /** The peer's EAP identity (from EAP-Identity, or its IKE identity). */
  readonly identity: string;
  readonly context?: RadiusSessionContext;
  /** strongswan.conf eap-radius eap_start (default no). */
  readonly eapStart?: boolean;
  /** eap-radius id_prefix (default empty). */
  readonly idPrefix?: string;
  /** eap-radius station_id_with_port (default yes). */
  readonly stationIdWithPort?: boolean;
  /** The EAP Identifier the EAP-Identity exchange used (strongSwan's set_identifier), default 0. */
  readonly eapIdentifier?: number;
  readonly log?: RadiusLog;
}

const EAP_METHOD_NAMES: Readonly<Record<number, string>> = { 1: 'identity', 4: 'md5', 6: 'gtc', 13: 'tls', 18: 'sim', 21: 'ttls', 23: 'aka', 25: 'peap', 26: 'mschapv2', 50: 'aka-prime' };
const utf8 = new TextEncoder();

/** "ip[port]" as strongSwan's %#H prints a host (or "ip" with station_id_with_port = no); IPv6 unbracketed. */
export function stationId(e: RadiusEndpoint, withPort = true): string {
  return withPort ? `${e.address}[${e.port}]` : e.address;
}

function ipv6Bytes(address: string): Uint8Array | undefined {
  // enough of RFC 4291 2.2 for an address the gateway itself printed: groups and at most one '::'
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => (s === '' ? [] : s.split(':').map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? Number.parseInt(g, 16) : Number.NaN)));
  const head = parse(halves[0] ?? '');
  const tail = halves.length === 2 ? parse(halves[1] ?? '') : [];
  if (!head || !tail || [...head, ...tail].some(Number.isNaN)) return undefined;
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) return undefined;
  const groups = [...head, ...new Array<number>(fill).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** eap_radius_build_attributes() plus User-Name: the attributes of every Access-Request of a session. */
export function sessionAttributes(userName: string, ctx: RadiusSessionContext | undefined, withPort = true): RadiusAttribute[] {
  const out: RadiusAttribute[] = [textAttr(Attr.USER_NAME, userName), u32Attr(Attr.NAS_PORT_TYPE, NAS_PORT_TYPE_VIRTUAL), u32Attr(Attr.SERVICE_TYPE, SERVICE_TYPE_FRAMED)];
  if (!ctx) return out;
  if (ctx.ikeSaUniqueId !== undefined) out.push(u32Attr(Attr.NAS_PORT, ctx.ikeSaUniqueId));
  if (ctx.connectionName !== undefined) out.push(textAttr(Attr.NAS_PORT_ID, ctx.connectionName));
  if (ctx.local) {
    if (ctx.local.address.includes(':')) {
      const v6 = ipv6Bytes(ctx.local.address);
      if (v6) out.push(octetsAttr(Attr.NAS_IPV6_ADDRESS, v6));
    } else {
      out.push(ipv4Attr(Attr.NAS_IP_ADDRESS, ctx.local.address));
    }
    out.push(textAttr(Attr.CALLED_STATION_ID, stationId(ctx.local, withPort)));
  }
  if (ctx.remote) out.push(textAttr(Attr.CALLING_STATION_ID, stationId(ctx.remote, withPort)));
  if (ctx.acctSessionId !== undefined) out.push(textAttr(Attr.ACCT_SESSION_ID, ctx.acctSessionId));
  if (ctx.virtualIp !== undefined && !ctx.virtualIp.includes(':')) out.push(ipv4Attr(Attr.FRAMED_IP_ADDRESS, ctx.virtualIp));
  return out;
}

export function acceptInfo(server: string, p: RadiusPacket): RadiusAcceptInfo {
  const ip = firstAttribute(p, Attr.FRAMED_IP_ADDRESS);
  const mask = firstAttribute(p, Attr.FRAMED_IP_NETMASK);
  const framedIp = ip ? ipv4Text(ip) : undefined;
  const framedNetmask = mask ? ipv4Text(mask) : undefined;
  const filterId = firstText(p, Attr.FILTER_ID);
  const sessionTimeoutS = firstU32(p, Attr.SESSION_TIMEOUT);
  const interimIntervalS = firstU32(p, Attr.ACCT_INTERIM_INTERVAL);
  return {
    server,
    ...(framedIp !== undefined ? { framedIp } : {}),
    ...(framedNetmask !== undefined ? { framedNetmask } : {}),
    classes: attributes(p, Attr.CLASS),
    ...(filterId !== undefined ? { filterId } : {}),
    ...(sessionTimeoutS !== undefined ? { sessionTimeoutS } : {}),
    ...(interimIntervalS !== undefined ? { interimIntervalS } : {}),
    replyMessages: attributes(p, Attr.REPLY_MESSAGE).map(textOf),
  };
}

export class RadiusEapServer implements EapServerSession {
  readonly identity: string;
  private methodType: number | undefined;
  private server: string | undefined;
  private state: Uint8Array | undefined;
  private done = false;
  private readonly log: RadiusLog;
  /** Set once an Access-Accept arrived. */
  accepted: RadiusAcceptInfo | undefined;
  /** Set once an Access-Reject arrived: its Reply-Message(s). */
  rejected: { readonly server: string; readonly replyMessages: readonly string[] } | undefined;

  constructor(private readonly opts: RadiusEapServerOptions) {
    this.identity = opts.identity;
    this.log = opts.log ?? (() => {});
  }

  /** 'mschapv2', 'md5', ... once the RADIUS server chose a method, else 'radius' (strongSwan's EAP_RADIUS). */
  get method(): string | undefined {
    if (this.methodType === undefined) return 'radius';
    return EAP_METHOD_NAMES[this.methodType] ?? `eap type ${this.methodType}`;
  }

  /** The RADIUS server holding this conversation, once one answered. */
  get serverName(): string | undefined {
    return this.server;
  }

  async start(): Promise<EapStep> {
    let eap: Uint8Array;
    if (this.opts.eapStart) {
      eap = new Uint8Array(0);
    } else {
      const id = utf8.encode(`${this.opts.idPrefix ?? ''}${this.identity}`);
      eap = new Uint8Array(5 + id.length);
      eap[0] = 2; // EAP Response (RFC 3748 4)
      eap[1] = (this.opts.eapIdentifier ?? 0) & 0xff;
      eap[2] = eap.length >> 8;
      eap[3] = eap.length & 0xff;
      eap[4] = 1; // Identity (RFC 3748 5.1)
      eap.set(id, 5);
    }
    return this.exchange(eap, true);
  }

  async process(eap: Uint8Array): Promise<EapStep> {
    if (this.done) return this.fail('EAP-RADIUS conversation already ended');
    if (this.server === undefined) return this.fail('EAP-Response before the RADIUS conversation started');
    return this.exchange(eap, false);
  }

  private fail(reason: string, eap?: Uint8Array): EapStep {
    this.done = true;
    this.log('ike', 1, `RADIUS authentication of '${this.identity}' failed: ${reason}`);
    return eap ? { kind: 'failure', eap, reason } : { kind: 'failure', reason };
  }

  private async exchange(eap: Uint8Array, first: boolean): Promise<EapStep> {
    let attrs: RadiusAttribute[];
    try {
      attrs = sessionAttributes(`${this.opts.idPrefix ?? ''}${this.identity}`, this.opts.context, this.opts.stationIdWithPort ?? true);
    } catch (e) {
      // a session context the gateway filled wrongly (an address that is none): fail this login, loudly
      return this.fail(`cannot build the Access-Request: ${e instanceof Error ? e.message : String(e)}`);
    }
    attrs.push(...eapMessageAttributes(eap));
    if (this.state) attrs.push(octetsAttr(Attr.STATE, this.state));
    const outcome: RadiusOutcome = await this.opts.client.request({ code: RadiusCode.ACCESS_REQUEST, attributes: attrs, ...(this.server !== undefined ? { server: this.server } : {}) });
    if (outcome.kind === 'timeout') return this.fail(outcome.reason);
    const res = outcome.response;
    this.server = outcome.server;
    // radius_client.c save_state(): the State of the last answer, or none
    this.state = firstAttribute(res, Attr.STATE);
    const serverEap = eapMessage(res);
    switch (res.code) {
      case RadiusCode.ACCESS_CHALLENGE: {
        if (!serverEap) return this.fail(`RADIUS server '${outcome.server}' sent an Access-Challenge without EAP-Message`);
        // the method the RADIUS server chose: the Type of its EAP-Request (RFC 3748 4)
        if (serverEap[0] === 1 && serverEap.length >= 5) this.methodType = serverEap[4];
        return { kind: 'send', eap: serverEap };
      }
      case RadiusCode.ACCESS_ACCEPT: {
        if (first) return this.fail(`RADIUS server '${outcome.server}' sent Access-Accept to the first Access-Request, without authentication: treated as Access-Reject`);
        if (outcome.mskError !== undefined) return this.fail(`Access-Accept from RADIUS server '${outcome.server}' has unusable MPPE keys: ${outcome.mskError}`);
        this.done = true;
        this.accepted = acceptInfo(outcome.server, res);
        this.log('ike', 1, `RADIUS authentication of '${this.identity}' successful`);
        return { kind: 'success', ...(serverEap ? { eap: serverEap } : {}), ...(outcome.msk ? { msk: outcome.msk } : {}) };
      }
      case RadiusCode.ACCESS_REJECT: {
        const replyMessages = attributes(res, Attr.REPLY_MESSAGE).map(textOf);
        this.rejected = { server: outcome.server, replyMessages };
        const said = replyMessages.length > 0 ? `: ${replyMessages.join(' ')}` : '';
        return this.fail(`Access-Reject from RADIUS server '${outcome.server}'${said}`, serverEap);
      }
      default:
        return this.fail(`unexpected RADIUS ${codeName(res.code)} from server '${outcome.server}'`);
    }
  }
}

/**
 * EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2-02 framing of RFC 2759), server and peer, as strongSwan's
 * eap-mschapv2 plugin speaks it: Challenge -> Response -> Success-Request "S=<auth> M=<msg>" -> Success-Response,
 * then EAP-Success. A wrong password or an unknown user gets one Failure-Request "E=691 R=0 C=<challenge> V=3
 * M=<msg>" (retry off: cygnet never sleeps in the core to slow guessing, so it allows no second try) and ends the
 * conversation; unknown users and wrong passwords look the same to the client (no user enumeration).
 */
import { constantTimeEqual } from '../crypto/ct.js';
import { randomBytes, type RandomSource } from '../crypto/random.js';
import { EapError } from './errors.js';
import { EapCode, EapType, encodeEap } from './packet.js';
import {
  generateAuthenticatorResponse,
  generateNtResponse,
  mschapUserName,
  mschapv2Msk,
  ntPasswordHash,
} from './mschapv2-crypto.js';
import type { EapMethodPeer, EapMethodServer, EapSecret, EapSecretLookup, EapStep } from './types.js';

const OP_CHALLENGE = 1;
const OP_RESPONSE = 2;
const OP_SUCCESS = 3;
const OP_FAILURE = 4;
const OP_NAMES = ['', 'Challenge', 'Response', 'Success', 'Failure', '', '', 'Change-Password'];
const CHALLENGE_LEN = 16;
const RESPONSE_LEN = 49;
/** The Name the authenticator sends in its Challenge (strongSwan sends "strongSwan"). */
const HOST_NAME = 'cygnet';
const SUCCESS_MESSAGE = 'Welcome2cygnet';
const FAILURE_MESSAGE = 'Authentication failed';

/** Windows error codes a Failure-Request carries (RFC 2759 6). */
const ERROR_NAMES: Readonly<Record<number, string>> = {
  646: 'ERROR_RESTRICTED_LOGON_HOURS',
  647: 'ERROR_ACCT_DISABLED',
  648: 'ERROR_PASSWD_EXPIRED',
  649: 'ERROR_NO_DIALIN_PERMISSION',
  691: 'ERROR_AUTHENTICATION_FAILURE',
  709: 'ERROR_CHANGING_PASSWORD',
};

const utf8 = new TextEncoder();
const text = new TextDecoder('utf-8', { fatal: false });
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

/** An EAP-MSCHAPv2 packet: the OpCode, MS-CHAPv2-ID and MS-Length header (draft-kamath 2), then `body`. */
function encode(code: 1 | 2, identifier: number, opcode: number, msId: number, body: Uint8Array): Uint8Array {
  const data = new Uint8Array(4 + body.length);
  const msLength = data.length; // = EAP Length - 5 (the EAP header and Type are not counted)
  data[0] = opcode;
  data[1] = msId & 0xff;
  data[2] = msLength >> 8;
  data[3] = msLength & 0xff;
  data.set(body, 4);
  return encodeEap(code, identifier, EapType.MsChapV2, data);
}

/** Success/Failure Responses are the OpCode alone (draft-kamath 2.3, 2.4). */
const shortResponse = (identifier: number, opcode: number): Uint8Array =>
  encodeEap(EapCode.Response, identifier, EapType.MsChapV2, Uint8Array.of(opcode));

interface Parsed {
  readonly identifier: number;
  readonly opcode: number;
  readonly msId: number;
  readonly body: Uint8Array;
}

/** Splits an EAP-MSCHAPv2 packet (already checked by decodeEap to be a Request/Response of Type 26). */
function parse(eap: Uint8Array): Parsed {
  const identifier = eap[1] ?? 0;
  const length = ((eap[2] ?? 0) << 8) | (eap[3] ?? 0);
  if (length < 6) throw new EapError('truncated', 'EAP-MSCHAPv2 packet has no OpCode (offset 5)');
  const opcode = eap[5] ?? 0;
  if (length < 9) return { identifier, opcode, msId: 0, body: new Uint8Array(0) };
  return { identifier, opcode, msId: eap[6] ?? 0, body: eap.slice(9, length) };
}

function secretHash(secret: EapSecret): Uint8Array {
  return secret.kind === 'nthash' ? secret.hash : ntPasswordHash(secret.password);
}

/** Whether the MSCHAPv2 Name matches the EAP identity, allowing the DOMAIN\ prefix Windows adds or strips. */
export function mschapNameMatches(name: string, identity: string): boolean {
  return name === identity || mschapUserName(name) === mschapUserName(identity);
}

export interface MsChapV2ServerOptions {
  /** The peer's EAP identity. */
  readonly identity: string;
  readonly ownIdentity: string;
  readonly random: RandomSource;
  readonly secrets?: EapSecretLookup;
}

export class MsChapV2Server implements EapMethodServer {
  readonly type = EapType.MsChapV2;
  private challenge: Uint8Array = new Uint8Array(0);
  private msId = 0;
  private state: 'new' | 'challenge' | 'success' | 'failed' | 'done' = 'new';
  private msk: Uint8Array | undefined;
  constructor(private readonly o: MsChapV2ServerOptions) {}

  async initiate(identifier: number): Promise<Uint8Array> {
    this.challenge = randomBytes(this.o.random, CHALLENGE_LEN);
    this.msId = identifier;
    this.state = 'challenge';
    const body = new Uint8Array(1 + CHALLENGE_LEN + HOST_NAME.length);
    body[0] = CHALLENGE_LEN;
    body.set(this.challenge, 1);
    body.set(utf8.encode(HOST_NAME), 1 + CHALLENGE_LEN);
    return encode(EapCode.Request, identifier, OP_CHALLENGE, this.msId, body);
  }

  async process(eap: Uint8Array): Promise<EapStep> {
    const p = parse(eap);
    const who = `EAP-MSCHAPv2 authentication of '${this.o.identity}'`;
    if (this.state === 'challenge' && p.opcode === OP_RESPONSE) return this.response(p, who);
    if (this.state === 'success' && p.opcode === OP_SUCCESS) {
      this.state = 'done';
      return { kind: 'success', ...(this.msk !== undefined ? { msk: this.msk } : {}) };
    }
    if (p.opcode === OP_FAILURE) {
      this.state = 'done';
      return { kind: 'failure', reason: `${who} failed: the client answered with a Failure-Response` };
    }
    throw new EapError('bad-method-data', `EAP-MSCHAPv2 ${OP_NAMES[p.opcode] ?? `OpCode ${p.opcode}`} (offset 5) is unexpected in state ${this.state}`);
  }

  private response(p: Parsed, who: string): EapStep {
    if (p.body.length < 1 + RESPONSE_LEN) {
      throw new EapError('truncated', `EAP-MSCHAPv2 Response of ${p.body.length} data bytes is shorter than Value-Size and its ${RESPONSE_LEN}-byte Value (offset 9)`);
    }
    if (p.body[0] !== RESPONSE_LEN) {
      throw new EapError('bad-method-data', `EAP-MSCHAPv2 Response Value-Size ${p.body[0]} (offset 9) is not ${RESPONSE_LEN}`);
    }
    if (p.msId !== this.msId) {
      throw new EapError('bad-identifier', `EAP-MSCHAPv2 Response MS-CHAPv2-ID ${p.msId} (offset 6) does not answer Challenge ${this.msId}`);
    }
    const peerChallenge = p.body.subarray(1, 17);
    const ntResponse = p.body.subarray(25, 49);
    const name = text.decode(p.body.subarray(1 + RESPONSE_LEN));
    if (!mschapNameMatches(name, this.o.identity)) {
      return this.fail(p, `${who} failed: identity mismatch, the MSCHAPv2 Response names '${name}'`);
    }
    const secret = this.o.secrets?.(this.o.identity, this.o.ownIdentity);
    if (secret === undefined) {
      return this.fail(p, `${who} failed: no EAP secret for '${this.o.identity}' (unknown user)`);
    }
    const hash = secretHash(secret);
    const expected = generateNtResponse(this.challenge, peerChallenge, name, hash);
    if (!constantTimeEqual(expected, ntResponse)) {
      return this.fail(p, `${who} failed: wrong password (NT-Response does not match)`);
    }
    this.msk = mschapv2Msk(hash, ntResponse);
    this.state = 'success';
    const message = `${generateAuthenticatorResponse(hash, ntResponse, peerChallenge, this.challenge, name)} M=${SUCCESS_MESSAGE}`;
    return { kind: 'send', eap: encode(EapCode.Request, p.identifier + 1, OP_SUCCESS, this.msId, utf8.encode(message)) };
  }

  /**
   * draft-kamath 2.4 Failure-Request with R=0 (no retry) and V=3: it is the last EAP packet of the conversation,
   * returned as the failure step's `eap` for IKE to carry with AUTHENTICATION_FAILED. strongSwan's and Windows'
   * clients never send the Failure-Response (see eap_mschapv2.c process_peer_failure), so nothing waits for one.
   */
  private fail(p: Parsed, reason: string): EapStep {
    this.state = 'failed';
    const c = hex(randomBytes(this.o.random, CHALLENGE_LEN));
    const message = `E=691 R=0 C=${c} V=3 M=${FAILURE_MESSAGE}`;
    return { kind: 'failure', reason, eap: encode(EapCode.Request, p.identifier + 1, OP_FAILURE, this.msId, utf8.encode(message)) };
  }
}

export interface MsChapV2PeerOptions {
  /** Our EAP identity, sent as the Response Name. */
  readonly identity: string;
  readonly serverIdentity: string;
  readonly random: RandomSource;
  readonly secrets?: EapSecretLookup;
}

export class MsChapV2Peer implements EapMethodPeer {
  readonly type = EapType.MsChapV2;
  private authResponse: string | undefined;
  private msk: Uint8Array | undefined;
  private verified = false;
  constructor(private readonly o: MsChapV2PeerOptions) {}

  async process(eap: Uint8Array): Promise<EapStep> {
    const p = parse(eap);
    if (p.opcode === OP_CHALLENGE) return this.challenge(p);
    if (p.opcode === OP_SUCCESS) return this.success(p);
    if (p.opcode === OP_FAILURE) return this.failure(p);
    throw new EapError('bad-method-data', `EAP-MSCHAPv2 Request OpCode ${OP_NAMES[p.opcode] || p.opcode} (offset 5) is not supported`);
  }

  private challenge(p: Parsed): EapStep {
    if (p.body.length < 1 + CHALLENGE_LEN || p.body[0] !== CHALLENGE_LEN) {
      throw new EapError('bad-method-data', `EAP-MSCHAPv2 Challenge Value-Size ${p.body[0] ?? 'missing'} (offset 9) is not ${CHALLENGE_LEN}`);
    }
    const secret = this.o.secrets?.(this.o.identity, this.o.serverIdentity);
    if (secret === undefined) {
      return { kind: 'failure', reason: `EAP-MSCHAPv2: no EAP secret for '${this.o.identity}' - '${this.o.serverIdentity}'` };
    }
    const hash = secretHash(secret);
    const authChallenge = p.body.subarray(1, 1 + CHALLENGE_LEN);
    const peerChallenge = randomBytes(this.o.random, CHALLENGE_LEN);
    const nt = generateNtResponse(authChallenge, peerChallenge, this.o.identity, hash);
    this.authResponse = generateAuthenticatorResponse(hash, nt, peerChallenge, authChallenge, this.o.identity);
    this.msk = mschapv2Msk(hash, nt);
    const name = utf8.encode(this.o.identity);
    const body = new Uint8Array(1 + RESPONSE_LEN + name.length);
    body[0] = RESPONSE_LEN;
    body.set(peerChallenge, 1);
    body.set(nt, 25); // 8 reserved zero octets before it, Flags (zero) after it
    body.set(name, 1 + RESPONSE_LEN);
    return { kind: 'send', eap: encode(EapCode.Response, p.identifier, OP_RESPONSE, p.msId, body) };
  }

  /** draft-kamath 2.3: "S=<40 hex digits>" proves the server knew the password; check it before answering. */
  private success(p: Parsed): EapStep {
    const message = text.decode(p.body);
    const s = /(?:^|\s)S=([0-9A-Fa-f]{40})(?=\s|$)/.exec(message);
    if (s === null || this.authResponse === undefined) {
      throw new EapError('bad-method-data', `EAP-MSCHAPv2 Success-Request carries no authenticator response "S=<40 hex digits>" (offset 9)`);
    }
    if (`S=${(s[1] ?? '').toUpperCase()}` !== this.authResponse) {
      return { kind: 'failure', reason: `EAP-MSCHAPv2 verification of the server failed for '${this.o.identity}': wrong authenticator response` };
    }
    this.verified = true;
    return { kind: 'send', eap: shortResponse(p.identifier, OP_SUCCESS) };
  }

  private failure(p: Parsed): EapStep {
    const message = text.decode(p.body);
    const e = /(?:^|\s)E=(\d+)/.exec(message);
    const m = /(?:^|\s)M=(.*)$/.exec(message);
    const code = e === null ? 0 : Number(e[1]);
    const name = ERROR_NAMES[code] ?? `error ${code}`;
    return {
      kind: 'failure',
      reason: `EAP-MSCHAPv2 authentication of '${this.o.identity}' failed with ${name} (${code}): '${(m?.[1] ?? '').replace(/[^\x20-\x7e]/g, '?')}'`,
      eap: shortResponse(p.identifier, OP_FAILURE),
    };
  }

  finish(): EapStep {
    if (!this.verified) {
      return { kind: 'failure', reason: `EAP-Success before EAP-MSCHAPv2 verified the server for '${this.o.identity}'` };
    }
    return { kind: 'success', ...(this.msk !== undefined ? { msk: this.msk } : {}) };
  }
}

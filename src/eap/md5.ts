/**
 * EAP-MD5-Challenge (RFC 3748 5.4, the CHAP computation of RFC 1994 4.1): Response = MD5(Identifier || secret ||
 * Challenge). It authenticates only the peer, derives no MSK and falls to a dictionary attack on one exchange,
 * so cygnet offers it for tests only and refuses it unless `allowMd5` is set.
 */
import { createHash } from 'node:crypto';
import { constantTimeEqual } from '../crypto/ct.js';
import { randomBytes, type RandomSource } from '../crypto/random.js';
import { EapError } from './errors.js';
import { EapCode, EapType, encodeEap } from './packet.js';
import type { EapMethodPeer, EapMethodServer, EapSecretLookup, EapStep } from './types.js';

const CHALLENGE_LEN = 16;
const utf8 = new TextEncoder();

function chapResponse(identifier: number, password: string, challenge: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('md5').update(Uint8Array.of(identifier)).update(utf8.encode(password)).update(challenge).digest());
}

/** Value-Size, Value, Name (RFC 1994 4.1 layout). */
function parseValue(eap: Uint8Array, what: string): Uint8Array {
  const length = ((eap[2] ?? 0) << 8) | (eap[3] ?? 0);
  const size = eap[5];
  if (size === undefined || length < 6) throw new EapError('truncated', `EAP-MD5 ${what} has no Value-Size (offset 5)`);
  if (size === 0) throw new EapError('bad-method-data', `EAP-MD5 ${what} Value-Size is 0 (offset 5)`);
  if (6 + size > length) throw new EapError('bad-length', `EAP-MD5 ${what} Value-Size ${size} (offset 5) runs past the packet's ${length} bytes`);
  return eap.slice(6, 6 + size);
}

export interface Md5ServerOptions {
  readonly identity: string;
  readonly ownIdentity: string;
  readonly random: RandomSource;
  readonly secrets?: EapSecretLookup;
}

export class Md5Server implements EapMethodServer {
  readonly type = EapType.Md5Challenge;
  private challenge: Uint8Array = new Uint8Array(0);
  private identifier = 0;
  constructor(private readonly o: Md5ServerOptions) {}

  async initiate(identifier: number): Promise<Uint8Array> {
    this.identifier = identifier;
    this.challenge = randomBytes(this.o.random, CHALLENGE_LEN);
    return encodeEap(EapCode.Request, identifier, EapType.Md5Challenge, Uint8Array.of(CHALLENGE_LEN, ...this.challenge));
  }

  async process(eap: Uint8Array): Promise<EapStep> {
    const value = parseValue(eap, 'Response');
    const who = `EAP-MD5 authentication of '${this.o.identity}'`;
    const secret = this.o.secrets?.(this.o.identity, this.o.ownIdentity);
    if (secret === undefined) return { kind: 'failure', reason: `${who} failed: no EAP secret for '${this.o.identity}' (unknown user)` };
    if (secret.kind !== 'password') return { kind: 'failure', reason: `${who} failed: EAP-MD5 needs a password, the secret is an NT hash` };
    if (!constantTimeEqual(value, chapResponse(this.identifier, secret.password, this.challenge))) {
      return { kind: 'failure', reason: `${who} failed: wrong password` };
    }
    return { kind: 'success' };
  }
}

export interface Md5PeerOptions {
  readonly identity: string;
  readonly serverIdentity: string;
  readonly secrets?: EapSecretLookup;
}

export class Md5Peer implements EapMethodPeer {
  readonly type = EapType.Md5Challenge;
  private answered = false;
  constructor(private readonly o: Md5PeerOptions) {}

  async process(eap: Uint8Array): Promise<EapStep> {
    const challenge = parseValue(eap, 'Request');
    const identifier = eap[1] ?? 0;
    const secret = this.o.secrets?.(this.o.identity, this.o.serverIdentity);
    if (secret === undefined || secret.kind !== 'password') {
      return { kind: 'failure', reason: `EAP-MD5: no EAP password for '${this.o.identity}' - '${this.o.serverIdentity}'` };
    }
    this.answered = true;
    const value = chapResponse(identifier, secret.password, challenge);
    return { kind: 'send', eap: encodeEap(EapCode.Response, identifier, EapType.Md5Challenge, Uint8Array.of(value.length, ...value, ...utf8.encode(this.o.identity))) };
  }

  finish(): EapStep {
    return this.answered ? { kind: 'success' } : { kind: 'failure', reason: `EAP-Success before EAP-MD5 answered a challenge for '${this.o.identity}'` };
  }
}

/**
 * A scripted RADIUS server for the client's tests (not used by the product): decodes an Access-Request or
 * Accounting-Request the client produced and builds a properly signed answer (Message-Authenticator and Response
 * Authenticator with the shared secret), or a deliberately broken one.
 */
import { encodeResponse, verifyAccountingRequest, verifyMessageAuthenticator } from './authenticator.js';
import { Attr } from './constants.js';
import { decodePacket, type RadiusAttribute, type RadiusPacket } from './packet.js';

export interface ScriptedAnswer {
  readonly code: number;
  readonly attributes?: readonly RadiusAttribute[];
  /** Sign with this secret instead of the right one. */
  readonly secret?: Uint8Array;
  /** Leave out Message-Authenticator. */
  readonly noMessageAuthenticator?: boolean;
  /** Answer with this Identifier instead of the request's. */
  readonly identifier?: number;
}

/** Decodes a request the client sent and checks its integrity as a server would (throws if it is wrong). */
export function serverReceive(data: Uint8Array, secret: Uint8Array): RadiusPacket {
  const p = decodePacket(data);
  if (p.code === 4) {
    if (!verifyAccountingRequest(data, secret)) throw new Error('Accounting-Request authenticator does not verify');
  } else {
    verifyMessageAuthenticator(data, p.authenticator, secret);
  }
  return p;
}

/** A signed answer to `request`. */
export function serverAnswer(request: RadiusPacket, secret: Uint8Array, a: ScriptedAnswer): Uint8Array {
  const attrs = [...(a.attributes ?? [])];
  if (!a.noMessageAuthenticator && request.code === 1) attrs.push({ type: Attr.MESSAGE_AUTHENTICATOR, value: new Uint8Array(16) });
  return encodeResponse({ code: a.code, identifier: a.identifier ?? request.identifier, authenticator: request.authenticator, attributes: attrs }, request.authenticator, a.secret ?? secret);
}

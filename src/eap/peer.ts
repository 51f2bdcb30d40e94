/**
 * The EAP peer of one IKE_AUTH conversation (RFC 7296 2.16, RFC 3748 2), following strongSwan's client side of
 * eap_authenticator.c: EAP-Identity is answered with our EAP identity; the first method request picks the method
 * if it is one we accept, else a Nak lists the ones we do (RFC 3748 5.3.1); EAP-Success ends it with the
 * method's MSK once the method says it completed; EAP-Failure ends it with a failure.
 */
import { EapError } from './errors.js';
import { createPeerMethod, methodName, methodProblem, methodType } from './methods.js';
import { decodeEap, EapCode, EapType, eapCodeName, eapTypeName, encodeEap, encodeNak } from './packet.js';
import type { EapMethodPeer, EapPeerOptions, EapPeerSession, EapStep } from './types.js';

export class EapPeer implements EapPeerSession {
  method: string | undefined;
  private current: EapMethodPeer | undefined;
  private done = false;

  constructor(private readonly o: EapPeerOptions) {}

  async process(bytes: Uint8Array): Promise<EapStep> {
    if (this.done) return this.fail('EAP packet after the conversation ended');
    let packet: ReturnType<typeof decodeEap>;
    try {
      packet = decodeEap(bytes);
    } catch (e) {
      if (e instanceof EapError) return this.fail(`malformed EAP packet from the server: ${e.message}`);
      throw e;
    }
    if (packet.code === EapCode.Success) {
      this.done = true;
      return this.current?.finish() ?? { kind: 'failure', reason: `EAP-Success for '${this.o.identity}' before any EAP method ran` };
    }
    if (packet.code === EapCode.Failure) {
      return this.fail(`received EAP-Failure, EAP${this.method === undefined ? '' : `-${this.label()}`} authentication of '${this.o.identity}' failed`);
    }
    if (packet.code !== EapCode.Request) return this.fail(`received an EAP ${eapCodeName(packet.code)} from the server`);
    if (packet.type === EapType.Identity) {
      return { kind: 'send', eap: encodeEap(EapCode.Response, packet.identifier, EapType.Identity, new TextEncoder().encode(this.o.identity)) };
    }
    if (packet.type === EapType.Notification) {
      // RFC 3748 5.2: a Notification Request is acknowledged with an empty Notification Response
      return { kind: 'send', eap: encodeEap(EapCode.Response, packet.identifier, EapType.Notification) };
    }
    if (this.current === undefined) {
      const name = methodName(packet.type, this.o.methods, this.o.plugins);
      if (name === undefined || methodProblem(name, this.o, 'peer') !== undefined) {
        const ours = this.o.methods.filter((n) => methodProblem(n, this.o, 'peer') === undefined);
        const types = ours.map((n) => methodType(n, this.o.plugins)).filter((t): t is number => t !== undefined);
        return { kind: 'send', eap: encodeNak(packet.identifier, types) };
      }
      this.method = name;
      this.current = createPeerMethod(name, this.o);
    }
    if (packet.type !== this.current.type) {
      return this.fail(`server switched from EAP-${this.label()} to ${eapTypeName(packet.type)} during the conversation`);
    }
    try {
      const step = await this.current.process(bytes);
      if (step.kind === 'failure') this.done = true;
      return step;
    } catch (e) {
      // EapError: malformed method data; anything else fails the same way rather than escaping into IKE
      return this.fail(`EAP-${this.label()} authentication of '${this.o.identity}' failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private fail(reason: string): EapStep {
    this.done = true;
    return { kind: 'failure', reason };
  }

  private label(): string {
    const type = this.method === undefined ? undefined : methodType(this.method, this.o.plugins);
    return type === undefined ? String(this.method) : eapTypeName(type);
  }
}

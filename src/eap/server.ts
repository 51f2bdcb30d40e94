/**
 * The EAP server (authenticator) of one IKE_AUTH conversation (RFC 7296 2.16, RFC 3748 2), following strongSwan's
 * eap_authenticator.c: EAP-Identity first when eap_id is %any, else the configured eap_id (or the IKE identity)
 * is the EAP identity; then the first configured method; a Nak is honoured only when several methods are
 * configured (eap-dynamic), by starting the first configured method the peer asked for. Anything unexpected
 * ends the conversation with EAP-Failure and a reason naming the method and the identity.
 */
import { randomBytes } from '../crypto/random.js';
import { EapError } from './errors.js';
import { createServerMethod, methodName, methodProblem, methodType } from './methods.js';
import {
  decodeEap,
  decodeIdentity,
  decodeNak,
  EapCode,
  EapType,
  eapCodeName,
  eapTypeName,
  encodeEap,
  encodeEapResult,
} from './packet.js';
import type { EapMethodName, EapMethodServer, EapServerOptions, EapServerSession, EapStep } from './types.js';

export class EapServer implements EapServerSession {
  identity: string | undefined;
  method: string | undefined;
  /** Why the conversation failed, once it has (also when the last step was a method's final request). */
  failedReason: string | undefined;
  private state: 'new' | 'identity' | 'method' | 'done' = 'new';
  private current: EapMethodServer | undefined;
  private lastIdentifier = 0;
  private nakHonoured = false;

  constructor(private readonly o: EapServerOptions) {
    if (o.methods.length === 0) throw new RangeError('EapServer needs at least one EAP method');
  }

  async start(): Promise<EapStep> {
    if (this.state !== 'new') return this.fail(this.lastIdentifier, 'EAP conversation already started');
    const first = randomBytes(this.o.random, 1)[0] ?? 0;
    if (this.o.eapId === '%any') {
      this.state = 'identity';
      return this.send(encodeEap(EapCode.Request, first, EapType.Identity));
    }
    this.identity = this.o.eapId ?? this.o.ikeIdentity;
    return this.startMethod(this.o.methods[0] ?? '', first);
  }

  async process(bytes: Uint8Array): Promise<EapStep> {
    if (this.state === 'done' || this.state === 'new') {
      return this.fail(this.lastIdentifier, `EAP Response for '${this.who()}' arrived ${this.state === 'new' ? 'before start()' : 'after the conversation ended'}`);
    }
    let packet: ReturnType<typeof decodeEap>;
    try {
      packet = decodeEap(bytes);
    } catch (e) {
      if (e instanceof EapError) return this.fail(this.lastIdentifier, `malformed EAP packet from '${this.who()}': ${e.message}`);
      throw e;
    }
    if (packet.code !== EapCode.Response) {
      return this.fail(packet.identifier, `received EAP ${eapCodeName(packet.code)} from '${this.who()}', expected a Response`);
    }
    if (packet.identifier !== this.lastIdentifier) {
      return this.fail(packet.identifier, `EAP Response from '${this.who()}' has Identifier ${packet.identifier}, the Request had ${this.lastIdentifier} (RFC 3748 4.1)`);
    }
    if (this.state === 'identity') {
      if (packet.type !== EapType.Identity) {
        return this.fail(packet.identifier, `'${this.o.ikeIdentity}' answered the EAP-Identity request with ${eapTypeName(packet.type)}`);
      }
      const identity = decodeIdentity(packet.data);
      if (identity === '') return this.fail(packet.identifier, `'${this.o.ikeIdentity}' sent an empty EAP identity`);
      this.identity = identity;
      return this.startMethod(this.o.methods[0] ?? '', packet.identifier + 1);
    }
    const current = this.current;
    if (current === undefined) return this.fail(packet.identifier, 'no EAP method is running');
    if (packet.type === EapType.Nak) return this.nak(packet.identifier, packet.data);
    if (packet.type !== current.type) {
      return this.fail(packet.identifier, `EAP-${this.methodLabel()} of '${this.who()}': received a ${eapTypeName(packet.type)} Response`);
    }
    let step: EapStep;
    try {
      step = await current.process(bytes);
    } catch (e) {
      // EapError: malformed method data; anything else (a certificate our PKI cannot read...) fails the same way
      // rather than escaping into IKE
      return this.fail(packet.identifier, `EAP-${this.methodLabel()} authentication of '${this.who()}' failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (step.kind === 'send') return this.send(step.eap);
    this.state = 'done';
    if (step.kind === 'success') {
      return { kind: 'success', eap: encodeEapResult(EapCode.Success, packet.identifier), ...(step.msk !== undefined ? { msk: step.msk } : {}) };
    }
    this.failedReason = step.reason;
    return { kind: 'failure', reason: step.reason, eap: step.eap ?? encodeEapResult(EapCode.Failure, packet.identifier) };
  }

  /** RFC 3748 5.3.1: the peer refuses the proposed method and lists the ones it wants. */
  private nak(identifier: number, data: Uint8Array): Promise<EapStep> | EapStep {
    let wanted: number[];
    try {
      wanted = decodeNak(data);
    } catch (e) {
      if (e instanceof EapError) return this.fail(identifier, `malformed EAP Nak from '${this.who()}': ${e.message}`);
      throw e;
    }
    const refused = `'${this.who()}' refused EAP-${this.methodLabel()}`;
    const asked = wanted.length === 0 ? 'and proposed no other method' : `and asked for ${wanted.map(eapTypeName).join(', ')}`;
    if (this.o.methods.length < 2 || this.nakHonoured || wanted.length === 0) return this.fail(identifier, `${refused} ${asked}`);
    for (const type of wanted) {
      const name = methodName(type, this.o.methods, this.o.plugins);
      if (name !== undefined && name !== this.method && methodProblem(name, this.o, 'server') === undefined) {
        this.nakHonoured = true;
        return this.startMethod(name, identifier + 1);
      }
    }
    return this.fail(identifier, `${refused} ${asked}, none of them configured`);
  }

  private async startMethod(name: EapMethodName, identifier: number): Promise<EapStep> {
    this.method = name;
    const problem = methodProblem(name, this.o, 'server');
    if (problem !== undefined) return this.fail(identifier, `cannot start EAP method for '${this.who()}': ${problem}`);
    this.state = 'method';
    this.current = createServerMethod(name, this.who(), this.o);
    try {
      return this.send(await this.current.initiate(identifier & 0xff));
    } catch (e) {
      return this.fail(identifier, `initiating EAP-${this.methodLabel()} for '${this.who()}' failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private send(eap: Uint8Array): EapStep {
    this.lastIdentifier = eap[1] ?? 0;
    return { kind: 'send', eap };
  }

  private fail(identifier: number, reason: string): EapStep {
    this.state = 'done';
    this.failedReason = reason;
    return { kind: 'failure', reason, eap: encodeEapResult(EapCode.Failure, identifier) };
  }

  private who(): string {
    return this.identity ?? this.o.ikeIdentity;
  }

  private methodLabel(): string {
    const type = this.method === undefined ? undefined : methodType(this.method, this.o.plugins);
    return type === undefined ? String(this.method) : eapTypeName(type);
  }
}

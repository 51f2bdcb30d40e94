/**
 * IKE events -> ESP engine state, without I/O: what strongSwan's kernel interface does for charon.
 *
 *  - child-install: both SAs in; a new CHILD SA gets a policy (its own reqid), a rekeyed one inherits its
 *    predecessor's reqid and policy (RFC 7296 2.8, make-before-break). Outbound moves to the new SA at once, or
 *    at `child-outbound` when IKE deferred it (rekey responder).
 *  - child-remove: the outbound SA goes; the inbound SA stays for a grace period, since the peer may still have
 *    packets in flight on it; the policy goes with its last CHILD SA.
 *  - ike-address-change: the peer moved behind its NAT (RFC 7296 2.23) or the SA moved (MOBIKE, RFC 4555): SAs follow.
 *
 * Used by the gateway core (gateway.ts) and by simulations that pump IkeEndpoint + EspEngine in virtual time.
 * reqids come from one allocator (reqids.ts): a CHILD SA keeps its reqid across rekeys.
 */
import type { EspEngine } from '../esp/engine.js';
import type { EspSelector } from '../esp/selector.js';
import type { ChildSaInfo, IkeEvent } from '../ike/events.js';
import { ReqidAllocator } from './reqids.js';

/** Where CHILD SAs get their reqids: the gateway's allocator, shared with its trap policies. */
export interface ReqidSource {
  /** A reqid for a new (not rekeyed) CHILD SA, with one reference taken. */
  acquire(child: ChildSaInfo): number;
  retain(reqid: number): number;
  release(reqid: number): void;
}

export interface InstalledChild {
  readonly info: ChildSaInfo;
  readonly policyId: number;
  readonly reqid: number;
}

export interface ChildInstallerOptions {
  /** Anti-replay window for a CHILD SA (from its config); default 1024. */
  readonly replayWindow?: (child: ChildSaInfo) => number;
  /** Whether the inbound SA checks ESP padding values (esp_padding_check, RFC 4303 2.4); default true. */
  readonly paddingCheck?: (child: ChildSaInfo) => boolean;
  /** How long a removed CHILD SA's inbound SA keeps accepting packets in flight (ms). */
  readonly graceMs?: number;
  /** Priority of SA policies (trap policies use a higher number, so they are tried later). */
  readonly priority?: number;
  readonly log?: (level: number, message: string) => void;
  /** Default: an allocator of its own keyed by child name and traffic selectors. */
  readonly reqids?: ReqidSource;
}

const hex = (n: number): string => n.toString(16).padStart(8, '0');

export class ChildSaInstaller {
  readonly installed = new Map<number, InstalledChild>();
  private readonly policyRefs = new Map<number, number>();
  private readonly reqids: ReqidSource;

  constructor(
    private readonly engine: EspEngine,
    private readonly opts: ChildInstallerOptions = {},
  ) {
    const own = new ReqidAllocator();
    this.reqids = opts.reqids ?? {
      acquire: (c) => own.acquire(ReqidAllocator.key('', c.name, c.localTs, c.remoteTs)),
      retain: (r) => own.retain(r),
      release: (r) => own.release(r),
    };
  }

  /** Applies one IKE event; returns false for events that are not about the data plane. */
  handle(e: IkeEvent, now: number): boolean {
    switch (e.type) {
      case 'child-install':
        this.install(e);
        return true;
      case 'child-outbound': {
        if (this.engine.getSa(e.replaces.spiOut, 'out') && this.engine.getSa(e.child.spiOut, 'out')) this.engine.rolloverOutbound(e.replaces.spiOut, e.child.spiOut);
        return true;
      }
      case 'child-remove':
        this.remove(e.child, now);
        return true;
      case 'ike-address-change':
        // Both ends may have moved (RFC 4555 3.5: MOBIKE moves ours too): outbound packets leave from c.local.
        for (const c of e.children) {
          if (this.engine.getSa(c.spiOut, 'out')) this.engine.setRemote(c.spiOut, 'out', c.remote, c.local);
          if (this.engine.getSa(c.spiIn, 'in')) this.engine.setRemote(c.spiIn, 'in', c.remote, c.local);
        }
        return true;
      default:
        return false;
    }
  }

  private install(e: Extract<IkeEvent, { type: 'child-install' }>): void {
    const c = e.child;
    const suite = { encr: c.encrId, ...(c.encrKeyBits !== undefined ? { encrKeyBits: c.encrKeyBits } : {}), integ: c.integId };
    // IKE's TrafficSelector has the EspSelector shape (startAddr/endAddr/ipProtocol/startPort/endPort).
    const local = c.localTs as readonly EspSelector[];
    const remote = c.remoteTs as readonly EspSelector[];
    const prev = e.replaces ? this.installed.get(e.replaces.id) : undefined;
    const reqid = prev ? this.reqids.retain(prev.reqid) : this.reqids.acquire(c);
    const common = { suite, esn: c.esn, localSelectors: local, remoteSelectors: remote, reqid, local: c.local, remote: c.remote, udpEncap: true, lifetime: e.lifetimes };
    try {
      this.engine.installSa({ ...common, spi: e.inbound.spi, direction: 'in', encKey: e.inbound.encrKey, ...(e.inbound.integKey.length ? { integKey: e.inbound.integKey } : {}), replayWindow: this.opts.replayWindow?.(c) ?? 1024, paddingCheck: this.opts.paddingCheck?.(c) ?? true });
      try {
        this.engine.installSa({ ...common, spi: e.outbound.spi, direction: 'out', encKey: e.outbound.encrKey, ...(e.outbound.integKey.length ? { integKey: e.outbound.integKey } : {}) });
      } catch (err) {
        this.engine.removeSa(e.inbound.spi, 'in');
        throw err;
      }
    } catch (err) {
      this.reqids.release(reqid);
      throw err;
    }
    let policyId: number;
    if (prev) {
      policyId = prev.policyId;
      this.policyRefs.set(policyId, (this.policyRefs.get(policyId) ?? 0) + 1);
      // The outbound SA of a reqid is the one installed last, unless IKE asks us to wait (rekey responder):
      // then the old one stays active until child-outbound.
      if (e.outboundActive && this.engine.getSa(prev.info.spiOut, 'out')) this.engine.rolloverOutbound(prev.info.spiOut, e.outbound.spi);
    } else {
      policyId = this.engine.installPolicy({ local, remote, reqid, priority: this.opts.priority ?? 10 });
      this.policyRefs.set(policyId, 1);
    }
    this.installed.set(c.id, { info: c, policyId, reqid });
    this.opts.log?.(1, `installed ESP SAs ${c.name}{${c.id}}: ${hex(c.spiIn)} in, ${hex(c.spiOut)} out, ${c.suite}${prev ? `, replacing {${prev.info.id}}` : ''}`);
  }

  private remove(c: ChildSaInfo, now: number): void {
    const inst = this.installed.get(c.id);
    if (!inst) return;
    this.installed.delete(c.id);
    this.reqids.release(inst.reqid);
    const refs = (this.policyRefs.get(inst.policyId) ?? 1) - 1;
    if (refs <= 0) {
      this.policyRefs.delete(inst.policyId);
      this.engine.removePolicy(inst.policyId);
    } else this.policyRefs.set(inst.policyId, refs);
    if (this.engine.getSa(c.spiOut, 'out')) this.engine.removeSa(c.spiOut, 'out');
    // Every inbound SA is retired with a grace period rather than removed: packets the peer sent before it
    // processed the Delete (a rekey, a collision's redundant SA, a reauthentication) are still in flight.
    if (this.engine.getSa(c.spiIn, 'in')) this.engine.retireInbound(c.spiIn, this.opts.graceMs ?? 2000, now);
  }
}

/**
 * The engine's Security Policy Database (RFC 4301 section 4.4.1): ordered entries (priority, then install order),
 * each protect / bypass / discard, a protect entry caching the active outbound SA of its reqid so the per-packet
 * lookup (first match, RFC 4301 4.4.1 "ordered") skips a map lookup.
 */
import { EspError } from './errors.js';
import type { PolicyAction, PolicyParams } from './engine-types.js';
import type { EspSa } from './sa.js';
import { Ipv4Key, SelectorSet, type PacketFields } from './selector.js';

export interface Policy {
  readonly id: number;
  readonly action: PolicyAction;
  readonly reqid: number;
  readonly priority: number;
  readonly selectors: SelectorSet;
  /** Time (ms) of the last ACQUIRE reported for this policy. */
  lastAcquire: number;
  /** The active outbound SA of `reqid`, cached here so the hot path skips a map lookup (see bind). */
  sa: EspSa | undefined;
}

export class Spd {
  /** Replaced (never changed in place) on every install and remove: lookup4's cache checks it by identity. */
  private policies: Policy[] = [];
  private nextId = 1;
  /**
   * lookup4's last answer: the packet fields it was for and the policy list it was found in. A bulk flow sends one
   * 5-tuple packet after packet, so the ordered first-match scan (RFC 4301 4.4.1) runs once per flow change, not per
   * packet; any install or remove makes a new list and so a miss. The answer's `sa` is read fresh by the caller.
   */
  private c4List: Policy[] | undefined = undefined;
  private readonly c4Key = new Ipv4Key();
  private c4Policy: Policy | undefined = undefined;

  /** Installs an entry and returns its id; `activeOut`: reqid -> the outbound SA carrying its traffic. */
  install(p: PolicyParams, activeOut: ReadonlyMap<number, EspSa>): number {
    let selectors: SelectorSet;
    try {
      selectors = new SelectorSet(p.local, p.remote);
    } catch (e) {
      throw new EspError('BAD_PARAMS', `ESP policy: ${(e as Error).message}`);
    }
    const action = p.action ?? 'protect';
    if (action !== 'protect' && action !== 'bypass' && action !== 'discard') {
      throw new EspError('BAD_PARAMS', `ESP policy: action '${String(action)}'`);
    }
    const pol: Policy = {
      id: this.nextId++,
      action,
      reqid: p.reqid ?? 0,
      priority: p.priority ?? 0,
      selectors,
      lastAcquire: -Infinity,
      sa: activeOut.get(p.reqid ?? 0),
    };
    // Stable sort keeps install order among equal priorities.
    this.policies = [...this.policies, pol].sort((a, b) => a.priority - b.priority);
    return pol.id;
  }

  remove(id: number): void {
    const n = this.policies.length;
    this.policies = this.policies.filter((p) => p.id !== id);
    if (this.policies.length === n) throw new EspError('UNKNOWN_POLICY', `ESP: no policy ${id}`);
  }

  /** Refreshes each entry's cached outbound SA after the reqid -> SA map changed (control path only). */
  bind(activeOut: ReadonlyMap<number, EspSa>): void {
    for (const p of this.policies) p.sa = activeOut.get(p.reqid);
  }

  /** The first entry whose selectors match an outbound packet (parsed into `f`), or undefined. */
  lookup(buf: Uint8Array, f: PacketFields): Policy | undefined {
    const policies = this.policies;
    for (let k = 0; k < policies.length; k++) {
      const c = policies[k]!;
      if (c.selectors.matchesOutbound(buf, f)) return c;
    }
    return undefined;
  }

  /** `lookup` for an IPv4 packet read by readIpv4Key (the engine's fast path; the same first match). */
  lookup4(k: Ipv4Key): Policy | undefined {
    const policies = this.policies;
    if (policies === this.c4List && this.c4Key.sameFlow(k)) return this.c4Policy;
    let found: Policy | undefined;
    for (let j = 0; j < policies.length; j++) {
      const c = policies[j]!;
      if (c.selectors.matchesOutbound4(k)) {
        found = c;
        break;
      }
    }
    this.c4List = policies;
    this.c4Key.setFlow(k);
    this.c4Policy = found;
    return found;
  }
}

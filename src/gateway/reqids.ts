/**
 * One reqid allocator for every policy of a gateway: installed CHILD SAs and trap policies alike. As strongSwan's
 * kernel_interface get_reqid()/release_reqid(), a reqid is keyed by what it protects and reference counted: while
 * anything holds a key (a trap, the CHILD SA a rekey is replacing) the same key gets the same reqid back, so a
 * CHILD SA keeps its reqid across rekeys (RFC 7296 2.8) and an SA brought up by a trap uses the trap's reqid.
 */
import type { TrafficSelector } from '../ike/traffic-selector.js';

export class ReqidAllocator {
  private readonly byKey = new Map<string, { reqid: number; refs: number }>();
  private readonly keyOf = new Map<number, string>();
  private next = 1;

  /** The key of a connection's CHILD config with these selectors. */
  static key(conn: string, child: string, local: readonly TrafficSelector[], remote: readonly TrafficSelector[]): string {
    const ts = (l: readonly TrafficSelector[]): string => l.map((t) => `${t.ipProtocol}/${[...t.startAddr]}-${[...t.endAddr]}/${t.startPort}-${t.endPort}`).join(',');
    return `${conn}\0${child}\0${ts(local)}\0${ts(remote)}`;
  }

  /** The reqid of `key`, allocated when no one holds it; each call takes one reference. */
  acquire(key: string): number {
    const e = this.byKey.get(key);
    if (e) {
      e.refs++;
      return e.reqid;
    }
    const reqid = this.next++;
    this.byKey.set(key, { reqid, refs: 1 });
    this.keyOf.set(reqid, key);
    return reqid;
  }

  /** One more reference to a reqid already held (a rekeyed CHILD SA inherits its predecessor's). */
  retain(reqid: number): number {
    const key = this.keyOf.get(reqid);
    if (key !== undefined) this.byKey.get(key)!.refs++;
    return reqid;
  }

  /** Drops one reference; the reqid is free again when none is left. */
  release(reqid: number): void {
    const key = this.keyOf.get(reqid);
    if (key === undefined) return;
    const e = this.byKey.get(key)!;
    if (--e.refs > 0) return;
    this.byKey.delete(key);
    this.keyOf.delete(reqid);
  }

  /** reqids currently held (status, tests). */
  get size(): number {
    return this.byKey.size;
  }
}

/**
 * What a reload changes, so the daemon can leave SAs of unchanged connections alone (as strongSwan's
 * vici merge_config() does: an equal peer config only gets its children replaced, a different one is
 * replaced whole).
 *
 * Positions in the file do not count: moving a connection or re-indenting it is no change. A connection whose
 * pools' definitions changed counts as changed at the IKE level.
 */
import type { ConnectionConfig, SwanctlConfig } from './schema.js';

export interface NameDiff {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
  readonly unchanged: readonly string[];
}

export interface ConnectionChange {
  readonly name: string;
  /** Something other than children differs (addresses, proposals, auth rounds, lifetimes, pools...). */
  readonly ike: boolean;
  readonly children: NameDiff;
}

export interface ConfigDiff {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly ConnectionChange[];
  readonly unchanged: readonly string[];
  /** Pools added, removed or redefined. */
  readonly pools: NameDiff;
  /** Any secret added, removed or changed (affects new authentications only). */
  readonly secretsChanged: boolean;
}

/** A canonical text of a configuration value: no source locations, maps sorted, bytes as hex. */
export function canonical(value: unknown): string {
  return JSON.stringify(normalize(value));
}

function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('hex') };
  if (v instanceof Map) {
    const entries = [...v.entries()].map(([k, x]) => [String(k), normalize(x)] as const);
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return { $map: entries };
  }
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      if (k === 'loc') continue;
      out[k] = normalize((v as Record<string, unknown>)[k]);
    }
    return out;
  }
  if (v === undefined) return null;
  return v;
}

function diffNames<T>(a: ReadonlyMap<string, T>, b: ReadonlyMap<string, T>, same: (x: T, y: T) => boolean): NameDiff {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  const unchanged: string[] = [];
  for (const [name, x] of a) {
    const y = b.get(name);
    if (y === undefined) removed.push(name);
    else if (same(x, y)) unchanged.push(name);
    else changed.push(name);
  }
  for (const name of b.keys()) if (!a.has(name)) added.push(name);
  return { added, removed, changed, unchanged };
}

function ikePart(c: ConnectionConfig, pools: SwanctlConfig['pools']): string {
  const { children: _children, ...rest } = c;
  return canonical({ ...rest, poolDefs: c.pools.map((p) => pools.get(p) ?? null) });
}

export function diffConfigs(oldConfig: SwanctlConfig, newConfig: SwanctlConfig): ConfigDiff {
  const pools = diffNames(oldConfig.pools, newConfig.pools, (x, y) => canonical(x) === canonical(y));
  const added: string[] = [];
  const removed: string[] = [];
  const changed: ConnectionChange[] = [];
  const unchanged: string[] = [];
  for (const [name, o] of oldConfig.connections) {
    const n = newConfig.connections.get(name);
    if (n === undefined) {
      removed.push(name);
      continue;
    }
    const ike = ikePart(o, oldConfig.pools) !== ikePart(n, newConfig.pools);
    const children = diffNames(o.children, n.children, (x, y) => canonical(x) === canonical(y));
    if (!ike && children.added.length + children.removed.length + children.changed.length === 0) unchanged.push(name);
    else changed.push({ name, ike, children });
  }
  for (const name of newConfig.connections.keys()) if (!oldConfig.connections.has(name)) added.push(name);
  const secretsChanged = canonical(oldConfig.secrets) !== canonical(newConfig.secrets);
  return { added, removed, changed, unchanged, pools, secretsChanged };
}

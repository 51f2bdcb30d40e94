/**
 * Summaries of V8 `.cpuprofile` files (what `node --cpu-prof` writes): self time per function, inclusive time per
 * function, and self time per data-path stage (UDP send/receive, TUN read/write, ESP seal/open, IKE, GC, idle).
 *
 * Self time is the sum of the sample intervals (`timeDeltas`) whose sample landed in the function, which is what
 * Chrome DevTools shows as "self time"; inclusive time adds every descendant's self time.
 */

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

export interface CpuProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface FunctionTime {
  /** `name (file:line)`, the file relative to the repository when it is ours. */
  label: string;
  stage: Stage;
  selfMs: number;
  totalMs: number;
}

export type Stage = 'idle' | 'gc' | 'program' | 'udp' | 'tun' | 'esp' | 'crypto' | 'ike' | 'daemon' | 'node' | 'other';

export interface ProfileSummary {
  /** Wall time covered by the samples. */
  durationMs: number;
  /** Time the thread was busy (everything but "(idle)"). */
  busyMs: number;
  byStage: Record<Stage, number>;
  /** Sorted by self time, descending. */
  functions: FunctionTime[];
}

/**
 * Which data-path stage a frame belongs to. The order matters: node's own dgram/udp frames are "udp" wherever they
 * are called from; our src/tun and src/esp files are theirs; koffi calls made from src/tun count as tun (by url).
 */
export function stageOf(f: CallFrame): Stage {
  const n = f.functionName;
  const u = f.url;
  if (n === '(idle)') return 'idle';
  if (n === '(garbage collector)') return 'gc';
  if (n === '(program)' || n === '(root)') return 'program';
  if (/dgram|udp/.test(u)) return 'udp';
  // Native frames have no url: UDPWrap's methods and koffi's foreign functions show under their own names.
  if (u === '' && /^(send|recvStart|bufferSize|getSendQueueSize)$/.test(n)) return 'udp';
  if (u === '' && /^(read|write|readv|writev|poll)$/.test(n)) return 'tun';
  if (/\/src\/tun\//.test(u)) return 'tun';
  if (/\/src\/esp\//.test(u)) return 'esp';
  if (/\/src\/crypto\//.test(u) || /koffi/.test(u)) return 'crypto';
  if (/\/src\/ike\//.test(u)) return 'ike';
  if (/\/src\/daemon\//.test(u)) return 'daemon';
  if (u.startsWith('node:') || u === '') return 'node';
  return 'other';
}

function shortUrl(url: string): string {
  const i = url.indexOf('/src/');
  if (i >= 0) return url.slice(i + 1);
  return url.replace(/^file:\/\//, '');
}

export function summarizeProfile(p: CpuProfile): ProfileSummary {
  const byId = new Map<number, CpuProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  if (samples.length > 0 && deltas.length === samples.length) {
    // timeDeltas[i] is the time since the previous sample; the interval ending at sample i+1 belongs to sample i.
    for (let i = 0; i < samples.length; i++) {
      const dt = (deltas[i + 1] ?? 0) / 1000;
      self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + Math.max(0, dt));
    }
  } else {
    const total = (p.endTime - p.startTime) / 1000;
    const hits = p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
    for (const n of p.nodes) self.set(n.id, hits > 0 ? ((n.hitCount ?? 0) * total) / hits : 0);
  }
  // Inclusive time: post-order over the tree from the root (nodes[0]).
  const inclusive = new Map<number, number>();
  const visit = (id: number, depth: number): number => {
    const n = byId.get(id);
    if (!n || depth > 10_000) return 0;
    let t = self.get(id) ?? 0;
    for (const c of n.children ?? []) t += visit(c, depth + 1);
    inclusive.set(id, t);
    return t;
  };
  if (p.nodes[0]) visit(p.nodes[0].id, 0);

  // Aggregate per function (same name, file and line); inclusive time counted once per call path top (no
  // double counting of recursion: a node whose ancestor is the same function adds no inclusive time).
  const agg = new Map<string, FunctionTime>();
  const parentOf = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const jsFrame = (f: CallFrame) => f.url !== '' || /^\(.*\)$/.test(f.functionName);
  // Native frames (no url) are named by V8's symbolizer, which often picks an unrelated nearby export of the node
  // binary (a koffi read() showing as "ERR_clear_error"): they are labelled and staged by their nearest JS caller.
  const jsParent = (id: number): CpuProfileNode | undefined => {
    for (let a = parentOf.get(id); a !== undefined; a = parentOf.get(a)) {
      const an = byId.get(a);
      if (an && jsFrame(an.callFrame)) return an;
    }
    return undefined;
  };
  const plainKey = (f: CallFrame) => `${f.functionName || '(anonymous)'} (${shortUrl(f.url)}:${f.lineNumber + 1})`;
  const keyOf = (n: CpuProfileNode): string => {
    if (jsFrame(n.callFrame)) return plainKey(n.callFrame);
    const parent = jsParent(n.id);
    return parent ? `[native] in ${plainKey(parent.callFrame)}` : `[native] ${n.callFrame.functionName}`;
  };
  const stageOfNode = (n: CpuProfileNode): Stage => {
    if (jsFrame(n.callFrame)) return stageOf(n.callFrame);
    const parent = jsParent(n.id);
    return parent ? stageOf(parent.callFrame) : stageOf(n.callFrame);
  };
  const byStage = { idle: 0, gc: 0, program: 0, udp: 0, tun: 0, esp: 0, crypto: 0, ike: 0, daemon: 0, node: 0, other: 0 } as Record<Stage, number>;
  for (const n of p.nodes) {
    const label = keyOf(n);
    const stage = stageOfNode(n);
    const s = self.get(n.id) ?? 0;
    byStage[stage] += s;
    let recursive = false;
    for (let a = parentOf.get(n.id); a !== undefined; a = parentOf.get(a)) {
      const an = byId.get(a);
      if (an && keyOf(an) === label) {
        recursive = true;
        break;
      }
    }
    const e = agg.get(label) ?? { label, stage, selfMs: 0, totalMs: 0 };
    e.selfMs += s;
    if (!recursive) e.totalMs += inclusive.get(n.id) ?? 0;
    agg.set(label, e);
  }
  const durationMs = Object.values(byStage).reduce((a, b) => a + b, 0);
  return {
    durationMs,
    busyMs: durationMs - byStage.idle,
    byStage,
    functions: [...agg.values()].sort((a, b) => b.selfMs - a.selfMs),
  };
}

/** Human-readable lines: stages as a share of busy time, then the top `n` functions by self time. */
export function formatSummary(title: string, s: ProfileSummary, n = 25): string[] {
  const pct = (x: number) => `${((100 * x) / Math.max(1e-9, s.busyMs)).toFixed(1).padStart(5)}%`;
  const lines = [`${title}: ${(s.durationMs / 1000).toFixed(1)} s sampled, busy ${(s.busyMs / 1000).toFixed(1)} s (${((100 * s.busyMs) / Math.max(1e-9, s.durationMs)).toFixed(0)}%)`];
  const stages = (Object.entries(s.byStage) as Array<[Stage, number]>).filter(([k, v]) => k !== 'idle' && v > 0).sort((a, b) => b[1] - a[1]);
  lines.push(`  by stage (share of busy time): ${stages.map(([k, v]) => `${k} ${pct(v).trim()}`).join(', ')}`);
  lines.push(`  top ${n} by self time:          self   total  stage`);
  for (const f of s.functions.filter((x) => x.stage !== 'idle').slice(0, n))
    lines.push(`    ${pct(f.selfMs)} ${pct(f.totalMs)}  ${f.stage.padEnd(7)} ${f.label}`);
  return lines;
}

/**
 * What the console knows between requests: the last SA list, per-SA traffic samples for the charts (one hour),
 * the event timeline and recent log lines, and the browsers listening over Server-Sent Events.
 *
 * Live updates come from vici events (ike-updown, child-updown, ike-rekey, child-rekey, log): each SA event
 * triggers one list-sas to refresh the table. Traffic counters have no event in vici (charon raises none), so
 * while at least one browser watches, the hub samples list-sas every `sampleMs` (default 5 s: one request for all
 * browsers, none when nobody watches) to draw the charts.
 */
import { str, type ViciMessage } from '../vici/message.js';
import { sasOf, type SaView } from './views.js';

export interface TimelineEntry {
  readonly t: number;
  readonly kind: 'ike-up' | 'ike-down' | 'child-up' | 'child-down' | 'ike-rekey' | 'child-rekey' | 'auth-failed' | 'dpd' | 'console';
  readonly name: string;
  readonly detail: string;
}

export interface LogLine {
  readonly t: number;
  readonly group: string;
  readonly level: number;
  readonly ike: string;
  readonly msg: string;
}

export interface TrafficSample {
  readonly t: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly packetsIn: number;
  readonly packetsOut: number;
}

export interface SseClient {
  send(event: string, data: unknown): void;
}

const HISTORY_MS = 3600_000;
const TIMELINE_MAX = 500;
const LOG_MAX = 1000;

/** charon's wording for the timeline's auth failures and dead peers (ike 0/1 lines of ikev2 tasks and DPD). */
const AUTH_FAILED = /authentication of '.*' with .* failed|received AUTHENTICATION_FAILED|AUTHENTICATION_FAILED notify|peer authentication failed|no trusted .* public key found|tried \d+ shared keys? for .* but MAC mismatched/i;
const DEAD_PEER = /giving up after \d+ retransmits|peer not responding|DPD .*(dead|timeout)|dead peer/i;

/** The key of a chart: the IKE SA's unique id and the CHILD SA's config name, so a CHILD rekey continues the line. */
export function trafficKey(sa: SaView, childName: string): string {
  return `${sa.uniqueId}/${childName}`;
}

export interface HubSource {
  list(command: string, event: string): Promise<ViciMessage[]>;
}

export class ConsoleHub {
  sas: SaView[] = [];
  readonly history = new Map<string, TrafficSample[]>();
  readonly timeline: TimelineEntry[] = [];
  readonly logs: LogLine[] = [];
  readonly clients = new Set<SseClient>();
  viciConnected = false;
  viciError: string | undefined;
  private sampler: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly source: HubSource,
    private readonly opts: { sampleMs?: number; now?: () => number } = {},
  ) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  attach(client: SseClient): () => void {
    this.clients.add(client);
    if (!this.sampler) {
      this.sampler = setInterval(() => void this.refresh(), this.opts.sampleMs ?? 5000);
      this.sampler.unref();
    }
    return () => {
      this.clients.delete(client);
      if (this.clients.size === 0 && this.sampler) {
        clearInterval(this.sampler);
        this.sampler = undefined;
      }
    };
  }

  stop(): void {
    if (this.sampler) clearInterval(this.sampler);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
  }

  broadcast(event: string, data: unknown): void {
    for (const c of this.clients) c.send(event, data);
  }

  setViciState(connected: boolean, why?: string): void {
    this.viciConnected = connected;
    this.viciError = why;
    this.broadcast('vici', { connected, error: why ?? null });
    if (connected) this.scheduleRefresh();
  }

  /** A vici event from the daemon. */
  onEvent(name: string, msg: ViciMessage): void {
    const t = this.now();
    if (name === 'log') {
      const line: LogLine = { t, group: str(msg.group) ?? '', level: Number(str(msg.level) ?? '0'), ike: str(msg['ikesa-name']) ?? '', msg: str(msg.msg) ?? '' };
      this.logs.push(line);
      if (this.logs.length > LOG_MAX) this.logs.splice(0, this.logs.length - LOG_MAX);
      this.broadcast('log', line);
      if (AUTH_FAILED.test(line.msg)) this.addTimeline({ t, kind: 'auth-failed', name: line.ike, detail: line.msg });
      else if (DEAD_PEER.test(line.msg)) this.addTimeline({ t, kind: 'dpd', name: line.ike, detail: line.msg });
      return;
    }
    const up = str(msg.up) === 'yes';
    for (const sa of sasOf(msg)) {
      const peer = `${sa.remoteId || sa.remoteHost} (${sa.remoteHost})`;
      switch (name) {
        case 'ike-updown':
          this.addTimeline({ t, kind: up ? 'ike-up' : 'ike-down', name: sa.name, detail: `IKE SA ${sa.name}[${sa.uniqueId}] ${up ? 'established with' : 'closed with'} ${peer}` });
          break;
        case 'child-updown':
          for (const c of sa.children) {
            this.addTimeline({ t, kind: up ? 'child-up' : 'child-down', name: `${sa.name}/${c.name}`, detail: `CHILD SA ${c.name}{${c.uniqueId}} ${up ? 'installed' : 'removed'}: ${c.localTs.join(' ')} === ${c.remoteTs.join(' ')}` });
          }
          break;
        case 'ike-rekey':
          this.addTimeline({ t, kind: 'ike-rekey', name: sa.name, detail: `IKE SA ${sa.name} rekeyed` });
          break;
        case 'child-rekey':
          this.addTimeline({ t, kind: 'child-rekey', name: sa.name, detail: `CHILD SA of ${sa.name} rekeyed` });
          break;
      }
    }
    this.scheduleRefresh();
  }

  addTimeline(e: TimelineEntry): void {
    this.timeline.push(e);
    if (this.timeline.length > TIMELINE_MAX) this.timeline.splice(0, this.timeline.length - TIMELINE_MAX);
    this.broadcast('timeline', e);
  }

  /** One list-sas soon (events come in bursts: ike-updown and child-updown together). */
  scheduleRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refresh();
    }, 50);
    this.refreshTimer.unref();
  }

  /** list-sas, record traffic samples, tell the browsers. Concurrent calls share one request. */
  refresh(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    this.refreshing = (async () => {
      try {
        const events = await this.source.list('list-sas', 'list-sa');
        const sas = events.flatMap((m) => sasOf(m));
        this.sas = sas;
        this.sample(sas, this.now());
        this.broadcast('sas', { t: this.now(), sas });
      } catch (e) {
        this.viciError = e instanceof Error ? e.message : String(e);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private sample(sas: readonly SaView[], t: number): void {
    const live = new Set<string>();
    for (const sa of sas) {
      const byName = new Map<string, TrafficSample>();
      for (const c of sa.children) {
        const prev = byName.get(c.name);
        byName.set(c.name, {
          t,
          bytesIn: (prev?.bytesIn ?? 0) + c.bytesIn,
          bytesOut: (prev?.bytesOut ?? 0) + c.bytesOut,
          packetsIn: (prev?.packetsIn ?? 0) + c.packetsIn,
          packetsOut: (prev?.packetsOut ?? 0) + c.packetsOut,
        });
      }
      for (const [name, s] of byName) {
        const key = trafficKey(sa, name);
        live.add(key);
        const list = this.history.get(key) ?? [];
        list.push(s);
        while (list.length > 0 && (list[0]?.t ?? t) < t - HISTORY_MS) list.shift();
        this.history.set(key, list);
      }
    }
    // SAs that are gone keep their history for the hour (a closed SA's chart stays readable), then drop.
    for (const [key, list] of this.history) {
      if (live.has(key)) continue;
      if ((list[list.length - 1]?.t ?? 0) < t - HISTORY_MS) this.history.delete(key);
    }
  }
}

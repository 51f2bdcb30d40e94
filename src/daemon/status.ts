/**
 * A JSON snapshot of the daemon's SAs, the test hook until the vici socket exists (issue 7): written to
 * `--status-file PATH` on every SA change (atomically: a temporary file renamed over the old one) and logged on
 * SIGUSR1. SPIs, suites and traffic selectors only: never key material.
 */
import { renameSync, writeFileSync } from 'node:fs';
import type { ChildSaInfo, IkeSaInfo } from '../ike/events.js';
import { formatTrafficSelector } from '../ike/traffic-selector.js';
import { spiHex } from '../ike/ike-sa.js';
import { dropCountsByName } from '../esp/engine.js';
import type { Gateway } from '../gateway/gateway.js';
import type { TunStats } from '../tun/types.js';

export interface ChildSaStatus {
  readonly id: number;
  readonly name: string;
  readonly suite: string;
  /** 8 hex digits, as swanctl --list-sas prints them. */
  readonly spiIn: string;
  readonly spiOut: string;
  readonly localTs: string[];
  readonly remoteTs: string[];
  readonly encapsulated: boolean;
  /** Data-plane counters from the ESP engine, when the SA is installed there. */
  readonly bytesIn?: number;
  readonly bytesOut?: number;
  readonly packetsIn?: number;
  readonly packetsOut?: number;
  /** Packets dropped on the inbound / outbound ESP SA by reason name, when any were (issue 15). */
  readonly dropsIn?: Readonly<Record<string, number>>;
  readonly dropsOut?: Readonly<Record<string, number>>;
}

export interface IkeSaStatus {
  readonly id: number;
  readonly name: string;
  readonly state: string;
  readonly initiator: boolean;
  /** 16 hex digits each. */
  readonly spiI: string;
  readonly spiR: string;
  readonly local: string;
  readonly remote: string;
  readonly localId: string;
  readonly remoteId: string;
  readonly suite: string;
  readonly encapsulated: boolean;
  /** NAT detected in front of us / in front of the peer (RFC 7296 2.23; forced encapsulation shows as the peer's). */
  readonly natLocal: boolean;
  readonly natRemote: boolean;
  /** How datagrams reach the peer now: UDP, or an RFC 9329 TCP stream (`tcp`: its local-remote addresses). */
  readonly transport?: 'udp' | 'tcp';
  readonly tcp?: string;
  /** RFC 8784: the PPK_ID mixed into the keys (never the key). */
  readonly ppkId?: string;
  readonly children: ChildSaStatus[];
}

export interface DaemonStatus {
  readonly pid: number;
  /** 'running' or, in the last snapshot, 'stopped'. */
  readonly state: 'starting' | 'running' | 'stopping' | 'stopped';
  readonly updated: string;
  readonly ikeSas: IkeSaStatus[];
  readonly counters: Readonly<Record<string, number>>;
}

export function spi32Hex(spi: number): string {
  return (spi >>> 0).toString(16).padStart(8, '0');
}

export interface EspCounters {
  bytes: number;
  packets: number;
  /** Non-zero drop counters by reason name. */
  drops?: Readonly<Record<string, number>>;
}

const some = (d: Readonly<Record<string, number>> | undefined): d is Readonly<Record<string, number>> => d !== undefined && Object.keys(d).length > 0;

export function childStatus(c: ChildSaInfo, counters?: (spi: number, dir: 'in' | 'out') => EspCounters | undefined): ChildSaStatus {
  const cin = counters?.(c.spiIn, 'in');
  const cout = counters?.(c.spiOut, 'out');
  return {
    id: c.id,
    name: c.name,
    suite: c.suite,
    spiIn: spi32Hex(c.spiIn),
    spiOut: spi32Hex(c.spiOut),
    localTs: c.localTs.map(formatTrafficSelector),
    remoteTs: c.remoteTs.map(formatTrafficSelector),
    encapsulated: c.encapsulated,
    ...(cin ? { bytesIn: cin.bytes, packetsIn: cin.packets } : {}),
    ...(cout ? { bytesOut: cout.bytes, packetsOut: cout.packets } : {}),
    ...(some(cin?.drops) ? { dropsIn: cin.drops } : {}),
    ...(some(cout?.drops) ? { dropsOut: cout.drops } : {}),
  };
}

export function ikeStatus(sa: IkeSaInfo, children: readonly ChildSaStatus[]): IkeSaStatus {
  return {
    id: sa.id,
    name: sa.name,
    state: sa.state,
    initiator: sa.initiator,
    spiI: spiHex(sa.spiI),
    spiR: spiHex(sa.spiR),
    local: `${sa.local.address}[${sa.local.port}]`,
    remote: `${sa.remote.address}[${sa.remote.port}]`,
    localId: sa.localId,
    remoteId: sa.remoteId,
    suite: sa.suite,
    encapsulated: sa.encapsulated,
    natLocal: sa.natDetected.local,
    natRemote: sa.natDetected.remote,
    ...(sa.ppkId !== undefined ? { ppkId: sa.ppkId } : {}),
    children: [...children],
  };
}

/** Writes `status` to `path` atomically (write a sibling, rename over). */
export function writeStatusFile(path: string, status: DaemonStatus): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(status, null, 2) + '\n');
  renameSync(tmp, path);
}

/** The daemon's status from its gateway core: SAs with ESP counters, the core's counters and the TUN's. */
export function gatewayStatus(gateway: Gateway, state: DaemonStatus['state'], tun?: TunStats): DaemonStatus {
  const counters = (spi: number, dir: 'in' | 'out'): EspCounters | undefined => {
    const sa = gateway.engine.getSa(spi, dir);
    return sa ? { bytes: sa.bytes, packets: sa.packets, drops: dropCountsByName(sa.drops) } : undefined;
  };
  const t: Record<string, number> = tun ? { tunRxPackets: tun.rxPackets, tunTxPackets: tun.txPackets, tunRxDropped: tun.rxDropped, tunTxDropped: tun.txDropped, tunErrors: tun.errors } : {};
  return {
    pid: process.pid,
    state,
    updated: new Date().toISOString(),
    ikeSas: gateway.endpoint.listSas().map(({ sa, children }) => ikeStatus(sa, children.map((c) => childStatus(c, counters)))),
    counters: { ...gateway.allCounters(), ...t },
  };
}

/** SIGUSR1's log lines (dmn group, level 0, so they show at every level but -1). */
export function statusLines(st: DaemonStatus): string[] {
  const lines = [`status: ${st.ikeSas.length} IKE SA(s), counters ${JSON.stringify(st.counters)}`];
  for (const sa of st.ikeSas) {
    lines.push(`  ${sa.name}[${sa.id}]: ${sa.state}, ${sa.local}[${sa.localId}]...${sa.remote}[${sa.remoteId}], SPIs ${sa.spiI}_i ${sa.spiR}_r, ${sa.suite}${sa.transport === 'tcp' ? `, over TCP ${sa.tcp ?? ''}` : ''}`);
    for (const c of sa.children) {
      lines.push(`    ${c.name}{${c.id}}: ${c.suite}, SPIs ${c.spiIn}_i ${c.spiOut}_o, ${c.localTs.join(' ')} === ${c.remoteTs.join(' ')}`);
      const drops = [['in', c.dropsIn], ['out', c.dropsOut]] as const;
      for (const [dir, d] of drops) if (d) lines.push(`      dropped ${dir}: ${Object.entries(d).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    }
  }
  return lines;
}

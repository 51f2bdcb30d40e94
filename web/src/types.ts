/** The JSON the console's API sends (src/console/views.ts and hub.ts). */
export interface ChildView {
  name: string;
  uniqueId: string;
  state: string;
  mode: string;
  protocol: string;
  suite: string;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  localTs: string[];
  remoteTs: string[];
  installTime: number;
}
export interface SaView {
  name: string;
  uniqueId: string;
  state: string;
  localHost: string;
  remoteHost: string;
  localId: string;
  remoteId: string;
  remoteEapId: string;
  initiator: boolean;
  suite: string;
  established: number;
  children: ChildView[];
}
export interface TimelineEntry {
  t: number;
  kind: string;
  name: string;
  detail: string;
}
export interface LogLine {
  t: number;
  group: string;
  level: number;
  ike: string;
  msg: string;
}
export interface TrafficSample {
  t: number;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
}
export interface Hello {
  user: string;
  t: number;
  sas: SaView[];
  timeline: TimelineEntry[];
  logs: LogLine[];
  history: Record<string, TrafficSample[]>;
  vici: { connected: boolean; error: string | null };
}

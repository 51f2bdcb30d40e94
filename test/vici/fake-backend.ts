/**
 * A scripted ViciBackend for the server, client and swanctl tests: one established site-to-site IKE_SA with one
 * CHILD_SA, one configured connection; initiate/terminate log a few lines and record what they were asked.
 */
import type {
  InitiateRequest,
  RekeyRequest,
  TerminateRequest,
  ViciBackend,
  ViciConn,
  ViciIkeSa,
  ViciResult,
  ViciStats,
  ViciVersionInfo,
} from '../../src/vici/backend.js';
import type { ViciMessage } from '../../src/vici/message.js';

export const GW_SA: ViciIkeSa = {
  name: 'gw',
  uniqueId: 1,
  version: 2,
  state: 'ESTABLISHED',
  localHost: '192.0.2.1',
  localPort: 4500,
  localId: 'moon',
  remoteHost: '192.0.2.2',
  remotePort: 4500,
  remoteId: 'sun',
  initiator: true,
  spiI: Uint8Array.from([0x1d, 0x9d, 0xa4, 0xe9, 0x55, 0x29, 0xaa, 0x65]),
  spiR: Uint8Array.from([0x4c, 0xb5, 0x62, 0x01, 0x5d, 0x8c, 0xa5, 0xf9]),
  natAny: true,
  natFake: true,
  encrAlg: 'AES_GCM_16',
  encrKeySize: 256,
  prfAlg: 'PRF_HMAC_SHA2_256',
  dhGroup: 'CURVE_25519',
  established: 42,
  rekeyTime: 13000,
  children: [
    {
      name: 'net',
      uniqueId: 3,
      reqId: 1,
      state: 'INSTALLED',
      mode: 'TUNNEL',
      protocol: 'ESP',
      encap: true,
      spiIn: 0xc1a2b3c4,
      spiOut: 0x0badf00d,
      encrAlg: 'AES_CBC',
      encrKeySize: 128,
      integAlg: 'HMAC_SHA2_256_128',
      bytesIn: 8400,
      packetsIn: 100,
      bytesOut: 16800,
      packetsOut: 200,
      useIn: 1,
      useOut: 2,
      rekeyTime: 3000,
      lifeTime: 3500,
      installTime: 40,
      localTs: ['10.1.0.0/16'],
      remoteTs: ['10.2.0.0/16', '10.3.0.0/24[tcp/80]'],
    },
  ],
};

export const GW_CONN: ViciConn = {
  name: 'gw',
  localAddrs: ['192.0.2.1'],
  remoteAddrs: ['192.0.2.2'],
  version: 'IKEv2',
  reauthTime: 0,
  rekeyTime: 14400,
  unique: 'UNIQUE_NO',
  dpdDelay: 30,
  local: [{ class: 'pre-shared key', id: 'moon' }],
  remote: [{ class: 'pre-shared key', id: 'sun' }],
  children: [
    {
      name: 'net',
      mode: 'TUNNEL',
      rekeyTime: 3600,
      rekeyBytes: 0,
      rekeyPackets: 0,
      dpdAction: 'clear',
      closeAction: 'none',
      localTs: ['10.1.0.0/16'],
      remoteTs: ['10.2.0.0/16'],
    },
  ],
};

export class FakeBackend implements ViciBackend {
  sas: ViciIkeSa[] = [GW_SA];
  conns: ViciConn[] = [GW_CONN];
  initiated: Omit<InitiateRequest, 'onLog' | 'signal'>[] = [];
  terminated: Omit<TerminateRequest, 'onLog' | 'signal'>[] = [];
  rekeyed: RekeyRequest[] = [];
  reloads = 0;
  /** How long initiate takes (ms) and whether it succeeds. */
  initiateDelayMs = 0;
  initiateResult: ViciResult = { success: true };
  reloadResult: ViciResult = { success: true };

  version(): ViciVersionInfo {
    return { daemon: 'cygnet', version: '0.1.0' };
  }
  stats(): ViciStats {
    return { ikeSas: { total: this.sas.length, halfOpen: 0 }, plugins: ['cygnet-ike', 'cygnet-esp', 'vici'], scheduled: 2 };
  }
  listConns(): ViciConn[] {
    return this.conns;
  }
  listSas(): ViciIkeSa[] {
    return this.sas;
  }
  /** Signals of initiate calls, to check the server aborts them once the reply is sent. */
  signals: AbortSignal[] = [];
  async initiate(req: InitiateRequest): Promise<ViciResult> {
    const { onLog, signal, ...rest } = req;
    this.signals.push(signal);
    this.initiated.push(rest);
    const conn = this.conns.find((c) => c.name === req.ike || c.children.some((ch) => ch.name === req.child));
    if (!conn) return { success: false, errmsg: `CHILD_SA config '${req.child ?? req.ike}' not found` };
    onLog({ group: 'ike', level: 1, ikeSaName: conn.name, ikeSaUniqueId: 7, message: `initiating IKE_SA ${conn.name}[7] to 192.0.2.2` });
    onLog({ group: 'ike', level: 2, message: 'a level-2 line that loglevel 1 filters out' });
    if (this.initiateDelayMs) await new Promise((r) => setTimeout(r, this.initiateDelayMs));
    onLog({ group: 'chd', level: 1, ikeSaName: conn.name, ikeSaUniqueId: 7, message: `CHILD_SA ${req.child ?? 'net'}{4} established` });
    return this.initiateResult;
  }
  async terminate(req: TerminateRequest): Promise<ViciResult> {
    const { onLog, signal, ...rest } = req;
    void signal;
    this.terminated.push(rest);
    const matches = this.sas.filter((s) => (req.ike === undefined || s.name === req.ike) && (req.ikeId === undefined || s.uniqueId === req.ikeId));
    if (matches.length === 0) return { success: false, errmsg: 'no matching SAs to terminate found', matches: 0 };
    for (const s of matches) onLog({ group: 'ike', level: 1, ikeSaName: s.name, ikeSaUniqueId: s.uniqueId, message: `deleting IKE_SA ${s.name}[${s.uniqueId}]` });
    return { success: true, matches: matches.length };
  }
  rekey(req: RekeyRequest): ViciResult {
    this.rekeyed.push(req);
    return { success: true, matches: 1 };
  }
  reload(): ViciResult {
    this.reloads++;
    return this.reloadResult;
  }
  /** Connections pushed by load-conn, with their vici sections as received. */
  loaded = new Map<string, ViciMessage>();
  loadConn(name: string, section: ViciMessage): ViciResult {
    if (name === 'broken') return { success: false, errmsg: "connections.broken.dpd_delay: invalid duration 'x'" };
    this.loaded.set(name, section);
    return { success: true };
  }
  unloadConn(name: string): ViciResult {
    if (!this.loaded.delete(name)) return { success: false, errmsg: `connection '${name}' not found` };
    return { success: true };
  }
}

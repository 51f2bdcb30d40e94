/**
 * charon's vici commands (strongSwan vici README "Client-initiated commands"; layouts as charon 5.9's
 * vici_query.c / vici_control.c build them, so Debian's swanctl prints our replies) on top of a ViciBackend.
 *
 * Commands: version, stats, list-sas (streams list-sa), list-conns (streams list-conn), get-conns, initiate and
 * terminate (stream control-log), rekey, reload-settings and cygnet's `reload` (both reload the configuration
 * file: cygnet has no strongswan.conf, its settings live in the swanctl.conf-syntax file); the configuration
 * commands of swanctl --load-all (commands-config.ts) and the other queries (commands-query.ts).
 */
import { escapeLogText } from '../util/escape-text.js';
import { arch, machine, release, type } from 'node:os';
import type { InitiateRequest, TerminateRequest, ViciBackend, ViciChildSa, ViciConn, ViciIkeSa, ViciLogLine, ViciResult, ViciStats } from './backend.js';
import { str, type ViciInput, type ViciMessage } from './message.js';
import type { CommandContext, ViciServer } from './server.js';
import { registerConfigCommands } from './commands-config.js';
import { registerQueryCommands } from './commands-query.js';

/** Events charon 5.9 knows; registering for any of them is confirmed even if cygnet never raises some. */
export const VICI_EVENTS = [
  'log',
  'control-log',
  'list-sa',
  'list-policy',
  'list-conn',
  'list-cert',
  'list-authority',
  'ike-updown',
  'ike-rekey',
  'ike-update',
  'child-updown',
  'child-rekey',
] as const;

export interface ViciCommandOptions {
  /** Wall clock in ms (default Date.now): for stats' uptime. */
  readonly now?: () => number;
  /** When the daemon started, ms since the epoch (default: when registerViciCommands was called). */
  readonly startedAt?: number;
  /** Extra timers for tests; defaults to the global ones. */
  readonly setTimeout?: (fn: () => void, ms: number) => unknown;
  readonly clearTimeout?: (h: unknown) => void;
  /** charon's DBG_CFG lines of the load-/unload- commands ("added vici connection: x", "loaded certificate ..."). */
  readonly log?: (level: number, message: string) => void;
}

/** A section holding one named entry, safe for any name (no prototype setter for "__proto__"). */
function named(name: string, value: ViciInput): ViciInput {
  const o = Object.create(null) as ViciInput;
  o[name] = value;
  return o;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** 32-bit SPI as charon prints it: "%.8x". */
export function spi32(spi: number): string {
  return (spi >>> 0).toString(16).padStart(8, '0');
}

/** vici_query.c list_ake (strongSwan 6): `ake1`..`ake7` = the additional key exchange methods (RFC 9370). */
function addAke(b: ViciInput, ake: Readonly<Record<number, string>> | undefined): void {
  if (!ake) return;
  for (let n = 1; n <= 7; n++) {
    const name = ake[n];
    if (name !== undefined) b[`ake${n}`] = name;
  }
}

/** The body of a CHILD_SA entry in list-sa (vici_query.c list_child): key order as charon. */
export function childSaBody(c: ViciChildSa): ViciInput {
  const installed = c.state === 'INSTALLED' || c.state === 'REKEYING' || c.state === 'REKEYED';
  const b: ViciInput = { name: c.name, uniqueid: c.uniqueId, reqid: c.reqId, state: c.state, mode: c.mode };
  if (installed) {
    b.protocol = c.protocol;
    if (c.encap) b.encap = 'yes';
    b['spi-in'] = spi32(c.spiIn);
    b['spi-out'] = spi32(c.spiOut);
    if (c.encrAlg !== undefined) {
      b['encr-alg'] = c.encrAlg;
      if (c.encrKeySize) b['encr-keysize'] = c.encrKeySize;
    }
    if (c.integAlg !== undefined) {
      b['integ-alg'] = c.integAlg;
      if (c.integKeySize) b['integ-keysize'] = c.integKeySize;
    }
    if (c.dhGroup !== undefined) b['dh-group'] = c.dhGroup;
    addAke(b, c.ake);
    if (c.esn) b.esn = '1';
    b['bytes-in'] = c.bytesIn;
    b['packets-in'] = c.packetsIn;
    if (c.useIn !== undefined) b['use-in'] = c.useIn;
    b['bytes-out'] = c.bytesOut;
    b['packets-out'] = c.packetsOut;
    if (c.useOut !== undefined) b['use-out'] = c.useOut;
    if (c.rekeyTime !== undefined) b['rekey-time'] = c.rekeyTime;
    if (c.lifeTime !== undefined) b['life-time'] = c.lifeTime;
    b['install-time'] = c.installTime;
    // cygnet: drops by reason (issue 15), only when there are any; swanctl skips keys it does not know.
    if (c.dropsIn) b['drops-in'] = { ...c.dropsIn };
    if (c.dropsOut) b['drops-out'] = { ...c.dropsOut };
  }
  b['local-ts'] = [...c.localTs];
  b['remote-ts'] = [...c.remoteTs];
  return b;
}

/** The body of an IKE_SA entry in list-sa / ike-updown (vici_query.c list_ike), without child-sas. */
export function ikeSaBody(sa: ViciIkeSa): ViciInput {
  const b: ViciInput = {
    uniqueid: sa.uniqueId,
    version: sa.version ?? 2,
    state: sa.state,
    'local-host': sa.localHost,
    'local-port': sa.localPort,
    'local-id': sa.localId,
    'remote-host': sa.remoteHost,
    'remote-port': sa.remotePort,
    'remote-id': sa.remoteId,
  };
  if (sa.remoteEapId !== undefined) b['remote-eap-id'] = sa.remoteEapId;
  if (sa.initiator) b.initiator = 'yes';
  b['initiator-spi'] = hex(sa.spiI);
  b['responder-spi'] = hex(sa.spiR);
  if (sa.natLocal) b['nat-local'] = 'yes';
  if (sa.natRemote) b['nat-remote'] = 'yes';
  if (sa.natFake) b['nat-fake'] = 'yes';
  if (sa.natAny ?? (sa.natLocal || sa.natRemote || sa.natFake)) b['nat-any'] = 'yes';
  // cygnet's addition (RFC 9329), only when not UDP, as charon adds keys only when they apply.
  if (sa.transport) b.transport = sa.transport;
  // RFC 8784: whether a post-quantum preshared key protects this SA, and which (its ID, never the key).
  if (sa.ppkId !== undefined) {
    b.ppk = 'yes';
    b['ppk-id'] = sa.ppkId;
  }
  if (sa.encrAlg !== undefined) {
    b['encr-alg'] = sa.encrAlg;
    if (sa.encrKeySize) b['encr-keysize'] = sa.encrKeySize;
  }
  if (sa.integAlg !== undefined) {
    b['integ-alg'] = sa.integAlg;
    if (sa.integKeySize) b['integ-keysize'] = sa.integKeySize;
  }
  if (sa.prfAlg !== undefined) b['prf-alg'] = sa.prfAlg;
  if (sa.dhGroup !== undefined) b['dh-group'] = sa.dhGroup;
  addAke(b, sa.ake);
  if (sa.state === 'ESTABLISHED' && sa.established !== undefined) {
    b.established = sa.established;
    if (sa.rekeyTime !== undefined) b['rekey-time'] = sa.rekeyTime;
    if (sa.reauthTime !== undefined) b['reauth-time'] = sa.reauthTime;
  }
  // charon adds these lists only when non-empty.
  if (sa.localVips?.length) b['local-vips'] = [...sa.localVips];
  if (sa.remoteVips?.length) b['remote-vips'] = [...sa.remoteVips];
  if (sa.tasksQueued?.length) b['tasks-queued'] = [...sa.tasksQueued];
  if (sa.tasksActive?.length) b['tasks-active'] = [...sa.tasksActive];
  if (sa.tasksPassive?.length) b['tasks-passive'] = [...sa.tasksPassive];
  return b;
}

/** One list-sa event: `<ike name> { ...ike, child-sas { <child>-<uniqueid> { ... } } }`. */
export function listSaEvent(sa: ViciIkeSa): ViciInput {
  const body = ikeSaBody(sa);
  const children = Object.create(null) as ViciInput;
  for (const c of sa.children) children[`${c.name}-${c.uniqueId}`] = childSaBody(c);
  body['child-sas'] = children;
  return named(sa.name, body);
}

/** One list-conn event (vici_query.c list_conns). */
export function listConnEvent(c: ViciConn): ViciInput {
  const body: ViciInput = {
    local_addrs: [...c.localAddrs],
    remote_addrs: [...c.remoteAddrs],
    version: c.version ?? 'IKEv2',
    reauth_time: c.reauthTime,
    rekey_time: c.rekeyTime,
    unique: c.unique ?? 'UNIQUE_NO',
  };
  if (c.dpdDelay) body.dpd_delay = c.dpdDelay;
  if (c.dpdTimeout) body.dpd_timeout = c.dpdTimeout;
  const auth = (side: 'local' | 'remote', list: ViciConn['local']): void => {
    list.forEach((a, i) => {
      const s: ViciInput = { class: a.class };
      if (a.eapType !== undefined) s['eap-type'] = a.eapType;
      if (a.id !== undefined) s.id = a.id;
      if (a.eapId !== undefined) s.eap_id = a.eapId;
      s.groups = [];
      s.certs = [...(a.certs ?? [])];
      s.cacerts = [...(a.cacerts ?? [])];
      body[`${side}-${i + 1}`] = s;
    });
  };
  auth('local', c.local);
  auth('remote', c.remote);
  const children = Object.create(null) as ViciInput;
  for (const ch of c.children) {
    children[ch.name] = {
      mode: ch.mode,
      rekey_time: ch.rekeyTime,
      rekey_bytes: ch.rekeyBytes,
      rekey_packets: ch.rekeyPackets,
      dpd_action: ch.dpdAction,
      close_action: ch.closeAction,
      ...(ch.startAction !== undefined ? { start_action: ch.startAction } : {}),
      'local-ts': [...ch.localTs],
      'remote-ts': [...ch.remoteTs],
    };
  }
  body.children = children;
  return named(c.name, body);
}

/** control-log event (vici README "control-log"; charon spells the id key "ikesa-uniqueid"). */
export function controlLogEvent(l: ViciLogLine): ViciInput {
  // charon sends debug_names (IKE, CFG, CHD...): swanctl prints them as they come.
  const m: ViciInput = { group: l.group.toUpperCase(), level: l.level };
  if (l.ikeSaName !== undefined) m['ikesa-name'] = l.ikeSaName;
  if (l.ikeSaUniqueId !== undefined) m['ikesa-uniqueid'] = l.ikeSaUniqueId;
  // swanctl prints msg as it comes: peer-controlled text (IDs, subjects) must not forge lines (issue 11).
  m.msg = escapeLogText(l.message);
  return m;
}

/**
 * `log` event for server.emit (vici README "log"): what `swanctl --log` prints. `thread` is charon's worker thread
 * number; cygnet has one event loop, so 0 unless the caller says otherwise.
 */
export function logEvent(l: ViciLogLine, thread = 0): ViciInput {
  const m: ViciInput = { group: l.group.toUpperCase(), level: l.level, thread };
  if (l.ikeSaName !== undefined) m['ikesa-name'] = l.ikeSaName;
  if (l.ikeSaUniqueId !== undefined) m['ikesa-uniqueid'] = l.ikeSaUniqueId;
  // swanctl prints msg as it comes: peer-controlled text (IDs, subjects) must not forge lines (issue 11).
  m.msg = escapeLogText(l.message);
  return m;
}

/** `ike-updown` event: `up = yes` (only when up, as charon) and the IKE_SA as in list-sa, without child-sas. */
export function ikeUpdownEvent(sa: ViciIkeSa, up: boolean): ViciInput {
  const m: ViciInput = up ? { up: 'yes' } : {};
  m[sa.name] = ikeSaBody(sa);
  return m;
}

/** `child-updown` event: the IKE_SA with only the affected CHILD_SA in child-sas. */
export function childUpdownEvent(sa: ViciIkeSa, child: ViciChildSa, up: boolean): ViciInput {
  const m: ViciInput = up ? { up: 'yes' } : {};
  const body = ikeSaBody(sa);
  const children = Object.create(null) as ViciInput;
  children[`${child.name}-${child.uniqueId}`] = childSaBody(child);
  body['child-sas'] = children;
  m[sa.name] = body;
  return m;
}

/** `ike-rekey` event: `<name> { old {...} new {...} }`. */
export function ikeRekeyEvent(oldSa: ViciIkeSa, newSa: ViciIkeSa): ViciInput {
  return named(newSa.name, { old: ikeSaBody(oldSa), new: ikeSaBody(newSa) });
}

/** `child-rekey` event: the IKE_SA with `child-sas { <child>-<id> { old {...} new {...} } }`. */
export function childRekeyEvent(sa: ViciIkeSa, oldChild: ViciChildSa, newChild: ViciChildSa): ViciInput {
  const body = ikeSaBody(sa);
  const children = Object.create(null) as ViciInput;
  children[`${newChild.name}-${newChild.uniqueId}`] = { old: childSaBody(oldChild), new: childSaBody(newChild) };
  body['child-sas'] = children;
  return named(sa.name, body);
}

/** strongSwan's %V (time_delta_printf): "42 seconds", "5 minutes", "3 hours", "2 days". */
export function formatTimeDelta(seconds: number): string {
  let d = Math.max(0, Math.floor(seconds));
  let unit = 'second';
  if (d > 2 * 60 * 60 * 24) {
    d = Math.floor(d / (60 * 60 * 24));
    unit = 'day';
  } else if (d > 2 * 60 * 60) {
    d = Math.floor(d / (60 * 60));
    unit = 'hour';
  } else if (d > 2 * 60) {
    d = Math.floor(d / 60);
    unit = 'minute';
  }
  return `${d} ${unit}${d === 1 ? '' : 's'}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** strongSwan's %T (time_printf, local time): "Nov 22 23:15:57 2026". */
export function formatTime(ms: number): string {
  const t = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${MONTHS[t.getMonth()]} ${p(t.getDate())} ${p(t.getHours())}:${p(t.getMinutes())}:${p(t.getSeconds())} ${t.getFullYear()}`;
}

const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;

export function statsReply(s: ViciStats, startedAt: number, now: number): ViciInput {
  const active = Object.create(null) as ViciInput;
  const queues = Object.create(null) as ViciInput;
  for (const p of PRIORITIES) {
    active[p] = s.workers?.active?.[p] ?? 0;
    queues[p] = s.queues?.[p] ?? 0;
  }
  return {
    uptime: { running: formatTimeDelta((now - startedAt) / 1000), since: formatTime(startedAt) },
    workers: { total: s.workers?.total ?? 1, idle: s.workers?.idle ?? 1, active },
    queues,
    scheduled: s.scheduled ?? 0,
    ikesas: { total: s.ikeSas.total, 'half-open': s.ikeSas.halfOpen },
    plugins: [...(s.plugins ?? [])],
    // cygnet: ESP drops since start by reason (issue 15); absent when the backend has no ESP engine.
    ...(s.espDrops ? { 'esp-drops': { ...s.espDrops } } : {}),
  };
}

function optStr(msg: ViciMessage, key: string): string | undefined {
  const v = str(msg[key]);
  return v === undefined || v === '' ? undefined : v;
}

/** Integer value of a key (charon's get_int: absent or unparsable gives the default). */
function optInt(msg: ViciMessage, key: string, def: number): number {
  const v = optStr(msg, key);
  if (v === undefined || !/^-?\d+$/.test(v.trim())) return def;
  return Number.parseInt(v, 10);
}

/** charon's get_bool: yes/true/enabled/1 are true. */
function optBool(msg: ViciMessage, key: string): boolean {
  const v = optStr(msg, key)?.toLowerCase();
  return v === 'yes' || v === 'true' || v === 'enabled' || v === 'on' || v === '1';
}

function resultReply(r: ViciResult): ViciInput {
  const m: ViciInput = { success: r.success ? 'yes' : 'no' };
  if (r.matches !== undefined) m.matches = r.matches;
  if (!r.success || r.errmsg !== undefined) m.errmsg = r.errmsg ?? 'failed';
  return m;
}

/**
 * Run a control command with charon's timeout rule (vici README: "The default timeout of 0 waits indefinitely for
 * a result, and a timeout value of -1 returns a result immediately") and forward log lines as control-log events
 * while the command is active (only to that client, only up to its loglevel).
 */
async function controlled(
  ctx: CommandContext,
  timeoutMs: number,
  timers: Required<Pick<ViciCommandOptions, 'setTimeout' | 'clearTimeout'>>,
  onTimeout: string,
  run: (onLog: (l: ViciLogLine) => void, signal: AbortSignal) => Promise<ViciResult>,
  logLevel: number,
): Promise<ViciInput> {
  const abort = new AbortController();
  const onClientGone = (): void => abort.abort();
  ctx.signal.addEventListener('abort', onClientGone, { once: true });
  let active = true;
  const onLog = (l: ViciLogLine): void => {
    if (active && l.level <= logLevel) ctx.emit('control-log', controlLogEvent(l));
  };
  const work = run(onLog, abort.signal);
  try {
    if (timeoutMs < 0) {
      // Detached: the operation goes on; its outcome is not reported to this client.
      work.catch(() => {});
      return { success: 'yes' };
    }
    if (timeoutMs === 0) return resultReply(await work);
    let handle: unknown;
    const timedOut = new Promise<ViciResult>((resolve) => {
      handle = timers.setTimeout(() => resolve({ success: false, errmsg: onTimeout }), timeoutMs);
    });
    work.catch(() => {});
    try {
      return resultReply(await Promise.race([work, timedOut]));
    } finally {
      timers.clearTimeout(handle);
    }
  } finally {
    // The reply is decided: stop forwarding logs and tell the backend nobody waits any more (the operation itself
    // goes on, as in charon when swanctl detaches).
    active = false;
    ctx.signal.removeEventListener('abort', onClientGone);
    abort.abort();
  }
}

/** Install charon's commands and event sources on `server`, backed by `backend`. */
export function registerViciCommands(server: ViciServer, backend: ViciBackend, opts: ViciCommandOptions = {}): ViciServer {
  const now = opts.now ?? Date.now;
  const startedAt = opts.startedAt ?? now();
  const timers = {
    setTimeout: opts.setTimeout ?? ((fn: () => void, ms: number) => setTimeout(fn, ms)),
    clearTimeout: opts.clearTimeout ?? ((h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>)),
  };
  server.event(...VICI_EVENTS);

  server.command('version', async () => {
    const v = await backend.version();
    let mach: string;
    try {
      mach = machine();
    } catch {
      mach = arch();
    }
    return { daemon: v.daemon, version: v.version, sysname: type(), release: release(), machine: mach };
  });

  server.command('stats', async () => statsReply(await backend.stats(), startedAt, now()));

  server.command('list-sas', async (msg, ctx) => {
    const ike = optStr(msg, 'ike');
    // swanctl sends "ike-id"; the README documents "ike_id": accept both.
    const ikeId = optInt(msg, 'ike-id', optInt(msg, 'ike_id', 0));
    for (const sa of await backend.listSas()) {
      if (ike !== undefined && sa.name !== ike) continue;
      if (ikeId && sa.uniqueId !== ikeId) continue;
      ctx.emit('list-sa', listSaEvent(sa));
    }
    return {};
  });

  server.command('list-conns', async (msg, ctx) => {
    const ike = optStr(msg, 'ike');
    for (const c of await backend.listConns()) {
      if (ike !== undefined && c.name !== ike) continue;
      ctx.emit('list-conn', listConnEvent(c));
    }
    return {};
  });

  // load-/unload-/get- for connections, credentials, authorities and pools; list-certs, list-policies, counters...
  const store = registerConfigCommands(server, backend, opts.log ? { log: opts.log } : {});
  registerQueryCommands(server, backend, store);

  server.command('initiate', async (msg, ctx) => {
    const child = optStr(msg, 'child');
    const ike = optStr(msg, 'ike');
    if (child === undefined && ike === undefined) return { success: 'no', errmsg: 'missing configuration name' };
    const timeoutMs = optInt(msg, 'timeout', 0);
    const logLevel = optInt(msg, 'loglevel', 1);
    const what = child !== undefined ? `CHILD_SA '${child}'` : `IKE_SA '${ike}'`;
    return controlled(
      ctx,
      timeoutMs,
      timers,
      `${what} not established after ${timeoutMs}ms`,
      (onLog, signal) => {
        const req: InitiateRequest = { ...(child !== undefined ? { child } : {}), ...(ike !== undefined ? { ike } : {}), timeoutMs, logLevel, onLog, signal };
        return backend.initiate(req);
      },
      logLevel,
    );
  });

  server.command('terminate', async (msg, ctx) => {
    const child = optStr(msg, 'child');
    const ike = optStr(msg, 'ike');
    const childId = optInt(msg, 'child-id', optInt(msg, 'child_id', 0));
    const ikeId = optInt(msg, 'ike-id', optInt(msg, 'ike_id', 0));
    if (child === undefined && ike === undefined && !childId && !ikeId) return { success: 'no', errmsg: 'missing terminate selector' };
    const timeoutMs = optInt(msg, 'timeout', 0);
    const logLevel = optInt(msg, 'loglevel', 1);
    const force = optBool(msg, 'force');
    return controlled(
      ctx,
      timeoutMs,
      timers,
      `terminating SA(s) did not complete after ${timeoutMs}ms`,
      (onLog, signal) => {
        const req: TerminateRequest = {
          ...(child !== undefined ? { child } : {}),
          ...(ike !== undefined ? { ike } : {}),
          ...(childId ? { childId } : {}),
          ...(ikeId ? { ikeId } : {}),
          force,
          timeoutMs,
          logLevel,
          onLog,
          signal,
        };
        return backend.terminate(req);
      },
      logLevel,
    );
  });

  server.command('rekey', async (msg) => {
    const child = optStr(msg, 'child');
    const ike = optStr(msg, 'ike');
    const childId = optInt(msg, 'child-id', optInt(msg, 'child_id', 0));
    const ikeId = optInt(msg, 'ike-id', optInt(msg, 'ike_id', 0));
    if (child === undefined && ike === undefined && !childId && !ikeId) return { success: 'no', errmsg: 'missing rekey selector' };
    const r = await backend.rekey({
      ...(child !== undefined ? { child } : {}),
      ...(ike !== undefined ? { ike } : {}),
      ...(childId ? { childId } : {}),
      ...(ikeId ? { ikeId } : {}),
      reauth: optBool(msg, 'reauth'),
    });
    return resultReply(r);
  });

  const reload = async (): Promise<ViciInput> => resultReply(await backend.reload());
  server.command('reload-settings', reload);
  server.command('reload', reload);
  return server;
}

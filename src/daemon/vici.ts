/**
 * The daemon's vici socket (strongSwan's protocol: swanctl --uri unix://PATH, `cygnet status|up|down|...`):
 * IkeViciBackend over the driver, plus what swanctl --load-all, --list-*, --counters, --log and --monitor-sa need.
 *
 * - Configuration loaded over vici lives in a ViciStore; `ViciConfigSource.extra()` hands it to
 *   loadDaemonConfig, which merges it into the file's tree before src/config's one build, and the daemon's
 *   reload path (the one SIGHUP takes) applies the result: unchanged connections keep their SAs.
 * - `log` events: every line the daemon logs (at its configured levels) goes to clients registered for `log`.
 * - ike-updown, child-updown, ike-rekey, child-rekey, ike-update: raised by IkeViciBackend from the IkeEvents.
 * - Counters (charon's counters plugin names): IKE messages as the driver sends and receives them, rekeys.
 */
import type { Daemon } from './driver.js';
import type { ExtraConfig } from './connections.js';
import type { Logger } from './logger.js';
import { formatIp } from '../net/ip-address.js';
import { formatTrafficSelector } from '../ike/traffic-selector.js';
import { IkeViciBackend, logEvent, registerViciCommands, ViciServer, type ViciPolicy, type ViciPool, type ViciResult } from '../vici/index.js';
import type { ViciStore } from '../vici/store.js';

/** What vici clients loaded, for loadDaemonConfig (undefined until something was). */
export class ViciConfigSource {
  store: ViciStore | undefined;

  extra(): ExtraConfig | undefined {
    const s = this.store;
    if (!s || s.empty) return undefined;
    return {
      tree: s.toSettingsObject(),
      credentials: { ...s.credentials(), certificate: (name: string) => s.certificate(name) },
    };
  }
}

export interface StartViciOptions {
  readonly path: string;
  /** Rebuild and apply the configuration (file + source.extra()), as SIGHUP does. */
  readonly reload: () => ViciResult;
  readonly logger: Logger;
  readonly source: ViciConfigSource;
  readonly version: string;
}

/** vici pools: the endpoint's address pools with their use (get-pools, swanctl --list-pools). */
export function daemonPools(daemon: Daemon): ViciPool[] {
  return [...daemon.endpoint.pools().entries()].map(([name, p]) => {
    const st = p.stats();
    return { name, base: formatIp(p.config.first), size: st.size, online: st.online, offline: st.offline };
  });
}

/** vici list-policies: the trap policies the driver installed. */
export function daemonPolicies(daemon: Daemon): ViciPolicy[] {
  return daemon.trapPolicyList().map((t) => ({
    ike: t.conn,
    child: t.child,
    mode: 'TUNNEL',
    localTs: t.local.map(formatTrafficSelector),
    remoteTs: t.remote.map(formatTrafficSelector),
  }));
}

export async function startVici(daemon: Daemon, o: StartViciOptions): Promise<ViciServer> {
  const { logger, source } = o;
  const backend = new IkeViciBackend(
    {
      initiate: (conn, child) => daemon.initiate(conn, child),
      terminateIke: (id) => daemon.terminateIke(id),
      terminateChild: (id) => daemon.terminateChild(id),
      rekeyIke: (id, reauth) => daemon.rekeyIke(id, reauth),
      rekeyChild: (id) => daemon.rekeyChild(id),
      listSas: () => daemon.endpoint.listSas(),
      connections: () => daemon.endpoint.connections(),
      halfOpenCount: () => daemon.endpoint.halfOpenCount(),
      reload: o.reload,
      now: () => daemon.now(),
      childExtras: (c) => daemon.childExtras(c),
      ikeExtras: (sa) => (daemon.tcp.transportOf(sa.remote) === 'tcp' ? { transport: 'tcp' } : undefined),
      scheduled: () => daemon.scheduled(),
      // Counters: ESP drops by reason for stats and get-counters (issue 15).
      espDrops: () => daemon.engine.dropCounts(),
      applyVici: (store) => {
        source.store = store;
        return o.reload();
      },
      pools: () => daemonPools(daemon),
      policies: () => daemonPolicies(daemon),
      install: (child, ike) => {
        const conn = daemon.endpoint.connections().find((c) => (ike === undefined || c.name === ike) && c.children.some((x) => x.name === child));
        if (!conn) return { success: false, errmsg: `configuration name not found` };
        return daemon.installTrapPolicy(conn.name, child)
          ? { success: true }
          : { success: false, errmsg: `installing policy '${child}' failed: trap needs explicit local_ts and remote_ts` };
      },
      uninstall: (child, ike) => (daemon.uninstallTrapPolicy(child, ike) ? { success: true } : { success: false, errmsg: `policy '${child}' does not exist` }),
    },
    { version: o.version, plugins: ['ike', 'esp', 'vici', 'counters'] },
  );
  daemon.onEvent((e) => backend.onEvent(e));
  daemon.onIkeMessage((dir, data) => backend.onIkeMessage(dir, data));
  const server = registerViciCommands(new ViciServer({ path: o.path, log: (level, message) => logger.log('cfg', level, message) }), backend, {
    log: (level, message) => logger.log('cfg', level, message),
  });
  backend.attach(server);
  teeLogToVici(logger, server, daemon);
  await server.listen();
  return server;
}

/**
 * swanctl --log: every line the daemon logs also goes out as a `log` event (vici_logger.c), with the IKE SA's
 * name and unique id when the line belongs to one. The Logger has one entry point, so it is wrapped here.
 */
function teeLogToVici(logger: Logger, server: ViciServer, daemon: Daemon): void {
  const original = logger.log.bind(logger);
  let inside = false;
  logger.log = (group, level, message, fields) => {
    original(group, level, message, fields);
    // A line logged while sending a log event (the server's own diagnostics) must not loop.
    if (inside || !logger.enabled(group, level) || server.listeners('log') === 0) return;
    inside = true;
    try {
      const id = typeof fields?.ikeSaId === 'number' ? fields.ikeSaId : undefined;
      const name = id === undefined ? undefined : daemon.endpoint.listSas().find(({ sa }) => sa.id === id)?.sa.name;
      server.emit('log', logEvent({ group, level, message, ...(id !== undefined ? { ikeSaUniqueId: id } : {}), ...(name !== undefined ? { ikeSaName: name } : {}) }));
    } finally {
      inside = false;
    }
  };
}

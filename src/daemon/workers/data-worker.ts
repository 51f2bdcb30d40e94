/**
 * A data-plane worker thread (issue 17, docs/PERFORMANCE.md sections 2 and 7): one queue of the multi-queue TUN,
 * one socket of each SO_REUSEPORT group on the NAT-T port (the BPF program in reuseport.ts sends it the ESP of the
 * inbound SPIs whose low byte is index - 1 mod count), its own EspEngine replica and buffer pools, and the
 * single-thread data path of the gateway core (src/gateway/esp-path.ts: TUN -> seal -> sendmmsg; recvmmsg -> open
 * -> TUN). IKE stays on the main thread, which sends every SA change here (protocol.ts) and gets back DPD activity,
 * lifetime expiries, counters and log lines.
 *
 * Sequence numbers: every worker seals on every outbound SA (the TUN hashes a new flow to any queue), so the
 * outbound counter is the SharedArrayBuffer the main thread made for the SA (EspSa.sharedSeq): no number is sent
 * twice (RFC 4303 3.3.3). Beside it is the SA's seal lock (EspSa.seqLock), held from a batch's first number on the SA
 * until its sendmmsg returned, so the numbers also leave in order and the peer's replay window never sees one
 * worker's batch arrive far behind another's (it did, once a flow's packets went to both workers' TUN queues).
 * Each inbound SA is steered to one worker, so its replay window (3.4.3) lives there alone.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { createProvider } from '../../crypto/provider.js';
import { systemRandom } from '../../crypto/random.js';
import { DropReason, EncapStatus } from '../../esp/constants.js';
import { dropCountsByName, EspEngine } from '../../esp/engine.js';
import { sharedSaViews } from '../../esp/sa.js';
import { ChildSaInstaller } from '../../gateway/child-installer.js';
import type { GatewayTun } from '../../gateway/contracts.js';
import { ESP_BATCH_MAX, EspPath } from '../../gateway/esp-path.js';
import type { LinuxTun } from '../../tun/linux.js';
import type { Logger } from '../logger.js';
import { UdpSockets } from '../udp-sockets.js';
import type { FromWorker, ToWorker, WorkerInit, WorkerStats } from './protocol.js';

/** How often counters go to the main thread (status file, vici, metrics read the last ones). */
const STATS_INTERVAL_MS = 500;
/** TUN packets without a policy handed to the main thread (its trap policies, ACQUIRE) per second, at most. */
const UNPROTECTED_PER_SECOND = 100;
/** As the gateway core's (gateway.ts): in-flight packets on a replaced inbound SA are still accepted this long. */
const REKEY_INBOUND_GRACE_MS = 2000;

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export async function runDataWorker(init: WorkerInit, port: NonNullable<typeof parentPort>): Promise<void> {
  const post = (m: FromWorker): void => port.postMessage(m);
  const log = (group: string, level: number, message: string): void => post({ t: 'log', group, level, message: `worker ${init.index}: ${message}` });
  const clock = (): number => performance.now();
  // Seal-lock marks: 1 is the main thread's engine, worker i is i + 1 (sa.ts seqLock).
  const engine = new EspEngine({ backend: createProvider(), random: systemRandom, sealLockOwner: init.index + 1, log: (level, message) => log('esp', level, message) });
  const windows = new Map<number, { replayWindow: number; paddingCheck: boolean }>();
  const installer = new ChildSaInstaller(engine, {
    replayWindow: (c) => windows.get(c.spiIn)?.replayWindow ?? 1024,
    paddingCheck: (c) => windows.get(c.spiIn)?.paddingCheck ?? true,
    graceMs: REKEY_INBOUND_GRACE_MS,
    priority: 10,
    log: (level, message) => log('esp', level + 1, message),
  });
  // Trap policies (start_action = trap, RFC 4301 5.1 ACQUIRE) are the main thread's: a packet no policy here selects
  // goes there (rate-limited), whose gateway queues it, negotiates the CHILD SA and sends it once it is up.
  let unprotectedWindow = 0;
  let unprotectedSent = 0;
  const encapsulate = engine.encapsulate.bind(engine);
  engine.encapsulate = (refs, now) => {
    const r = encapsulate(refs, now);
    for (let i = 0; i < r.count; i++) {
      if (r.status[i] !== EncapStatus.Drop || r.reason[i] !== DropReason.NoPolicy) continue;
      const sec = Math.floor(now / 1000);
      if (sec !== unprotectedWindow) {
        unprotectedWindow = sec;
        unprotectedSent = 0;
      }
      if (unprotectedSent >= UNPROTECTED_PER_SECOND) {
        counters.unprotectedDropped++;
        continue;
      }
      unprotectedSent++;
      counters.unprotected++;
      const ref = refs[i]!;
      const head = init.headroom;
      const copy = new Uint8Array(new ArrayBuffer(head + ref.length + (t?.tailroom ?? 64)), head, ref.length);
      copy.set(ref.buffer.subarray(ref.offset, ref.offset + ref.length));
      post({ t: 'unprotected', packet: copy });
    }
    return r;
  };
  const counters = { unprotected: 0, unprotectedDropped: 0, espIn: 0, espOut: 0, espDrops: 0, delivered: 0, undeliverable: 0, mssClamped: 0, sendErrors: 0, faults: 0, noSa: 0 };
  const fault = (what: string, e: unknown): void => {
    counters.faults++;
    log('dmn', 0, `internal error in ${what}: ${errText(e)}`);
  };
  const fds = new Map<string, number>();
  const sockets = new UdpSockets({
    log: { log: (group: string, level: number, message: string) => log(group, level, message) } as unknown as Logger,
    nattPort: init.nattPort,
    batchSend: init.batchSend,
    batchReceive: init.batchReceive,
    onSendError: (n) => (counters.sendErrors += n),
    socketFd: (address, p) => fds.get(`${address}|${p}`),
    // dgram's path (no recvmmsg here): one datagram, decrypted at once.
    onDatagram: (_s, data) => {
      counters.espIn++;
      path.queue(data);
      input(() => path.decapsulate(clock()));
    },
    onBatch: (_s, b) =>
      input(() => {
        const now = clock();
        for (let i = 0; i < b.count; i++) {
          counters.espIn++;
          path.queue(b.data[i]!);
          if (path.queued >= ESP_BATCH_MAX) path.decapsulate(now);
        }
        path.decapsulate(now);
      }),
  });

  let tun: LinuxTun | undefined;
  let mtu = init.mtu;
  if (init.tunName !== undefined) {
    try {
      const { LinuxTun } = await import('../../tun/linux.js');
      tun = await LinuxTun.open({ name: init.tunName, attach: true, headroom: init.headroom, offload: init.offload, mtu: init.mtu });
    } catch (e) {
      post({ t: 'ready', error: `cannot attach a queue of TUN ${init.tunName}: ${errText(e)}` });
      return;
    }
  }
  const t = tun;
  // The device's MTU is the main thread's business (it fits it to the ESP overhead); this queue follows its word.
  const tunView: GatewayTun | undefined = t && {
    name: t.name,
    get mtu() {
      return mtu;
    },
    headroom: t.headroom,
    tailroom: t.tailroom,
    get closed() {
      return t.closed;
    },
    writeBatch: (p) => t.writeBatch(p),
    setMtu: async () => {},
  };
  const path = new EspPath({
    engine,
    net: sockets,
    tun: tunView,
    log,
    counters,
    mssMtu: init.mssMtu,
    fixedMtu: true,
    guard: (what, f) => {
      try {
        f();
      } catch (e) {
        fault(what, e);
      }
    },
    fault,
    espActivity: (spiIn) => post({ t: 'activity', spiIn }),
    // No trap policies here (see encapsulate above): only counted.
    acquire: () => void counters.noSa++,
  });

  let timer: NodeJS.Timeout | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  /** One input: the call, then the engine's events (expiries to the main thread), then the timer re-armed. */
  function input(f: () => void): void {
    try {
      f();
    } catch (e) {
      fault('data path', e);
    }
    path.engineEvents((spi, kind) => post({ t: 'expired', spi, kind }));
    const next = engine.nextTimeout();
    if (next === undefined || next >= timerAt) return;
    if (timer) clearTimeout(timer);
    timerAt = next;
    timer = setTimeout(
      () => {
        timer = undefined;
        timerAt = Number.POSITIVE_INFINITY;
        input(() => engine.handleTimeout(clock()));
      },
      Math.max(0, next - clock()),
    );
  }

  const stats = (): WorkerStats => {
    const sas: Record<string, WorkerStats['sas'][string]> = {};
    for (const sa of engine.sas()) sas[`${sa.direction}:${sa.spi >>> 0}`] = { bytes: sa.bytes, packets: sa.packets, drops: dropCountsByName(sa.drops) };
    const ts = t?.stats;
    const tunCounters: Record<string, number> = ts ? { tunRxPackets: ts.rxPackets, tunTxPackets: ts.txPackets, tunTxDropped: ts.txDropped, tunErrors: ts.errors } : {};
    return { index: init.index, counters: { ...counters, ...tunCounters }, sas };
  };
  const statsTimer = setInterval(() => post({ t: 'stats', stats: stats() }), STATS_INTERVAL_MS);

  let stopping = false;
  port.on('message', (m: ToWorker) => {
    if (stopping) return;
    switch (m.t) {
      case 'socket':
        fds.set(`${m.address}|${m.port}`, m.fd);
        sockets.bind(m.address, m.port).then(
          () => post({ t: 'ack', seq: m.seq }),
          (e: unknown) => post({ t: 'ack', seq: m.seq, error: errText(e) }),
        );
        return;
      case 'sa': {
        let error: string | undefined;
        input(() => {
          const e = m.event;
          try {
            if (e.type === 'child-install') windows.set(e.child.spiIn, { replayWindow: m.replayWindow ?? 1024, paddingCheck: m.paddingCheck ?? true });
            installer.handle(e, clock());
            if (e.type === 'child-install' && m.sharedSeq) {
              const out = engine.getSa(e.outbound.spi, 'out');
              if (out) ({ sharedSeq: out.sharedSeq, seqLock: out.seqLock } = sharedSaViews(m.sharedSeq));
            }
            if (e.type === 'child-remove') {
              path.forget(e.child.spiIn);
              windows.delete(e.child.spiIn);
            }
          } catch (err) {
            error = errText(err);
            log('esp', 0, `${e.type} of ${'child' in e ? `${e.child.name}{${e.child.id}}` : `IKE_SA ${e.sa.name}[${e.sa.id}]`} failed: ${error}`);
          }
        });
        post(error === undefined ? { t: 'ack', seq: m.seq } : { t: 'ack', seq: m.seq, error });
        return;
      }
      case 'mtu':
        mtu = m.mtu;
        return;
      case 'stop':
        stopping = true;
        clearInterval(statsTimer);
        if (timer) clearTimeout(timer);
        post({ t: 'stats', stats: stats() });
        void (async () => {
          await sockets.close().catch((e: unknown) => log('net', 1, `closing sockets: ${errText(e)}`));
          await t?.close().catch((e: unknown) => log('knl', 1, `closing the TUN queue: ${errText(e)}`));
          post({ t: 'stopped' });
          port.close();
        })();
        return;
    }
  });
  t?.onPackets((batch) => input(() => path.fromTun(batch, clock())));
  post({ t: 'ready', ...(t ? { tun: t.name } : {}) });
}

const init = workerData as WorkerInit | null;
if (parentPort && init?.role === 'cygnet-data-worker') {
  const port = parentPort;
  runDataWorker(init, port).catch((e: unknown) => port.postMessage({ t: 'ready', error: errText(e) } satisfies FromWorker));
}

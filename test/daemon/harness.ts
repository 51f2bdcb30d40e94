/** Running `cygnet` as a child process in tests: spawn via tsx, collect output, wait, signal. */
import { Daemon } from '../../src/daemon/driver.js';
import { toDaemonConfig } from '../../src/daemon/connections.js';
import { Logger } from '../../src/daemon/logger.js';
import { parseSwanctlConfig } from '../../src/config/index.js';
import { createMemoryTun } from '../helpers/index.js';
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'src', 'cli', 'main.ts');

export interface DaemonProcess {
  readonly child: ChildProcess;
  output(): string;
  signal(sig: NodeJS.Signals): void;
  kill(): void;
  /** Resolves with the exit code (or 128 + signal number style -1 when killed by a signal). */
  readonly exited: Promise<number>;
}

/** Runs `cygnet <args>` (the TypeScript source through tsx, so no build is needed). */
export function runCli(args: readonly string[]): DaemonProcess {
  // Tests run as root here: a daemon they start gets no TUN (the default as root) unless the test asks for one.
  const full = args[0] === 'daemon' && !args.includes('--tun') && !args.includes('--no-tun') && !args.includes('--help') ? [...args, '--no-tun'] : args;
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...full], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  return {
    child,
    output: () => out,
    signal: (sig) => void child.kill(sig),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    exited,
  };
}

/** `cygnet daemon ARGS`; without --socket the vici socket is off, so tests never touch /var/run/cygnet.vici. */
export function spawnDaemon(args: readonly string[]): DaemonProcess {
  const vici = args.includes('--socket') || args.includes('--no-vici') ? [] : ['--no-vici'];
  return runCli(['daemon', ...args, ...vici]);
}

/** `n` distinct UDP ports that were free on 127.0.0.1 a moment ago (bound to port 0, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const socks: dgram.Socket[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    socks.push(s);
    ports.push(s.address().port);
  }
  for (const s of socks) s.close();
  return ports;
}

export async function waitFor(cond: () => boolean, timeoutMs: number, describe: () => string = () => ''): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms\n${describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const PSK = 'v+NkxY9LLZvwj4qCC2o/gGrWDF2d21jL';

/** A site-to-site PSK connection 'gw' with child 'net' on 127.0.0.1 (swanctl.conf syntax). */
export function siteConf(o: {
  localPort: number;
  remotePort: number;
  localId: string;
  remoteId: string;
  localTs: string;
  remoteTs: string;
  startAction: string;
  proposals?: string;
  esp?: string;
  secret?: string;
  /** Outer address of both sides (default 127.0.0.1). */
  host?: string;
  /** Extra `key = value` lines in the connection and in the child section. */
  connExtra?: string;
  childExtra?: string;
}): string {
  return `
connections {
  gw {
    version = 2
    local_addrs = ${o.host ?? '127.0.0.1'}
    remote_addrs = ${o.host ?? '127.0.0.1'}
    local_port = ${o.localPort}
    remote_port = ${o.remotePort}
    proposals = ${o.proposals ?? 'aes128gcm16-prfsha256-x25519'}
    ${o.connExtra ?? ''}
    local {
      auth = psk
      id = ${o.localId}
    }
    remote {
      auth = psk
      id = ${o.remoteId}
    }
    children {
      net {
        local_ts = ${o.localTs}
        remote_ts = ${o.remoteTs}
        esp_proposals = ${o.esp ?? 'aes128gcm16'}
        start_action = ${o.startAction}
        ${o.childExtra ?? ''}
      }
    }
  }
}
secrets {
  ike-gw {
    id-a = moon.example
    id-b = sun.example
    secret = "${o.secret ?? PSK}"
  }
}
`;
}

const daemons: Daemon[] = [];

/** Stops every daemon started by daemonPair (call from afterEach). */
export async function stopDaemons(): Promise<void> {
  for (const d of daemons.splice(0)) await d.stop(200);
}

/**
 * Two Daemon drivers in one process on 127.0.0.1 with free ports and in-memory TUNs (moon 10.1/16 <-> sun 10.2/16).
 */
export async function daemonPair(startAction: 'start' | 'trap', extra: { connExtra?: string; childExtra?: string; host?: string; esp?: string; proposals?: string } = {}, extraB = extra) {
  const [pa, pna, pb, pnb] = await freePorts(4);
  const mk = (text: string, port: number, natt: number, lines: string[]) => {
    const { config } = parseSwanctlConfig(text, 'test.conf');
    const { tun, host } = createMemoryTun({ headroom: 64 });
    const d = new Daemon({
      config: toDaemonConfig(config),
      logger: new Logger({ write: (l) => lines.push(l), levels: new Map([['any', 2]]) }),
      bind: [extra.host ?? '127.0.0.1'],
      port,
      nattPort: natt,
      tun,
    });
    daemons.push(d);
    return { d, host };
  };
  const la: string[] = [];
  const lb: string[] = [];
  const a = mk(siteConf({ localPort: pa!, remotePort: pb!, localId: 'moon.example', remoteId: 'sun.example', localTs: '10.1.0.0/16', remoteTs: '10.2.0.0/16', startAction, ...extra }), pa!, pna!, la);
  const b = mk(siteConf({ localPort: pb!, remotePort: pa!, localId: 'sun.example', remoteId: 'moon.example', localTs: '10.2.0.0/16', remoteTs: '10.1.0.0/16', startAction: 'none', ...extraB }), pb!, pnb!, lb);
  await b.d.start();
  await a.d.start();
  return { a, b, la, lb, ports: { a: pa!, aNatt: pna!, b: pb!, bNatt: pnb! } };
}

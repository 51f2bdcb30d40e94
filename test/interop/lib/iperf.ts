/**
 * iperf3 through a tunnel: a one-shot server in one namespace, a client in the other, JSON result parsed.
 * Reference figures on this machine: strongSwan kernel-libipsec pairs 55-74 Mbit/s (DESIGN.md section 3).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './exec.js';
import type { Netns } from './netns.js';
import { spawnInNetns } from './process.js';

let runSeq = 0;

export interface IperfResult {
  /** Receiver-side throughput. */
  mbps: number;
  /** Sender-side retransmits (TCP) when reported. */
  retransmits?: number;
  /** The full `iperf3 -J` report. */
  json: unknown;
}

/**
 * Run `iperf3 -c dst` in `client` against a one-off `iperf3 -s -1` in `server` bound to `dst`.
 * `reverse` makes the server send (tests the other direction through the same tunnel).
 */
export async function iperf3(
  server: Netns,
  client: Netns,
  dst: string,
  opts: { seconds?: number; reverse?: boolean; port?: number; logDir?: string } = {},
): Promise<IperfResult> {
  const port = String(opts.port ?? 5201);
  const srv = spawnInNetns(server, 'iperf3', ['-s', '-1', '-B', dst, '-p', port, '--forceflush'], {
    // A fresh log per run: the readiness check reads it, and an old "Server listening" would lie.
    logFile: join(opts.logDir ?? tmpdir(), `iperf3-server-${server.role}-${process.pid}-${++runSeq}.log`),
  });
  try {
    await waitFor('iperf3 server to listen', async () => (/Server listening/.test(await srv.output()) ? true : undefined), 5000, 50);
    const seconds = opts.seconds ?? 2;
    const args = ['-c', dst, '-p', port, '-t', String(seconds), '-J'];
    if (opts.reverse) args.push('-R');
    const r = await client.exec('iperf3', args, { timeoutMs: (seconds + 15) * 1000 });
    const json = JSON.parse(r.stdout) as {
      end?: { sum_received?: { bits_per_second?: number }; sum_sent?: { retransmits?: number } };
      error?: string;
    };
    if (json.error) throw new Error(`iperf3: ${json.error}`);
    return {
      mbps: (json.end?.sum_received?.bits_per_second ?? 0) / 1e6,
      retransmits: json.end?.sum_sent?.retransmits,
      json,
    };
  } finally {
    await srv.stop(1000);
  }
}

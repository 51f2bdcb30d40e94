/**
 * LinuxTun with TCP offloads end to end, run inside a private network namespace (`unshare -n`) by
 * src/tun/linux.test.ts. Two TUNs joined by this process act as a wire between two namespaces:
 *
 *   netns main: tunA 10.91.0.1/32, route 10.92.0.0/16 -> tunA      TCP client (this process)
 *   netns peer: tunB 10.92.0.1/32, route 10.91.0.0/16 -> tunB      TCP server (a child node process)
 *
 * What A reads (super-packets split into segments, src/net/gso.ts) is written to B (segments coalesced again),
 * and the other way. 8 MB go each way; both ends check a SHA-256 of the stream, so a bad checksum, a lost or
 * misordered segment would show (the kernel drops segments with bad checksums and TCP would stall or corrupt).
 * Prints one JSON line: what went through, the offload counters of both devices, and the cleanup.
 */
import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import { LinuxTun } from '../../src/tun/linux.js';

const BYTES = 8 * 1024 * 1024;

function stream(seed: number): Buffer {
  const b = Buffer.alloc(BYTES);
  let x = seed >>> 0;
  for (let i = 0; i < BYTES; i += 4) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b.writeUInt32LE(x, i);
  }
  return b;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

async function main(): Promise<void> {
  const plainB = process.argv.includes('--plain-b');
  const peer = `cygoff${process.pid}`;
  const result: Record<string, unknown> = {};
  const cleanup: string[] = [];
  const a = await LinuxTun.open({ name: 'cygoa%d', mtu: 1400, offload: true });
  const b = await LinuxTun.open({ name: 'cygob%d', mtu: 1400, offload: !plainB });
  result.offload = { a: a.offload, b: b.offload, aError: a.offloadError ?? null, bError: b.offloadError ?? null };
  try {
    ip(['netns', 'add', peer]);
    ip(['link', 'set', b.name, 'netns', peer]);
    ip(['addr', 'add', '10.91.0.1/32', 'dev', a.name]);
    ip(['route', 'add', '10.92.0.0/16', 'dev', a.name]);
    ip(['link', 'set', 'lo', 'up']);
    ip(['-n', peer, 'link', 'set', 'lo', 'up']);
    ip(['-n', peer, 'link', 'set', b.name, 'up']);
    ip(['-n', peer, 'addr', 'add', '10.92.0.1/32', 'dev', b.name]);
    ip(['-n', peer, 'route', 'add', '10.91.0.0/16', 'dev', b.name]);
    result.features = ip(['-d', 'link', 'show', a.name]).includes('tun') ? 'tun' : 'unknown';

    // The wire: batches are views valid during the call; writeBatch copies (or coalesces) at once.
    a.onPackets((batch) => void b.writeBatch(batch));
    b.onPackets((batch) => void a.writeBatch(batch));

    // The server in the peer namespace: reads 8 MB and hashes them, sends its own 8 MB, prints the hash.
    const server = spawn('ip', ['netns', 'exec', peer, process.execPath, '-e', `
      const net = require('node:net'); const { createHash } = require('node:crypto');
      const BYTES = ${BYTES};
      const b = Buffer.alloc(BYTES); let x = 2 >>> 0;
      for (let i = 0; i < BYTES; i += 4) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; b.writeUInt32LE(x, i); }
      const srv = net.createServer((c) => {
        const h = createHash('sha256'); let n = 0;
        c.on('data', (d) => { h.update(d); n += d.length; if (n === BYTES) { process.stdout.write(JSON.stringify({ got: n, sha: h.digest('hex') }) + '\\n'); } });
        c.write(b, () => c.end());
        c.on('close', () => srv.close());
      });
      srv.listen(5201, '10.92.0.1', () => process.stdout.write('listening\\n'));
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    let serverOut = '';
    const listening = new Promise<void>((resolve, reject) => {
      server.stdout.on('data', (d: Buffer) => {
        serverOut += d.toString();
        if (serverOut.includes('listening')) resolve();
      });
      server.on('exit', (code) => reject(new Error(`server exited ${code}: ${serverOut}`)));
    });
    await listening;

    const mine = stream(1);
    const theirs = stream(2);
    const started = Date.now();
    const got = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const c = net.connect({ host: '10.92.0.1', port: 5201, localAddress: '10.91.0.1' }, () => c.end(mine));
      c.on('data', (d: Buffer) => chunks.push(d));
      c.on('end', () => resolve(Buffer.concat(chunks)));
      c.on('error', reject);
      setTimeout(() => reject(new Error(`transfer timed out; server said: ${serverOut}`)), 20_000).unref();
    });
    const serverExit = await new Promise<number>((r) => (server.exitCode !== null ? r(server.exitCode) : server.on('exit', (code) => r(code ?? -1))));
    const line = serverOut.split('\n').find((l) => l.startsWith('{'));
    result.transfer = {
      ms: Date.now() - started,
      clientGot: got.length,
      clientShaOk: sha(got) === sha(theirs),
      server: line ? (JSON.parse(line) as unknown) : serverOut,
      serverShaOk: line ? (JSON.parse(line) as { sha: string }).sha === sha(mine) : false,
      serverExit,
    };
    result.stats = { a: { ...a.stats, ...a.offloadStats }, b: { ...b.stats, ...b.offloadStats } };
  } finally {
    await a.close();
    await b.close();
    try {
      ip(['netns', 'del', peer]);
    } catch (e) {
      cleanup.push((e as Error).message);
    }
    result.cleanupErrors = cleanup;
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);

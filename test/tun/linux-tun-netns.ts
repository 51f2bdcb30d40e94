/**
 * LinuxTun end to end, meant to run inside a fresh network namespace (`unshare -n`), spawned by
 * src/tun/linux.test.ts so the host's interfaces and routes are never touched. Prints one JSON line with what it
 * saw and exits by itself: a clean exit also proves close() ends the pending poll().
 *
 *   kernel --UDP 198.18.0.1 -> 198.18.0.2--> TUN read    (the route into the TUN works, read path)
 *   TUN write --UDP 198.18.0.2 -> 198.18.0.1--> socket   (write path, checksums accepted by the stack)
 *   TUN write --ICMP echo to 198.18.0.1--> kernel --echo reply--> TUN read
 *   the same with ICMPv6 to fd00:c0de::1
 */
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { LinuxTun } from '../../src/tun/linux.js';
import { LinuxNetConfig } from '../../src/tun/linux-net.js';
import { parseIpHeader, verifyIpv4HeaderChecksum, verifyTransportChecksum } from '../../src/net/ip-packet.js';
import { formatIp } from '../../src/net/ip-address.js';
import { buildIpv4, buildIpv6, icmpEcho, udpDatagram } from '../helpers/packets.js';

function timeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), ms).unref())]);
}

async function main(): Promise<void> {
  const result: Record<string, unknown> = {};
  const waiter = process.argv.includes('--waiter=pool') ? 'pool' : 'thread';
  const tun = await LinuxTun.open({ name: 'cygt%d', mtu: 1400, waiter });
  result.name = tun.name;
  // A second open of a name in use is a typed error with the errno (EBUSY), not a crash.
  result.secondOpen = await LinuxTun.open({ name: tun.name }).then(
    async (t) => {
      await t.close();
      return 'opened';
    },
    (e: { code?: string; errno?: number }) => ({ code: e.code, errno: e.errno }),
  );
  const net = new LinuxNetConfig(tun.name);
  await net.addAddress('198.18.0.1/24');
  await net.addRoute('198.19.0.0/16');
  await net.addAddress('fd00:c0de::1/64');
  result.installed = net.installed;
  result.linkShow = execFileSync('ip', ['-o', 'link', 'show', 'dev', tun.name]).toString();
  result.routeShow = execFileSync('ip', ['-4', 'route', 'show', 'dev', tun.name]).toString();

  const queue: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  tun.onPackets((batch) => {
    for (const p of batch) queue.push(p.slice()); // views are only valid during the call
    wake?.();
  });
  const nextPacket = async (pred: (p: Uint8Array) => boolean): Promise<Uint8Array> => {
    for (;;) {
      const i = queue.findIndex(pred);
      if (i >= 0) return queue.splice(i, 1)[0]!;
      await new Promise<void>((r) => (wake = r));
    }
  };

  // 1. Kernel -> TUN: a UDP datagram to an on-link address and one to the routed /16.
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '198.18.0.1', r));
  const port = sock.address().port;
  sock.send(Buffer.from('hello tun'), 9999, '198.18.0.2');
  sock.send(Buffer.from('routed'), 7, '198.19.5.5');
  const udpOut = await timeout(nextPacket((p) => p[9] === 17 && p[19] === 2), 5000, 'UDP datagram on the TUN');
  const h = parseIpHeader(udpOut);
  result.read = { src: formatIp(h.src), dst: formatIp(h.dst), srcPort: h.srcPort, dstPort: h.dstPort, ipOk: verifyIpv4HeaderChecksum(udpOut), udpOk: verifyTransportChecksum(udpOut), payload: Buffer.from(udpOut.subarray(28)).toString() };
  const routed = await timeout(nextPacket((p) => p[9] === 17 && p[17] === 19), 5000, 'routed datagram');
  result.routedDst = formatIp(parseIpHeader(routed).dst);

  // 2. TUN -> kernel: a reply datagram written into the TUN reaches the socket.
  const got = new Promise<{ msg: string; from: string; port: number }>((r) => sock.once('message', (m, rinfo) => r({ msg: m.toString(), from: rinfo.address, port: rinfo.port })));
  const reply = buildIpv4('198.18.0.2', '198.18.0.1', 17, udpDatagram(9999, port, new TextEncoder().encode('hello back')));
  result.written = tun.writeBatch([reply]);
  result.socketGot = await timeout(got, 5000, 'reply on the socket');

  // 3. Ping through the TUN: echo request in, echo reply out.
  tun.writeBatch([buildIpv4('198.18.0.2', '198.18.0.1', 1, icmpEcho(0x4242, 1))]);
  const echo = await timeout(nextPacket((p) => p[9] === 1 && p[20] === 0), 5000, 'ICMP echo reply');
  const eh = parseIpHeader(echo);
  result.echoReply = { src: formatIp(eh.src), dst: formatIp(eh.dst), type: eh.icmpType, id: (echo[24]! << 8) | echo[25]! };

  // 3b. The same over IPv6: ICMPv6 echo request (type 128) in, echo reply (129) out.
  const echo6 = Uint8Array.from([128, 0, 0, 0, 0x42, 0x43, 0, 1, ...new Array<number>(16).fill(0x61)]);
  tun.writeBatch([buildIpv6('fd00:c0de::2', 'fd00:c0de::1', 58, echo6)]);
  const reply6 = await timeout(nextPacket((p) => p[0]! >> 4 === 6 && p[6] === 58 && p[40] === 129), 5000, 'ICMPv6 echo reply');
  const h6 = parseIpHeader(reply6);
  result.echo6Reply = { src: formatIp(h6.src), dst: formatIp(h6.dst), type: h6.icmpType, checksumOk: verifyTransportChecksum(reply6) };

  // 4. MTU change through ioctl is visible to ip.
  await tun.setMtu(1280);
  result.mtuAfter = /mtu (\d+)/.exec(execFileSync('ip', ['-o', 'link', 'show', 'dev', tun.name]).toString())?.[1];

  sock.close();
  result.cleanupErrors = (await net.cleanup()).map((e) => e.message);
  result.stats = { ...tun.stats };
  await tun.close();
  try {
    execFileSync('ip', ['link', 'show', 'dev', tun.name], { stdio: 'pipe' });
    result.goneAfterClose = false;
  } catch {
    result.goneAfterClose = true;
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exitCode = 1;
  // A failure may leave a poll pending; the namespace dies with the process anyway.
  setTimeout(() => process.exit(1), 100).unref();
});

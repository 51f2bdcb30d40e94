/**
 * Packet capture on a namespace's interface and decoding with tshark (Wireshark 4.0 here), decrypting IKE SK
 * payloads and ESP with keys from keys.ts. Wireshark 4.0 cannot decrypt ChaCha20-Poly1305 in either IKE or
 * ESP; such packets decode as encrypted only.
 */
import { readFile } from 'node:fs/promises';
import { run, waitFor } from './exec.js';
import type { EspSaKeys, IkeSaKeys } from './keys.js';
import type { Netns } from './netns.js';
import { spawnInNetns, type ProcessHandle } from './process.js';

export interface Capture {
  file: string;
  /** Stop capturing (after a short drain) and return the file path. */
  stop(): Promise<string>;
}

/**
 * Start `dumpcap -i IFNAME -w FILE` inside `ns` and wait until it is capturing. dumpcap rather than tshark:
 * `tshark -w` reads packets from its own dumpcap child through a pipe and loses the last ones when stopped.
 */
export async function startCapture(ns: Netns, ifname: string, file: string, opts: { captureFilter?: string; bufferMiB?: number } = {}): Promise<Capture> {
  const args = ['-i', ifname, '-w', file, '-q'];
  if (opts.captureFilter) args.push('-f', opts.captureFilter);
  // dumpcap's kernel buffer (default 2 MiB) overflows under bulk traffic on a loaded machine: -B makes it larger.
  if (opts.bufferMiB) args.push('-B', String(opts.bufferMiB));
  const proc: ProcessHandle = spawnInNetns(ns, 'dumpcap', args, { logFile: `${file}.log` });
  await waitFor(
    `dumpcap capturing on ${ns.role}/${ifname}`,
    async () => {
      if (!proc.isRunning()) throw new Error(`dumpcap exited: ${await proc.output()}`);
      return /Capturing on/.test(await proc.output()) ? true : undefined;
    },
    10_000,
    50,
  );
  // "Capturing on" is printed just before the pcap handle is active: give it a moment.
  await new Promise((r) => setTimeout(r, 300));
  return {
    file,
    async stop() {
      // libpcap's TPACKET_V3 ring hands packets to dumpcap only when a block retires (dumpcap's read timeout,
      // 250 ms) and a stop drops a partly filled block: let the last packets' block retire first. SIGINT is
      // dumpcap's clean stop: it writes what it has and closes the file.
      await new Promise((r) => setTimeout(r, 700));
      await proc.kill('SIGINT');
      await proc.stop(3000);
      return file;
    },
  };
}

/** Wireshark IKEv2 decryption-table labels (packet-isakmp.c, Wireshark 4.0). */
export function ikeEncrLabel(k: IkeSaKeys): string {
  const bits = k.encrKeyBits ?? 0;
  switch (k.encr) {
    case 'AES_GCM_16':
      return `AES-GCM-${bits} with 16 octet ICV [RFC5282]`;
    case 'AES_GCM_12':
      return `AES-GCM-${bits} with 12 octet ICV [RFC5282]`;
    case 'AES_GCM_8':
      return `AES-GCM-${bits} with 8 octet ICV [RFC5282]`;
    case 'AES_CBC':
      return `AES-CBC-${bits} [RFC3602]`;
    case 'AES_CTR':
      return `AES-CTR-${bits} [RFC5930]`;
    case '3DES_CBC':
      return '3DES [RFC2451]';
    default:
      throw new Error(`Wireshark 4.0 cannot decrypt IKE with ${k.encr}`);
  }
}
export function ikeIntegLabel(integ: string | undefined): string {
  switch (integ) {
    case undefined:
    case '':
      return 'NONE [RFC4306]';
    case 'HMAC_SHA1_96':
      return 'HMAC_SHA1_96 [RFC2404]';
    case 'HMAC_SHA2_256_128':
      return 'HMAC_SHA2_256_128 [RFC4868]';
    case 'HMAC_SHA2_384_192':
      return 'HMAC_SHA2_384_192 [RFC4868]';
    case 'HMAC_SHA2_512_256':
      return 'HMAC_SHA2_512_256 [RFC4868]';
    default:
      throw new Error(`Wireshark 4.0 cannot check IKE integrity ${integ}`);
  }
}
/** Wireshark ESP SA labels (packet-ipsec.c, Wireshark 4.0). */
export function espEncrLabel(encr: string): string | undefined {
  switch (encr) {
    case 'NULL':
      return 'NULL';
    case 'AES_CBC':
      return 'AES-CBC [RFC3602]';
    case 'AES_CTR':
      return 'AES-CTR [RFC3686]';
    case 'AES_GCM_16':
      return 'AES-GCM with 16 octet ICV [RFC4106]';
    case 'AES_GCM_12':
      return 'AES-GCM with 12 octet ICV [RFC4106]';
    case 'AES_GCM_8':
      return 'AES-GCM with 8 octet ICV [RFC4106]';
    case '3DES_CBC':
      return 'TripleDES-CBC [RFC2451]';
    default:
      return undefined; // e.g. CHACHA20_POLY1305: not supported by Wireshark 4.0
  }
}
export function espIntegLabel(integ: string | undefined): string {
  switch (integ) {
    case undefined:
    case '':
      return 'NULL';
    case 'HMAC_SHA1_96':
      return 'HMAC-SHA-1-96 [RFC2404]';
    case 'HMAC_SHA2_256_128':
      return 'HMAC-SHA-256-128 [RFC4868]';
    case 'HMAC_SHA2_384_192':
      return 'HMAC-SHA-384-192 [RFC4868]';
    case 'HMAC_SHA2_512_256':
      return 'HMAC-SHA-512-256 [RFC4868]';
    default:
      return 'NULL';
  }
}

/**
 * tshark `-o` options carrying the keys. UAT buffer fields (SPIs, SK_*) are unquoted hex; strings and enum
 * labels are quoted; ESP keys are "0x..." strings.
 */
export function decryptionOptions(keys: { ike?: readonly IkeSaKeys[]; esp?: readonly EspSaKeys[] }): string[] {
  const opts: string[] = ['-o', 'esp.enable_encryption_decode:TRUE', '-o', 'esp.enable_authentication_check:TRUE'];
  for (const k of keys.ike ?? []) {
    const rec = [k.spiI, k.spiR, k.skEi, k.skEr, `"${ikeEncrLabel(k)}"`, k.skAi ?? '', k.skAr ?? '', `"${ikeIntegLabel(k.integ)}"`];
    opts.push('-o', `uat:ikev2_decryption_table:${rec.join(',')}`);
  }
  for (const k of keys.esp ?? []) {
    const encr = espEncrLabel(k.encr);
    if (!encr) continue;
    const fam = k.src.includes(':') ? 'IPv6' : 'IPv4';
    const rec = [fam, k.src, k.dst, `0x${k.spi}`, encr, `0x${k.encrKey}`, espIntegLabel(k.integ), k.integKey ? `0x${k.integKey}` : ''];
    opts.push('-o', `uat:esp_sa:${rec.map((f) => `"${f}"`).join(',')}`);
  }
  return opts;
}

/** IKEv2 payload type names (RFC 7296 section 3.2, RFC 7383), as used in the RFC's message diagrams. */
const PAYLOAD: Record<number, string> = {
  33: 'SA', 34: 'KE', 35: 'IDi', 36: 'IDr', 37: 'CERT', 38: 'CERTREQ', 39: 'AUTH', 40: 'Nonce', 41: 'N', 42: 'D',
  43: 'V', 44: 'TSi', 45: 'TSr', 46: 'SK', 47: 'CP', 48: 'EAP', 53: 'SKF',
};
/** Notify message types (RFC 7296 section 3.10.1 and extensions) that scenarios assert on. */
export const NOTIFY: Record<number, string> = {
  1: 'UNSUPPORTED_CRITICAL_PAYLOAD', 4: 'INVALID_IKE_SPI', 5: 'INVALID_MAJOR_VERSION', 7: 'INVALID_SYNTAX',
  9: 'INVALID_MESSAGE_ID', 11: 'INVALID_SPI', 14: 'NO_PROPOSAL_CHOSEN', 17: 'INVALID_KE_PAYLOAD',
  24: 'AUTHENTICATION_FAILED', 34: 'SINGLE_PAIR_REQUIRED', 35: 'NO_ADDITIONAL_SAS', 36: 'INTERNAL_ADDRESS_FAILURE',
  37: 'FAILED_CP_REQUIRED', 38: 'TS_UNACCEPTABLE', 39: 'INVALID_SELECTORS', 43: 'TEMPORARY_FAILURE',
  44: 'CHILD_SA_NOT_FOUND', 16384: 'INITIAL_CONTACT', 16385: 'SET_WINDOW_SIZE', 16386: 'ADDITIONAL_TS_POSSIBLE',
  16387: 'IPCOMP_SUPPORTED', 16388: 'NAT_DETECTION_SOURCE_IP', 16389: 'NAT_DETECTION_DESTINATION_IP',
  16390: 'COOKIE', 16391: 'USE_TRANSPORT_MODE', 16392: 'HTTP_CERT_LOOKUP_SUPPORTED', 16393: 'REKEY_SA',
  16394: 'ESP_TFC_PADDING_NOT_SUPPORTED', 16395: 'NON_FIRST_FRAGMENTS_ALSO', 16396: 'MOBIKE_SUPPORTED',
  16397: 'ADDITIONAL_IP4_ADDRESS', 16398: 'ADDITIONAL_IP6_ADDRESS', 16399: 'NO_ADDITIONAL_ADDRESSES',
  16400: 'UPDATE_SA_ADDRESSES', 16401: 'COOKIE2', 16402: 'NO_NATS_ALLOWED', 16404: 'MULTIPLE_AUTH_SUPPORTED',
  16405: 'ANOTHER_AUTH_FOLLOWS', 16406: 'REDIRECT_SUPPORTED', 16407: 'REDIRECT', 16408: 'REDIRECTED_FROM',
  16417: 'EAP_ONLY_AUTHENTICATION', 16418: 'CHILDLESS_IKEV2_SUPPORTED', 16419: 'QUICK_CRASH_DETECTION',
  16420: 'IKEV2_MESSAGE_ID_SYNC_SUPPORTED', 16422: 'IKEV2_MESSAGE_ID_SYNC', 16430: 'IKEV2_FRAGMENTATION_SUPPORTED',
  16431: 'SIGNATURE_HASH_ALGORITHMS', 16435: 'USE_PPK',
};
const EXCHANGE: Record<number, string> = { 34: 'IKE_SA_INIT', 35: 'IKE_AUTH', 36: 'CREATE_CHILD_SA', 37: 'INFORMATIONAL', 43: 'IKE_INTERMEDIATE' };

export interface DecodedPacket {
  frame: number;
  time: number;
  /** Outer addresses/ports. */
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  kind: 'IKE' | 'ESP' | 'other';
  /** IKE only. */
  exchange?: string;
  ispi?: string;
  rspi?: string;
  msgId?: number;
  /** IKE header R flag. */
  response?: boolean;
  /**
   * IKE payloads in order, outer and (when decrypted) inner, notifies as `N(NAME)`:
   * e.g. `['SK', 'IDi', 'N(INITIAL_CONTACT)', 'IDr', 'AUTH', 'SA', 'TSi', 'TSr', ...]`.
   */
  payloads: string[];
  /** IKE SK payload or ESP payload decrypted by tshark. */
  decrypted: boolean;
  espSpi?: string;
  espSeq?: number;
  /** The inner IP packet of a decrypted ESP packet. */
  inner?: { src: string; dst: string; protocol: string };
  /** tshark's Info column. */
  info: string;
}

const FIELDS = [
  'frame.number', 'frame.time_relative', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'udp.srcport', 'udp.dstport',
  'isakmp.exchangetype', 'isakmp.ispi', 'isakmp.rspi', 'isakmp.messageid', 'isakmp.flag_r', 'isakmp.typepayload',
  'isakmp.notify.msgtype', 'isakmp.enc.decrypted', 'esp.spi', 'esp.sequence', 'esp.decrypted_data', '_ws.col.Protocol',
  '_ws.col.Info',
];

/**
 * Decode a capture file, decrypting with `keys`. `displayFilter` is a Wireshark display filter (default: IKE and
 * ESP only: `isakmp || esp`).
 */
export async function decodeCapture(
  file: string,
  keys: { ike?: readonly IkeSaKeys[]; esp?: readonly EspSaKeys[] } = {},
  opts: { displayFilter?: string } = {},
): Promise<DecodedPacket[]> {
  const args = ['-r', file, '-n', ...decryptionOptions(keys), '-Y', opts.displayFilter ?? 'isakmp || esp', '-T', 'fields'];
  for (const f of FIELDS) args.push('-e', f);
  args.push('-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=|', '-E', 'quote=n');
  const r = await run('tshark', args, { timeoutMs: 60_000 });
  const out: DecodedPacket[] = [];
  for (const line of r.stdout.split('\n')) {
    if (!line.trim()) continue;
    const cols = line.split('\t');
    const get = (name: string): string[] => {
      const v = cols[FIELDS.indexOf(name)] ?? '';
      return v === '' ? [] : v.split('|');
    };
    const first = (name: string): string | undefined => get(name)[0];
    const srcs = [...get('ip.src'), ...get('ipv6.src')];
    const dsts = [...get('ip.dst'), ...get('ipv6.dst')];
    const isIke = get('isakmp.exchangetype').length > 0;
    const isEsp = get('esp.spi').length > 0;
    const notifies = get('isakmp.notify.msgtype').map(Number);
    const payloads: string[] = [];
    for (const t of get('isakmp.typepayload').map(Number)) {
      if (t < 33) continue; // proposal/transform substructures
      if (t === 41) {
        const n = notifies.shift();
        payloads.push(`N(${n === undefined ? '?' : (NOTIFY[n] ?? String(n))})`);
      } else payloads.push(PAYLOAD[t] ?? `#${t}`);
    }
    const exch = first('isakmp.exchangetype');
    const espDecrypted = get('esp.decrypted_data').length > 0 || (isEsp && srcs.length > 1);
    out.push({
      frame: Number(first('frame.number')),
      time: Number(first('frame.time_relative')),
      src: srcs[0] ?? '',
      dst: dsts[0] ?? '',
      sport: first('udp.srcport') ? Number(first('udp.srcport')) : undefined,
      dport: first('udp.dstport') ? Number(first('udp.dstport')) : undefined,
      kind: isIke ? 'IKE' : isEsp ? 'ESP' : 'other',
      exchange: exch ? (EXCHANGE[Number(exch)] ?? exch) : undefined,
      ispi: first('isakmp.ispi'),
      rspi: first('isakmp.rspi'),
      msgId: first('isakmp.messageid') !== undefined ? Number(first('isakmp.messageid')) : undefined,
      response: isIke ? first('isakmp.flag_r') === '1' || first('isakmp.flag_r') === 'True' : undefined,
      payloads,
      decrypted: isIke ? get('isakmp.enc.decrypted').length > 0 : espDecrypted,
      espSpi: first('esp.spi')?.replace(/^0x/, ''),
      espSeq: first('esp.sequence') !== undefined ? Number(first('esp.sequence')) : undefined,
      inner: isEsp && srcs.length > 1 ? { src: srcs[1] ?? '', dst: dsts[1] ?? '', protocol: first('_ws.col.Protocol') ?? '' } : undefined,
      info: first('_ws.col.Info') ?? '',
    });
  }
  return out;
}

/** Full verbose decode (`tshark -V`) for debugging or logging next to a failing assertion. */
export async function describeCapture(file: string, keys: { ike?: readonly IkeSaKeys[]; esp?: readonly EspSaKeys[] } = {}, displayFilter = 'isakmp || esp'): Promise<string> {
  const r = await run('tshark', ['-r', file, '-n', ...decryptionOptions(keys), '-Y', displayFilter, '-V'], { timeoutMs: 60_000 });
  return r.stdout;
}

/** Capture file size in bytes (0 if missing): a cheap "did we capture anything" check. */
export async function captureSize(file: string): Promise<number> {
  return (await readFile(file).catch(() => Buffer.alloc(0))).length;
}

/**
 * The inspector end to end on a hand-built capture: IKE_SA_INIT in clear, IKE_AUTH (AES-CBC + HMAC-SHA2) each way
 * on 4500 with the non-ESP marker, a fragmented (SKF) CREATE_CHILD_SA, an IP-fragmented IKE_AUTH, ESP-in-UDP and
 * raw ESP (AES-GCM), and the failure cases: unknown IKE SA, unknown SPI, wrong ESP key, unsupported transform.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInspect } from '../cli/inspect.js';
import { defaultProvider } from '../crypto/provider.js';
import { seededRandom } from '../crypto/random.js';
import { createEncryption, createIntegrity } from '../crypto/suite.js';
import { createEspTransform } from '../esp/transform.js';
import { espHeadroom, espSeal, espTailroom } from '../esp/packet.js';
import { ipv4Packet } from '../esp/testing.js';
import { encodeMessage, encryptSK, ExchangeType, fragmentSK, NotifyType, PayloadType, type IkeHeaderInit, type Payload } from '../ike/codec/index.js';
import { LinkType } from './capture-file.js';
import { formatJson, formatText } from './format.js';
import { inspectFrames, type EspRecord, type IkeRecord } from './inspect.js';
import { parseKeyLog } from './key-log.js';
import { readCapture } from './capture-file.js';
import { DatagramReader } from './datagrams.js';
import { concat, ethernet, ipv4, pcapngFile, tcp, tcpFrame, udp } from './test-captures.js';

const backend = defaultProvider();
const fill = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);
const SPI_I = Uint8Array.from(Buffer.from('0011223344556677', 'hex'));
const SPI_R = Uint8Array.from(Buffer.from('8899aabbccddeeff', 'hex'));
const K = { ei: fill(32, 1), er: fill(32, 2), ai: fill(32, 3), ar: fill(32, 4) };
const ESP_KEY = fill(20, 5);
const enc = new TextEncoder();

const hdr = (exchangeType: number, messageId: number, response: boolean, initiator: boolean, spiR = SPI_R): IkeHeaderInit => ({
  spiI: SPI_I, spiR, exchangeType, messageId, flags: { initiator, response, version: false },
});
const keys = (initiator: boolean) => ({
  encryption: createEncryption(12, 256, initiator ? K.ei : K.er, backend),
  integrity: createIntegrity(12, initiator ? K.ai : K.ar, backend),
});
const ts = (net: number[]): Payload => ({
  type: PayloadType.TSi, critical: false,
  selectors: [{ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 65535, startAddr: Uint8Array.from(net), endAddr: Uint8Array.from([net[0]!, net[1]!, 255, 255]) }],
});
const espProposal: Payload = {
  type: PayloadType.SA, critical: false,
  proposals: [{ num: 1, protocol: 3, spi: Uint8Array.of(0xc1, 0, 0, 1), transforms: [{ type: 1, id: 20, keyLength: 128 }, { type: 5, id: 0 }] }],
};

function esp(spi: number, seq: number, key: Uint8Array, inner: Uint8Array): Uint8Array {
  const t = createEspTransform({ encr: 20, encrKeyBits: 128, integ: 0 }, key, undefined, backend, seededRandom(1));
  const head = espHeadroom(t);
  const buf = new Uint8Array(head + inner.length + espTailroom(t));
  buf.set(inner, head);
  const end = espSeal(t, buf, head, inner.length, 4, spi, false, 0, seq);
  return buf.slice(0, end);
}

const A = '192.0.2.1';
const B = '192.0.2.2';
const marker = new Uint8Array(4);
const onUdp = (src: string, dst: string, sport: number, dport: number, payload: Uint8Array): Uint8Array => ethernet(ipv4(src, dst, 17, udp(sport, dport, payload)));

function buildCapture(): Uint8Array {
  const frames: Uint8Array[] = [];
  // 1: IKE_SA_INIT request in clear.
  frames.push(onUdp(A, B, 500, 500, encodeMessage(hdr(ExchangeType.IKE_SA_INIT, 0, false, true, new Uint8Array(8)), [
    { type: PayloadType.SA, critical: false, proposals: [{ num: 1, protocol: 1, spi: new Uint8Array(0), transforms: [{ type: 1, id: 12, keyLength: 256 }, { type: 2, id: 5 }, { type: 3, id: 12 }, { type: 4, id: 31 }] }] },
    { type: PayloadType.KE, critical: false, group: 31, data: fill(32, 9) },
    { type: PayloadType.NONCE, critical: false, data: fill(32, 8) },
    { type: PayloadType.NOTIFY, critical: false, protocol: 0, spi: new Uint8Array(0), notifyType: NotifyType.NAT_DETECTION_SOURCE_IP, data: fill(20, 7) },
  ])));
  // 2: IKE_AUTH request (SK_ei/SK_ai) on 4500 with the marker.
  const authReq = encryptSK(hdr(ExchangeType.IKE_AUTH, 1, false, true), [
    { type: PayloadType.IDi, critical: false, idType: 2, data: enc.encode('a.example') },
    { type: PayloadType.AUTH, critical: false, method: 2, data: fill(32, 1) },
    espProposal,
    ts([10, 1, 0, 0]),
    { ...(ts([10, 2, 0, 0]) as object), type: PayloadType.TSr } as Payload,
  ], keys(true), seededRandom(2));
  frames.push(onUdp(A, B, 4500, 4500, concat(marker, authReq)));
  // 3: IKE_AUTH response (SK_er/SK_ar).
  frames.push(onUdp(B, A, 4500, 4500, concat(marker, encryptSK(hdr(ExchangeType.IKE_AUTH, 1, true, false), [
    { type: PayloadType.IDr, critical: false, idType: 2, data: enc.encode('b.example') },
  ], keys(false), seededRandom(3)))));
  // 4: NAT keepalive (not a packet of interest).
  frames.push(onUdp(A, B, 4500, 4500, Uint8Array.of(0xff)));
  // 5, 6, 7: ESP-in-UDP decryptable; unknown SPI; wrong key.
  const inner = ipv4Packet('10.1.0.1', '10.2.0.1', { proto: 17, sport: 5000, dport: 53, size: 60 });
  frames.push(onUdp(A, B, 4500, 4500, esp(0xc1000001, 7, ESP_KEY, inner)));
  frames.push(onUdp(A, B, 4500, 4500, esp(0xdead0001, 1, ESP_KEY, inner)));
  frames.push(onUdp(B, A, 4500, 4500, esp(0xc2000002, 1, fill(20, 0x55), inner)));
  // 8: raw ESP (IP protocol 50).
  frames.push(ethernet(ipv4(A, B, 50, esp(0xc1000001, 8, ESP_KEY, inner))));
  // 9, 10, 11: a CREATE_CHILD_SA response in three SKF fragments, sent out of order.
  const big: Payload[] = [espProposal, { type: PayloadType.NONCE, critical: false, data: fill(32, 3) }, { type: PayloadType.VENDOR, critical: false, data: fill(400, 1) }];
  const frags = fragmentSK(hdr(ExchangeType.CREATE_CHILD_SA, 2, true, false), big, keys(false), seededRandom(4), 300);
  expect(frags.length).toBe(3);
  for (const i of [1, 0, 2]) frames.push(onUdp(B, A, 4500, 4500, concat(marker, frags[i]!)));
  // 12, 13: an INFORMATIONAL of an IKE SA with no keys; an SA whose transform is unsupported.
  frames.push(onUdp(A, B, 4500, 4500, concat(marker, encryptSK({ ...hdr(ExchangeType.INFORMATIONAL, 5, false, true), spiI: fill(8, 0xee) }, [], keys(true), seededRandom(5)))));
  frames.push(onUdp(A, B, 4500, 4500, concat(marker, encryptSK({ ...hdr(ExchangeType.INFORMATIONAL, 6, false, true), spiI: fill(8, 0xcc) }, [], keys(true), seededRandom(6)))));
  // 14, 15: an INFORMATIONAL with a Delete in two IPv4 fragments (RFC 791), reassembled at the second.
  const del = encryptSK(hdr(ExchangeType.INFORMATIONAL, 3, false, true), [{ type: PayloadType.DELETE, critical: false, protocol: 3, spiSize: 4, spis: [Uint8Array.of(0xc1, 0, 0, 1)] }], keys(true), seededRandom(7));
  const dgram = udp(4500, 4500, concat(marker, del));
  frames.push(ethernet(ipv4(A, B, 17, dgram.subarray(0, 48), { id: 77, more: true })));
  frames.push(ethernet(ipv4(A, B, 17, dgram.subarray(48), { id: 77, fragOffset: 48 })));
  return pcapngFile([LinkType.ETHERNET], frames.map((data, i) => ({ data, time: 1000 + i / 10 })));
}

const KEY_LOG = [
  JSON.stringify({ type: 'ike', spiI: '0011223344556677', spiR: '8899aabbccddeeff', encr: 'AES_CBC', encrKeyBits: 256, integ: 'HMAC_SHA2_256_128', skAi: Buffer.from(K.ai).toString('hex'), skAr: Buffer.from(K.ar).toString('hex'), skEi: Buffer.from(K.ei).toString('hex'), skEr: Buffer.from(K.er).toString('hex') }),
  JSON.stringify({ type: 'ike', spiI: 'cccccccccccccccc', spiR: '8899aabbccddeeff', encr: 'CAMELLIA_CBC', skEi: '00', skEr: '00' }),
  JSON.stringify({ type: 'esp', src: A, dst: B, spi: 'c1000001', encr: 'AES_GCM_16', encrKey: Buffer.from(ESP_KEY).toString('hex') }),
  JSON.stringify({ type: 'esp', src: B, dst: A, spi: 'c2000002', encr: 'AES_GCM_16', encrKey: Buffer.from(ESP_KEY).toString('hex') }),
].join('\n');

describe('inspectFrames', () => {
  const capture = buildCapture();
  const result = inspectFrames(readCapture(capture).frames, { keys: parseKeyLog(KEY_LOG, 'keys') });
  const byFrame = new Map(result.records.map((r) => [r.frame, r]));
  const ike = (n: number): IkeRecord => byFrame.get(n) as IkeRecord;
  const espR = (n: number): EspRecord => byFrame.get(n) as EspRecord;

  it('finds every IKE message and ESP packet, and nothing else', () => {
    expect(result.records.map((r) => `${r.frame}:${r.kind}`)).toEqual([
      '1:ike', '2:ike', '3:ike', '5:esp', '6:esp', '7:esp', '8:esp', '9:ike', '10:ike', '11:ike', '12:ike', '13:ike', '15:ike',
    ]);
    expect(result.notes).toEqual([]);
  });

  it('prints IKE_SA_INIT in clear with proposals and transforms by name', () => {
    expect(ike(1)).toMatchObject({ exchange: 'IKE_SA_INIT', messageId: 0, response: false, initiator: true, encrypted: false, decrypted: false, reason: 'not encrypted', sport: 500 });
    expect(ike(1).payloads.map((p) => `${p.type} ${p.text}`)).toEqual([
      'SA 1: IKE:AES_CBC_256/PRF_HMAC_SHA2_256/HMAC_SHA2_256_128/CURVE_25519',
      'KE CURVE_25519, 32 bytes',
      'Nonce 32 bytes',
      `N(NAT_DETECTION_SOURCE_IP) ${'07'.repeat(8)}...`,
    ]);
  });

  it('decrypts IKE_AUTH both ways with the initiator and responder keys', () => {
    expect(ike(2)).toMatchObject({ exchange: 'IKE_AUTH', messageId: 1, response: false, decrypted: true, suite: 'AES_CBC-256/HMAC_SHA2_256_128' });
    expect(ike(2).payloads.map((p) => `${p.type} ${p.text}`)).toEqual([
      'IDi FQDN a.example',
      'AUTH SHARED_KEY_MESSAGE_INTEGRITY_CODE, 32 bytes',
      'SA 1: ESP(c1000001):AES_GCM_16_128/NO_EXT_SEQ',
      'TSi 10.1.0.0/16',
      'TSr 10.2.0.0/16',
    ]);
    expect(ike(3)).toMatchObject({ response: true, initiator: false, decrypted: true });
    expect(ike(3).payloads.map((p) => p.type)).toEqual(['IDr']);
  });

  it('reassembles SKF fragments (RFC 7383) at the fragment completing the message', () => {
    expect([9, 10, 11].map((n) => ike(n).fragment)).toEqual([
      { number: 2, total: 3 },
      { number: 1, total: 3 },
      { number: 3, total: 3, reassembledFrom: [10, 9, 11] },
    ]);
    expect([9, 10].map((n) => ike(n).payloads.length)).toEqual([0, 0]);
    expect(ike(11).payloads.map((p) => p.type)).toEqual(['SA', 'Nonce', 'V']);
    expect(ike(11)).toMatchObject({ exchange: 'CREATE_CHILD_SA', decrypted: true });
  });

  it('reassembles IPv4 fragments before reading IKE', () => {
    expect(ike(15)).toMatchObject({ exchange: 'INFORMATIONAL', messageId: 3, decrypted: true });
    expect(ike(15).payloads.map((p) => `${p.type} ${p.text}`)).toEqual(['D ESP c1000001']);
  });

  it('decrypts ESP-in-UDP and raw ESP in the middle of the sequence, with the inner packet summary', () => {
    expect(espR(5)).toMatchObject({ spi: 'c1000001', seq: 7, encap: 'udp', decrypted: true, suite: 'AES_GCM_16-128', mode: 'tunnel', inner: { src: '10.1.0.1', dst: '10.2.0.1', protocol: 'udp', sport: 5000, dport: 53, length: 60 } });
    expect(espR(8)).toMatchObject({ spi: 'c1000001', seq: 8, encap: 'ip', decrypted: true });
  });

  it('says why a packet is not decrypted', () => {
    expect(espR(6)).toMatchObject({ decrypted: false, reason: 'no keys for ESP SPI dead0001' });
    expect(espR(7).decrypted).toBe(false);
    expect(espR(7).reason).toMatch(/^ICV failure: ICV does not verify with the AES_GCM_16-128 keys for SPI c2000002 \(keys:4\)$/);
    expect(ike(12)).toMatchObject({ decrypted: false, reason: 'no keys for IKE SA eeeeeeeeeeeeeeee_i 8899aabbccddeeff_r' });
    expect(ike(13)).toMatchObject({ decrypted: false, reason: 'unsupported transform CAMELLIA_CBC (keys:2)' });
  });

  it('JSON lines: one object per packet with frame, kind, decrypted, exchange or spi, and reason when not decrypted', () => {
    const lines = formatJson(result).trimEnd().split('\n');
    expect(lines).toHaveLength(result.records.length);
    for (const line of lines) {
      const o = JSON.parse(line) as Record<string, unknown>;
      expect(typeof o.frame).toBe('number');
      expect(['ike', 'esp']).toContain(o.kind);
      expect(typeof o.decrypted).toBe('boolean');
      if (o.kind === 'ike') expect(typeof o.exchange).toBe('string');
      else expect(o.spi).toMatch(/^[0-9a-f]{8}$/);
      if (o.decrypted === false) expect(typeof o.reason).toBe('string');
      else expect(o.reason).toBeUndefined();
    }
    expect(JSON.parse(lines[1]!)).toMatchObject({ frame: 2, kind: 'ike', exchange: 'IKE_AUTH', messageId: 1, decrypted: true, time: 0.1 });
  });

  it('text output: a line per packet, payloads indented, a summary', () => {
    const text = formatText(result);
    expect(text).toContain('192.0.2.1:4500 -> 192.0.2.2:4500  IKE_AUTH #1 request from the original initiator');
    expect(text).toContain('    IDi FQDN a.example');
    expect(text).toContain('ESP-in-UDP SPI c1000001 seq 7  AES_GCM_16-128 tunnel  10.1.0.1:5000 -> 10.2.0.1:53 udp length 60');
    expect(text).toContain('NOT DECRYPTED: no keys for ESP SPI dead0001');
    expect(text).toContain('reassembled from frames 10, 9, 11');
    expect(text.trimEnd().split('\n').at(-1)).toBe('9 IKE messages (6 of 8 encrypted decrypted), 4 ESP packets (2 decrypted)');
  });
});

describe('cygnet inspect (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyg-inspect-'));
  const cap = join(dir, 'c.pcapng');
  const keyFile = join(dir, 'k.keys');
  writeFileSync(cap, buildCapture());
  writeFileSync(keyFile, KEY_LOG + '\nbroken line\n');
  const run = (args: string[]) => {
    let out = '';
    let err = '';
    const code = runInspect(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
    return { code, out, err };
  };

  it('prints JSON lines, warns about unusable key lines with file:line', () => {
    const r = run([cap, '--key-log', keyFile, '--json']);
    expect(r.code).toBe(0);
    expect(r.out.trimEnd().split('\n')).toHaveLength(13);
    expect(r.err).toContain(`${keyFile}:5:`);
  });

  it('without keys everything encrypted is flagged', () => {
    const r = run([cap, '--json']);
    const recs = r.out.trimEnd().split('\n').map((l) => JSON.parse(l) as { decrypted: boolean; reason?: string });
    expect(recs.filter((x) => x.decrypted)).toEqual([]);
    expect(recs.every((x) => typeof x.reason === 'string')).toBe(true);
  });

  it('usage and file errors have exit codes 2 and 1', () => {
    expect(run([]).code).toBe(2);
    expect(run([cap, '--port', '70000']).code).toBe(2);
    expect(run([cap, '--bogus']).code).toBe(2);
    expect(run([join(dir, 'missing.pcap')]).code).toBe(1);
    writeFileSync(join(dir, 'text.pcap'), 'not a capture at all');
    const bad = run([join(dir, 'text.pcap')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/neither pcap nor pcapng \(at byte 0\)/);
  });
});

describe('RFC 9329 TCP streams', () => {
  const C = 40000;
  const onTcp = (src: string, dst: string, sport: number, dport: number, seq: number, flags: Parameters<typeof tcp>[3], payload?: Uint8Array): Uint8Array =>
    ethernet(ipv4(src, dst, 6, tcp(sport, dport, seq, flags, payload)));
  const prefix = enc.encode('IKETCP');
  const authReq = encryptSK(hdr(ExchangeType.IKE_AUTH, 1, false, true), [{ type: PayloadType.IDi, critical: false, idType: 2, data: enc.encode('a.example') }], keys(true), seededRandom(12));
  const authResp = encryptSK(hdr(ExchangeType.IKE_AUTH, 1, true, false), [{ type: PayloadType.IDr, critical: false, idType: 2, data: enc.encode('b.example') }], keys(false), seededRandom(13));
  const inner = ipv4Packet('10.1.0.1', '10.2.0.1', { proto: 17, sport: 5000, dport: 53, size: 60 });
  // The originator's byte stream: prefix, IKE_AUTH request (with the non-ESP marker), ESP; the responder's: the response.
  const up = concat(prefix, tcpFrame(concat(marker, authReq)), tcpFrame(esp(0xc1000001, 9, ESP_KEY, inner)));
  const down = tcpFrame(concat(marker, authResp));
  const frames: Uint8Array[] = [
    /* 1 */ onTcp(A, B, C, 4500, 1000, { syn: true }),
    /* 2 */ onTcp(B, A, 4500, C, 5000, { syn: true, ack: 1001 }),
    /* 3 */ onTcp(A, B, C, 4500, 1001, { ack: 5001 }, up.subarray(0, 20)),
    /* 4 */ onTcp(A, B, C, 4500, 1001, { ack: 5001 }, up.subarray(0, 20)), // a retransmission: nothing new
    /* 5 */ onTcp(A, B, C, 4500, 1021, { ack: 5001 }, up.subarray(20)), // completes the request and the ESP packet
    /* 6 */ onTcp(B, A, 4500, C, 5001 + 30, { ack: 1001 + up.length }, down.subarray(30)), // ahead of a gap
    /* 7 */ onTcp(B, A, 4500, C, 5001, { ack: 1001 + up.length }, down.subarray(0, 30)), // fills it: the response
    /* 8 */ onTcp(A, B, 40001, 4500, 77, { ack: 1 }, up.subarray(0, 20)), // a stream whose SYN was not captured
    /* 9 */ onTcp(A, B, 40002, 4500, 9, { syn: true }),
    /* 10 */ onTcp(A, B, 40002, 4500, 10, { ack: 1 }, concat(enc.encode('GET / '), tcpFrame(concat(marker, authReq)))), // no "IKETCP"
    /* 11 */ onTcp(A, B, 40002, 4500, 10 + 6 + 2 + 4 + authReq.length, { ack: 1 }, tcpFrame(concat(marker, authReq))), // not read after that
    /* 12 */ onTcp(A, B, 40003, 8080, 1, { ack: 1 }, up), // another port
  ];
  const result = inspectFrames(readCapture(pcapngFile([LinkType.ETHERNET], frames.map((data, i) => ({ data, time: 2000 + i / 10 })))).frames, { keys: parseKeyLog(KEY_LOG, 'keys') });

  it('reads IKE and ESP out of the ordered byte stream of each direction, at the frame that completes them', () => {
    expect(result.records.map((r) => `${r.frame}:${r.kind}`)).toEqual(['5:ike', '5:esp', '7:ike']);
    const [req, espRec, resp] = result.records as [IkeRecord, EspRecord, IkeRecord];
    expect(req).toMatchObject({ exchange: 'IKE_AUTH', messageId: 1, response: false, transport: 'tcp', decrypted: true, sport: C, dport: 4500 });
    expect(req.payloads.map((p) => `${p.type} ${p.text}`)).toEqual(['IDi FQDN a.example']);
    expect(espRec).toMatchObject({ encap: 'tcp', spi: 'c1000001', seq: 9, decrypted: true, inner: { src: '10.1.0.1', dst: '10.2.0.1' } });
    expect(resp).toMatchObject({ exchange: 'IKE_AUTH', response: true, transport: 'tcp', decrypted: true, sport: 4500, dport: C });
  });

  it('names a stream that does not start with "IKETCP" and reads no more of it', () => {
    expect(result.notes).toHaveLength(1);
    expect(result.notes[0]!.frame).toBe(10);
    expect(result.notes[0]!.text).toMatch(/^TCP 192\.0\.2\.1:40002 -> 192\.0\.2\.2:4500: stream does not start with "IKETCP" \(RFC 9329 section 4\): byte 0 is 0x47$/);
  });

  it('text output says "over TCP" and "ESP-in-TCP"', () => {
    const text = formatText(result);
    expect(text).toContain('192.0.2.1:40000 -> 192.0.2.2:4500  IKE_AUTH #1 request from the original initiator over TCP  SPIs 0011223344556677_i 8899aabbccddeeff_r  decrypted');
    expect(text).toContain('ESP-in-TCP SPI c1000001 seq 9  AES_GCM_16-128 tunnel  10.1.0.1:5000 -> 10.2.0.1:53 udp length 60');
    expect(text).toContain('   10  unreadable: TCP 192.0.2.1:40002 -> 192.0.2.2:4500: stream does not start with "IKETCP"');
  });

  it('says why a stream without its SYN, or a segment that completes nothing, is not read', () => {
    const reader = new DatagramReader();
    const f = (data: Uint8Array) => ({ number: 1, linkType: LinkType.ETHERNET, time: 0, data, originalLength: data.length });
    expect(reader.read(f(frames[7]!))).toMatchObject({ kind: 'other', why: expect.stringMatching(/40001>192\.0\.2\.2:4500: the stream's start \(SYN\) is not in the capture/) });
    expect(reader.read(f(frames[0]!))).toMatchObject({ kind: 'other', why: 'TCP segment that completes no RFC 9329 message' });
    expect(reader.read(f(frames[11]!))).toMatchObject({ kind: 'other', why: 'TCP port 40003 -> 8080' });
    expect(reader.read(f(ethernet(ipv4(A, B, 6, tcp(C, 4500, 1, {}).subarray(0, 12)))))).toMatchObject({ kind: 'malformed', why: 'TCP header cut short (12 bytes)' });
  });

  it('gives up on a stream whose missing bytes never arrive (capture loss), naming where', () => {
    const reader = new DatagramReader();
    const f = (data: Uint8Array) => ({ number: 1, linkType: LinkType.ETHERNET, time: 0, data, originalLength: data.length });
    reader.readAll(f(onTcp(A, B, C, 4500, 0, { syn: true })));
    let last: ReturnType<DatagramReader['readAll']> = [];
    for (let i = 0; i < 1025 && last.length === 0; i++) last = reader.readAll(f(onTcp(A, B, C, 4500, 100 + i * 10, { ack: 1 }, fill(10, 1))));
    expect(last).toEqual([{ kind: 'malformed', why: 'TCP 192.0.2.1:40000>192.0.2.2:4500: bytes from sequence number 1 are missing from the capture; the rest of the stream is not read' }]);
  });
});

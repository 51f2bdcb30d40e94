/**
 * `npm run bench -- crypto`: packets per second for ESP-shaped seal/open on every backend, at 64 and 1400 bytes:
 * every AEAD (AES-GCM and AES-CCM 128/192/256 with ICV 8/12/16, ChaCha20-Poly1305) and the cipher + integrity
 * pairs ESP negotiates most (encrypt-then-MAC as RFC 4303 section 3.3.2 orders it); a `node-cipheriv` reference
 * row doing the naive createCipheriv per packet; and key-exchange operations per second per group.
 *
 * Ends with the openssl/node ratio for AES-128-GCM 1400-byte seals (issue 2 requires >= 3x in the same run).
 */
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import { availableBackends, backendUnavailableReasons } from '../src/crypto/backends/index.js';
import { groupLabel } from '../src/crypto/backends/kex-common.js';
import { seededRandom } from '../src/crypto/random.js';
import type { AeadSpec, CipherSpec, CryptoBackend, MacAlgorithm } from '../src/crypto/types.js';
import { benchFilter, benchTimeMs, measure, Reporter, type BenchRow } from './lib.js';

const SIZES = [64, 1400];

/** Payload throughput of a packet row, for readers who think in link speed. */
const mbps = (pps: number, size: number): number => Math.round((pps * size * 8) / 1e6);
const BENCH = 'crypto';

function aeadLabel(s: AeadSpec): string {
  return s.alg === 'chacha20-poly1305' ? 'chacha20-poly1305' : `aes-${s.keyBytes * 8}-${s.alg.slice(4)}/icv${s.tagBytes}`;
}

const AEADS: AeadSpec[] = [
  ...(['aes-gcm', 'aes-ccm'] as const).flatMap((alg) =>
    [16, 24, 32].flatMap((keyBytes) => [8, 12, 16].map((tagBytes) => ({ alg, keyBytes, tagBytes }))),
  ),
  { alg: 'chacha20-poly1305', keyBytes: 32, tagBytes: 16 },
];

interface Pair {
  cipher: CipherSpec;
  mac: MacAlgorithm;
  /** MAC key bytes (RFC 2404: 20 for SHA-1; RFC 4868: the hash output length). */
  macKeyBytes: number;
  /** Truncated ICV bytes. */
  icvBytes: number;
  label: string;
}

const PAIRS: Pair[] = [
  { cipher: { alg: 'aes-cbc', keyBytes: 16 }, mac: 'hmac-sha256', macKeyBytes: 32, icvBytes: 16, label: 'aes-128-cbc+hmac-sha256-128' },
  { cipher: { alg: 'aes-cbc', keyBytes: 16 }, mac: 'hmac-sha1', macKeyBytes: 20, icvBytes: 12, label: 'aes-128-cbc+hmac-sha1-96' },
  { cipher: { alg: 'aes-cbc', keyBytes: 32 }, mac: 'hmac-sha256', macKeyBytes: 32, icvBytes: 16, label: 'aes-256-cbc+hmac-sha256-128' },
  { cipher: { alg: 'aes-cbc', keyBytes: 32 }, mac: 'hmac-sha1', macKeyBytes: 20, icvBytes: 12, label: 'aes-256-cbc+hmac-sha1-96' },
  { cipher: { alg: 'aes-ctr', keyBytes: 16 }, mac: 'hmac-sha256', macKeyBytes: 32, icvBytes: 16, label: 'aes-128-ctr+hmac-sha256-128' },
];

/** Groups probed for key exchange (IANA IKEv2 Transform Type 4 numbers). */
const KE_GROUPS = [14, 15, 16, 17, 18, 19, 20, 21, 31, 32, 2, 5];

const fill = (n: number, seed: number): Uint8Array => seededRandom(seed).fill(new Uint8Array(n));

/** ESP header (SPI | sequence number) as the AAD of RFC 4106 section 5 / the start of the ICV input. */
const ESP_HEADER = fill(8, 1);

function benchAead(rep: Reporter, backend: CryptoBackend, spec: AeadSpec): void {
  const nonceBytes = spec.alg === 'aes-ccm' ? 11 : 12;
  const ctx = backend.createAead(spec, fill(spec.keyBytes, 2));
  const nonce = fill(nonceBytes, 3);
  try {
    for (const size of SIZES) {
      // Seal in place like the ESP data path: payload, then room for the ICV.
      const packet = fill(size + spec.tagBytes, 4);
      const payload = packet.subarray(0, size);
      const seal = measure(() => ctx.seal(nonce, ESP_HEADER, payload, packet));
      rep.add({ bench: BENCH, backend: backend.name, algorithm: aeadLabel(spec), size, op: 'seal', pps: seal.pps, mbps: mbps(seal.pps, size) });
      const sealed = ctx.seal(nonce, ESP_HEADER, fill(size, 5));
      const out = new Uint8Array(size);
      const open = measure(() => {
        if (ctx.open(nonce, ESP_HEADER, sealed, out) === null) throw new Error(`${backend.name} ${aeadLabel(spec)}: open failed`);
      });
      rep.add({ bench: BENCH, backend: backend.name, algorithm: aeadLabel(spec), size, op: 'open', pps: open.pps, mbps: mbps(open.pps, size) });
    }
  } finally {
    ctx.dispose();
  }
}

function benchPair(rep: Reporter, backend: CryptoBackend, p: Pair): void {
  const cipher = backend.createCipher(p.cipher, fill(p.cipher.keyBytes, 6));
  const mac = backend.createMac(p.mac, fill(p.macKeyBytes, 7));
  const iv = fill(16, 8);
  const macOut = new Uint8Array(mac.outputBytes);
  try {
    for (const size of SIZES) {
      // CBC needs whole blocks: ESP pads the payload (RFC 4303 section 2.4), so round up to the block.
      const len = p.cipher.alg === 'aes-cbc' ? Math.ceil(size / 16) * 16 : size;
      const body = fill(len, 9);
      const icv = new Uint8Array(p.icvBytes);
      const parts = [ESP_HEADER, iv, body];
      const seal = measure(() => {
        cipher.encrypt(iv, body, body);
        // RFC 4303 section 3.3.4: the ICV covers the header, IV and ciphertext; truncated per RFC 2404 / RFC 4868.
        mac.compute(parts, macOut);
        for (let i = 0; i < icv.length; i++) icv[i] = macOut[i]!;
      });
      rep.add({ bench: BENCH, backend: backend.name, algorithm: p.label, size, op: 'seal', pps: seal.pps, mbps: mbps(seal.pps, size) });
      const ct = fill(len, 10);
      const ctParts = [ESP_HEADER, iv, ct];
      mac.compute(ctParts, macOut);
      const wantIcv = macOut.slice(0, p.icvBytes);
      const plain = new Uint8Array(len);
      const open = measure(() => {
        // Verify before decrypting (RFC 4303 section 3.4.4), comparing without an early exit.
        mac.compute(ctParts, macOut);
        let diff = 0;
        for (let i = 0; i < wantIcv.length; i++) diff |= macOut[i]! ^ wantIcv[i]!;
        if (diff !== 0) throw new Error(`${backend.name} ${p.label}: ICV mismatch`);
        cipher.decrypt(iv, ct, plain);
      });
      rep.add({ bench: BENCH, backend: backend.name, algorithm: p.label, size, op: 'open', pps: open.pps, mbps: mbps(open.pps, size) });
    }
  } finally {
    cipher.dispose();
    mac.dispose();
  }
}

/** The naive way: a fresh createCipheriv/createDecipheriv per packet with a raw key (DESIGN.md section 3, row 1). */
function benchCipherivReference(rep: Reporter): void {
  const key = fill(16, 2);
  const nonce = fill(12, 3);
  for (const size of SIZES) {
    const pt = fill(size, 4);
    const seal = measure(() => {
      const c = createCipheriv('aes-128-gcm', key, nonce);
      c.setAAD(ESP_HEADER);
      c.update(pt);
      c.final();
      return c.getAuthTag();
    });
    rep.add({ bench: BENCH, backend: 'node-cipheriv', algorithm: 'aes-128-gcm/icv16', size, op: 'seal', pps: seal.pps, mbps: mbps(seal.pps, size) });
    const c = createCipheriv('aes-128-gcm', key, nonce);
    c.setAAD(ESP_HEADER);
    const ct = Buffer.concat([c.update(pt), c.final()]);
    const tag = c.getAuthTag();
    const open = measure(() => {
      const d = createDecipheriv('aes-128-gcm', key, nonce);
      d.setAAD(ESP_HEADER);
      d.setAuthTag(tag);
      d.update(ct);
      d.final();
    });
    rep.add({ bench: BENCH, backend: 'node-cipheriv', algorithm: 'aes-128-gcm/icv16', size, op: 'open', pps: open.pps, mbps: mbps(open.pps, size) });
  }
}

function benchKeyExchange(rep: Reporter, backend: CryptoBackend, group: number): void {
  const random = seededRandom(group);
  const peer = backend.createKeyExchange(group, random);
  // Slow groups (MODP 6144/8192) still get a few operations, within about the same wall time.
  const opts = { timeMs: benchTimeMs(150), minOps: 2 };
  const keygen = measure(() => backend.createKeyExchange(group, random).dispose(), opts);
  const algorithm = groupLabel(group);
  const size = peer.publicValue.length;
  rep.add({ bench: BENCH, backend: backend.name, algorithm, size, op: 'keygen', pps: keygen.pps });
  const ours = backend.createKeyExchange(group, random);
  const derive = measure(() => ours.computeSharedSecret(peer.publicValue), opts);
  rep.add({ bench: BENCH, backend: backend.name, algorithm, size, op: 'derive', pps: derive.pps });
  ours.dispose();
  peer.dispose();
}

/**
 * X25519 the way the node backend did it before issue 17: the raw keys wrapped in PKCS#8 / SPKI DER (RFC 8410) and
 * imported through OpenSSL 3's decoders, next to the `node` rows (raw keys imported as JWK) in the same run.
 */
function benchX25519DerReference(rep: Reporter): void {
  const pkcs8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
  const spki = Buffer.from('302a300506032b656e032100', 'hex');
  const random = seededRandom(31);
  const opts = { timeMs: benchTimeMs(150), minOps: 2 };
  const keygen = (): { priv: ReturnType<typeof createPrivateKey>; pub: Buffer } => {
    const priv = createPrivateKey({ key: Buffer.concat([pkcs8, random.fill(new Uint8Array(32))]), format: 'der', type: 'pkcs8' });
    const der = createPublicKey(priv).export({ format: 'der', type: 'spki' });
    return { priv, pub: der.subarray(der.length - 32) };
  };
  const algorithm = groupLabel(31);
  rep.add({ bench: BENCH, backend: 'node-der', algorithm, size: 32, op: 'keygen', pps: measure(keygen, opts).pps });
  const ours = keygen();
  const peer = keygen().pub;
  const derive = measure(() => diffieHellman({ privateKey: ours.priv, publicKey: createPublicKey({ key: Buffer.concat([spki, peer]), format: 'der', type: 'spki' }) }), opts);
  rep.add({ bench: BENCH, backend: 'node-der', algorithm, size: 32, op: 'derive', pps: derive.pps });
}

function find(rows: BenchRow[], backend: string, algorithm: string, size: number, op: string): number | undefined {
  return rows.find((r) => r.backend === backend && r.algorithm === algorithm && r.size === size && r.op === op)?.pps;
}

export async function run(): Promise<void> {
  const backends = availableBackends();
  const reasons = backendUnavailableReasons();
  for (const [name, why] of Object.entries(reasons)) process.stderr.write(`backend ${name} unavailable: ${why}\n`);
  const rep = new Reporter(['mbps']);
  const want = benchFilter();

  if (want('node-cipheriv aes-128-gcm/icv16')) benchCipherivReference(rep);
  for (const b of backends) {
    for (const spec of AEADS) if (b.hasAead(spec) && want(`${b.name} ${aeadLabel(spec)}`)) benchAead(rep, b, spec);
    for (const p of PAIRS) {
      if (b.hasCipher(p.cipher) && b.hasMac(p.mac) && want(`${b.name} ${p.label}`)) benchPair(rep, b, p);
    }
  }
  for (const b of backends) {
    for (const g of KE_GROUPS) if (b.hasKeyExchange(g) && want(`${b.name} ${groupLabel(g)}`)) benchKeyExchange(rep, b, g);
  }
  if (want(`node-der ${groupLabel(31)}`)) benchX25519DerReference(rep);
  rep.print([ratioLine(rep.rows), x25519Line(rep.rows)]);
}

/** Issue 17: X25519 keygen + derive on the node backend (raw keys as JWK) against the DER import it replaced. */
function x25519Line(rows: BenchRow[]): string {
  const alg = groupLabel(31);
  const perExchange = (backend: string): number | undefined => {
    const k = find(rows, backend, alg, 32, 'keygen');
    const d = find(rows, backend, alg, 32, 'derive');
    return k === undefined || d === undefined ? undefined : 1 / (1 / k + 1 / d);
  };
  const n = perExchange('node');
  const der = perExchange('node-der');
  if (n === undefined || der === undefined) return `node/node-der ${alg} keygen+derive: n/a (row missing)`;
  return `node/node-der ${alg} keygen+derive: ${(n / der).toFixed(2)}x (${Math.round(n)} vs ${Math.round(der)} exchanges/s)`;
}

/** Issue 2's acceptance line, from this same run. */
function ratioLine(rows: BenchRow[]): string {
  const alg = 'aes-128-gcm/icv16';
  const o = find(rows, 'openssl', alg, 1400, 'seal');
  const n = find(rows, 'node', alg, 1400, 'seal');
  if (o === undefined || n === undefined) {
    return `openssl/node ${alg} 1400 B seal: n/a (${o === undefined ? 'openssl' : 'node'} row missing)`;
  }
  const ratio = o / n;
  return `openssl/node ${alg} 1400 B seal: ${ratio.toFixed(2)}x (${Math.round(o)} vs ${Math.round(n)} pps; required >= 3x: ${ratio >= 3 ? 'PASS' : 'FAIL'})`;
}

/**
 * Store record -> live IKE SA and ESP SAs on the node taking over (issue 20), sans-IO.
 *
 * The IKE SA is rebuilt with the same SPIs, keys, message IDs (RFC 7296 2.3: our next request ID and the one we
 * expect from the peer), peer addresses, identities, lifetimes, virtual IPs and pool leases, and registered with
 * the endpoint through CREATED -> ESTABLISHED (the edge an IKE SA created with its keys takes, RFC 7296 2.18). Its
 * CHILD SAs are re-announced as child-install events, so the gateway installs the ESP SAs and policies through the
 * same path as a negotiated SA; then `applySeqStarts` moves each outbound counter past the takeover gap and
 * restarts each inbound replay window at the peer's replicated mark (seq-marks.ts). The peer sees nothing: no
 * IKE_SA_INIT, the same SPIs, ESP continuing with higher sequence numbers.
 */
import type { CryptoBackend } from '../crypto/types.js';
import { createPrf } from '../crypto/prf.js';
import { createEncryption, createIntegrity } from '../crypto/suite.js';
import { INTEG, type TransformSet } from '../crypto/transforms.js';
import type { EspEngine } from '../esp/engine.js';
import { ExchangeType } from '../ike/codec/numbers.js';
import type { SkKeys } from '../ike/codec/types.js';
import type { Address } from '../ike/config.js';
import type { IkeEndpoint } from '../ike/endpoint.js';
import { type ChildSa, type IkeSa, setKeys } from '../ike/ike-sa.js';
import type { IkeSaKeys } from '../ike/keys.js';
import { transition } from '../ike/sa-state.js';
import type { TrafficSelector } from '../ike/traffic-selector.js';
import { parseIdentity } from '../identity/identity.js';
import { HaError } from './errors.js';
import { ReplayedRequest } from './replayed-request.js';
import type { ChildSecrets, IkeRecord, IkeSecrets, SeqMark, TsRecord } from './records.js';
import { ikeKey } from './records.js';
import type { SecretBox } from './seal.js';
import { DEFAULT_SEQ, outboundStart, type SeqOptions } from './seq-marks.js';

const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

/** How long a restored CHILD SA in REKEYED state waits for the peer's Delete before we delete it. */
const REKEYED_GRACE_MS = 10_000;
/** When a rekey that was under way on the old active is started again. */
const REDO_MS = 2_000;

function tsOf(t: TsRecord): TrafficSelector {
  return { tsType: t.tsType, ipProtocol: t.ipProtocol, startPort: t.startPort, endPort: t.endPort, startAddr: bytes(t.startAddr), endAddr: bytes(t.endAddr) };
}

function skKeys(crypto: CryptoBackend, set: TransformSet, encr: Uint8Array, integ: Uint8Array): SkKeys {
  const encryption = createEncryption(set.encr, set.keyBits, encr, crypto);
  const id = set.integ ?? INTEG.NONE;
  return id === INTEG.NONE ? { encryption } : { encryption, integrity: createIntegrity(id, integ, crypto) };
}

/** The IKE SA keys from their raw form (as keys.ts derives them, RFC 7296 2.14), without SKEYSEED. */
export function ikeKeysFromSecrets(crypto: CryptoBackend, set: TransformSet, s: IkeSecrets, initiator: boolean): IkeSaKeys {
  if (set.prf === undefined) throw new HaError('BAD_RECORD', 'IKE transform set without PRF');
  const raw = { SK_ei: bytes(s.SK_ei), SK_er: bytes(s.SK_er), SK_ai: bytes(s.SK_ai), SK_ar: bytes(s.SK_ar) };
  const i2r = skKeys(crypto, set, raw.SK_ei, raw.SK_ai);
  const r2i = skKeys(crypto, set, raw.SK_er, raw.SK_ar);
  return { prf: createPrf(set.prf, crypto), SK_d: bytes(s.SK_d), SK_pi: bytes(s.SK_pi), SK_pr: bytes(s.SK_pr), out: initiator ? i2r : r2i, in: initiator ? r2i : i2r, raw };
}

export interface RestoredChild {
  readonly spiIn: number;
  readonly spiOut: number;
  readonly esn: boolean;
}

export interface Restored {
  readonly sa: IkeSa;
  readonly children: readonly RestoredChild[];
}

function unsealJson<T>(box: SecretBox, sealed: string, aad: string): T {
  return JSON.parse(Buffer.from(box.open(sealed, aad)).toString('utf8')) as T;
}

/**
 * Puts one IKE SA (and its CHILD SAs, as child-install events) into `endpoint`. `now` is the endpoint's clock,
 * `fromWall` turns record times back into it. Throws HaError('RESTORE_FAILED') naming the cause.
 */
export function restoreIkeSa(endpoint: IkeEndpoint, rec: IkeRecord, box: SecretBox, now: number, fromWall: (t: number) => number): Restored {
  const key = ikeKey(rec.spiI, rec.spiR);
  const conn = endpoint.connections().find((c) => c.name === rec.conn);
  if (!conn) throw new HaError('RESTORE_FAILED', `${key}: connection '${rec.conn}' is not configured on this node (both nodes need the same swanctl.conf)`);
  const localSpi = rec.initiator ? rec.spiI : rec.spiR;
  if (endpoint.listSas().some(({ sa }) => Buffer.from(rec.initiator ? sa.spiI : sa.spiR).toString('hex') === localSpi)) {
    throw new HaError('RESTORE_FAILED', `${key}: an IKE SA with SPI ${localSpi} exists here already`);
  }
  const secrets = unsealJson<IkeSecrets>(box, rec.secrets, key);
  const local: Address = { ...rec.local };
  const remote: Address = { ...rec.remote };
  const sa = endpoint.newSa(rec.initiator, bytes(rec.spiI), local, remote);
  sa.spiR = bytes(rec.spiR);
  sa.conn = conn;
  sa.set = { ...rec.set };
  setKeys(sa, ikeKeysFromSecrets(endpoint.crypto, rec.set, secrets, rec.initiator));
  sa.localId = parseIdentity(rec.localId);
  sa.remoteId = parseIdentity(rec.remoteId);
  if (rec.remoteEapId !== undefined) sa.remoteEapId = rec.remoteEapId;
  if (rec.ppkId !== undefined) sa.ppkId = rec.ppkId;
  sa.nextRequestId = rec.nextRequestId;
  sa.expectedRequestId = rec.expectedRequestId;
  sa.natLocal = rec.natLocal;
  sa.natRemote = rec.natRemote;
  sa.natLocalReal = rec.natLocalReal;
  sa.encapsulated = rec.encapsulated;
  sa.peerFragmentation = rec.peerFragmentation;
  sa.peerMultipleAuth = rec.peerMultipleAuth;
  if (rec.peerHashes) sa.peerHashes = [...rec.peerHashes];
  sa.establishedAt = fromWall(rec.establishedAt);
  sa.lastInbound = now;
  // NAT keepalives (RFC 3948 4) restart from now, as when an SA is established behind a NAT (lifetimes.ts).
  if (rec.natLocalReal && endpoint.settings.keepaliveMs > 0) sa.keepaliveAt = now + endpoint.settings.keepaliveMs;
  if (rec.rekeyAt !== undefined) sa.rekeyAt = fromWall(rec.rekeyAt);
  if (rec.reauthAt !== undefined) sa.reauthAt = fromWall(rec.reauthAt);
  // A deadline the configuration has but the record lacks was consumed by a rekey (or reauthentication) under way
  // on the old active (lifecycle.ts clears it when the exchange starts): that exchange died with it, so start
  // another soon rather than wait for the hard expiry.
  if (rec.rekeyAt === undefined && rec.reauthAt === undefined && (conn.rekeyTimeMs > 0 || conn.reauthTimeMs > 0)) {
    if (conn.reauthTimeMs > 0 && conn.rekeyTimeMs === 0) sa.reauthAt = now + REDO_MS;
    else sa.rekeyAt = now + REDO_MS;
  }
  if (rec.expireAt !== undefined) sa.expireAt = fromWall(rec.expireAt);
  // Our request in flight at the death (RFC 7296 2.3: its message ID is spent only if the peer received it).
  let probeAfterRestore = false;
  if (rec.pending?.exchangeType === ExchangeType.INFORMATIONAL) {
    // An INFORMATIONAL (DPD, Delete) is sent again as it was, a retransmission (2.1): the peer answers it from its
    // cache or processes it now, and either way the message IDs are in step again (replayed-request.ts).
    const datagrams = rec.pending.datagrams.map((d) => Uint8Array.from(Buffer.from(d, 'base64')));
    sa.pending = { messageId: rec.pending.messageId, exchangeType: rec.pending.exchangeType, datagrams, attempt: 0, deadline: now, task: new ReplayedRequest(endpoint, sa, rec.pending.exchangeType, rec.pending.messageId) };
  } else if (rec.pending) {
    // A CREATE_CHILD_SA cannot be: its answer would create SAs whose keys died with the old node (nonces, key
    // exchange). Its message ID goes to a liveness check instead, which a peer that never got the request answers
    // (the rekey is then redone, below); one that did answers from its cache with the other exchange type, which
    // ends in a DPD timeout and a new IKE SA: the rare case of a death within a round trip of a rekey's answer.
    sa.nextRequestId = rec.pending.messageId;
    probeAfterRestore = true;
  }
  if (rec.lastResponse) sa.lastResponse = { messageId: rec.lastResponse.messageId, exchangeType: rec.lastResponse.exchangeType, datagrams: rec.lastResponse.datagrams.map((d) => Uint8Array.from(Buffer.from(d, 'base64'))) };
  sa.virtualIps = [...rec.virtualIps];
  sa.peerVirtualIps = [...rec.peerVirtualIps];
  const pools = endpoint.pools();
  for (const l of rec.leases) {
    const pool = pools.get(l.pool);
    // The same identity key as config-payload.ts files the lease under, asking for the address the peer holds.
    const got = pool?.acquire(rec.remoteEapId ?? rec.remoteId, l.address);
    if (pool && got === l.address) sa.leases.push({ release: (a) => pool.release(a), address: l.address });
    else if (pool && got !== undefined) pool.release(got);
  }
  const restored: RestoredChild[] = [];
  const installs: ChildSa[] = [];
  for (const c of rec.children) {
    const cfg = conn.children.find((x) => x.name === c.name);
    if (!cfg) throw new HaError('RESTORE_FAILED', `${key}: child '${c.name}' is not configured in connection '${conn.name}' on this node`);
    const child: ChildSa = {
      id: endpoint.nextChildId(),
      name: c.name,
      config: cfg,
      spiIn: c.spiIn,
      spiOut: c.spiOut,
      set: { ...c.set },
      localTs: c.localTs.map(tsOf),
      remoteTs: c.remoteTs.map(tsOf),
      // A rekey of ours that was under way is lost with the node: the SA is in use again and will be rekeyed anew.
      state: c.state === 'REKEYING' ? 'INSTALLED' : c.state,
      installedAt: fromWall(c.installedAt),
      // A rekey of ours under way died with the old active (its deadline was consumed when it started): again soon.
      ...(c.rekeyAt !== undefined ? { rekeyAt: fromWall(c.rekeyAt) } : c.state === 'REKEYING' ? { rekeyAt: now + REDO_MS } : {}),
      ...(c.expireAt === undefined ? {} : { expireAt: fromWall(c.expireAt) }),
      // Replaced by a rekey and waiting for the peer's Delete: if it does not come, we delete it ourselves (as the
      // rekey does, RFC 7296 2.8), rather than keep it for the IKE SA's lifetime.
      ...(c.state === 'REKEYED' ? { deleteBy: now + REKEYED_GRACE_MS } : {}),
    };
    sa.children.push(child);
    installs.push(child);
    restored.push({ spiIn: c.spiIn, spiOut: c.spiOut, esn: c.set.esn === 1 });
  }
  endpoint.registerSa(sa);
  transition(endpoint, sa, 'ESTABLISHED', 'restored from the HA store on takeover (issue 20)');
  if (probeAfterRestore) endpoint.checkLiveness(sa.id, now);
  endpoint.emit({ type: 'ike-up', sa: sa.info() });
  for (const [i, child] of installs.entries()) {
    const c = rec.children[i];
    if (!c) continue;
    const s = unsealJson<ChildSecrets>(box, c.secrets, `${key}/${c.spiIn}`);
    endpoint.emit({
      type: 'child-install',
      child: sa.childInfo(child),
      inbound: { spi: c.spiIn, encrKey: bytes(s.inEncr), integKey: bytes(s.inInteg) },
      outbound: { spi: c.spiOut, encrKey: bytes(s.outEncr), integKey: bytes(s.outInteg) },
      lifetimes: c.lifetimes,
      outboundActive: child.state !== 'REKEYED',
    });
  }
  endpoint.log('ike', 0, sa, `IKE_SA ${sa.name}[${sa.id}] taken over from the HA store: SPIs ${rec.spiI}_i ${rec.spiR}_r, message IDs ${rec.nextRequestId}/${rec.expectedRequestId}, ${installs.length} CHILD_SA(s)`);
  return { sa, children: restored };
}

export interface SeqStartReport {
  readonly spi: number;
  readonly dir: 'in' | 'out';
  readonly from: SeqMark | undefined;
  readonly to: SeqMark | undefined;
  /** Set when the outbound SA could not continue (sequence space exhausted): rekey it at once. */
  readonly rekey?: string;
}

/**
 * After the gateway installed the restored ESP SAs (and before any packet is sealed on them): outbound counters
 * jump past the takeover gap, inbound replay windows restart at the replicated marks.
 */
export function applySeqStarts(engine: EspEngine, children: readonly RestoredChild[], marks: (spi: number, dir: 'in' | 'out') => SeqMark | undefined, opts: SeqOptions = DEFAULT_SEQ): SeqStartReport[] {
  const out: SeqStartReport[] = [];
  for (const c of children) {
    const o = engine.getSa(c.spiOut, 'out');
    if (o) {
      const m = marks(c.spiOut, 'out');
      const s = outboundStart(m, c.esn, opts);
      if (s.ok) {
        o.seqHi = s.start.hi;
        o.seqLo = s.start.lo;
        // Worker threads draw from a shared counter (EspSa.sharedSeq): it moves too.
        if (o.sharedSeq) Atomics.store(o.sharedSeq, 0, s.start.lo);
        out.push({ spi: c.spiOut, dir: 'out', from: m, to: s.start });
      } else out.push({ spi: c.spiOut, dir: 'out', from: m, to: undefined, rekey: s.why });
    }
    const i = engine.getSa(c.spiIn, 'in');
    const mi = marks(c.spiIn, 'in');
    if (i?.replay && mi && (mi.hi > 0 || mi.lo > 0)) {
      // RFC 4303 3.4.3: the window's right edge moves to the mark; older numbers are refused as replays.
      i.replay.commit(mi.hi, mi.lo);
      out.push({ spi: c.spiIn, dir: 'in', from: mi, to: mi });
    }
  }
  return out;
}

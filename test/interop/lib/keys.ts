/**
 * SA keys for decrypting captures, in a neutral form (hex strings, algorithm names as strongSwan/swanctl print
 * them), and their extraction from a charon log written with `ike = 4` and `chd = 4` (see KEY_LOG_LEVELS):
 * Debian's 5.9.8 has no save-keys plugin, but at level 4 keymat_v2 dumps SK_e/SK_a and the CHILD SA keys.
 * cygnet will export the same structures from its own key-log events.
 */
import type { IkeSaInfo } from './swanctl-output.js';

/** Log levels that make charon dump key material (and every packet; use only in scenarios that decrypt). */
export const KEY_LOG_LEVELS: Record<string, number> = { default: 1, ike: 4, chd: 4, cfg: 2, enc: 1, net: 1, knl: 1, lib: 1, job: 1, mgr: 1 };

export interface IkeSaKeys {
  /** 16 hex digits each. */
  spiI: string;
  spiR: string;
  /** e.g. AES_GCM_16, AES_CBC, CHACHA20_POLY1305 */
  encr: string;
  encrKeyBits?: number;
  /** e.g. HMAC_SHA2_256_128; absent for AEAD. */
  integ?: string;
  /** Hex; for AEAD these include the salt, as Wireshark wants them. */
  skEi: string;
  skEr: string;
  skAi?: string;
  skAr?: string;
}

export interface EspSaKeys {
  src: string;
  dst: string;
  /** 8 hex digits. */
  spi: string;
  /** AES_GCM_16, AES_CBC, CHACHA20_POLY1305, NULL */
  encr: string;
  /** Hex key (AEAD: key || 4-byte salt, RFC 4106 section 8.1). */
  encrKey: string;
  integ?: string;
  integKey?: string;
}

type LogEvent =
  | { kind: 'dump'; thread: string; tag: string; name: string; hex: string }
  | { kind: 'line'; thread: string; tag: string; msg: string };

const LINE = /^(?:\d\d:\d\d:\d\d )?(\d+)\[(\w+)\] (?:<([^>]*)> )?(.*)$/;
const DUMP_HEADER = /^(.*) => (\d+) bytes @ 0x[0-9a-f]+$/;
const DUMP_ROW = /^\s*\d+: ((?:[0-9A-F]{2} ){0,15}[0-9A-F]{2})/;

/**
 * Walk charon log lines, reassembling hex dumps (`NAME => N bytes @ 0x...` then `  0: AA BB ...` rows) per
 * thread, since threads interleave. A dump is yielded when its last row is read, so within one thread events
 * keep their order (keys come before the `adding inbound ESP SA` lines that use them).
 */
function* walk(log: string): Generator<LogEvent> {
  const pending = new Map<string, { name: string; tag: string; len: number; hex: string }>();
  for (const line of log.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const [, thread = '', , tag = '', msg = ''] = m;
    const p = pending.get(thread);
    if (p) {
      const row = DUMP_ROW.exec(msg);
      if (row?.[1]) {
        p.hex += row[1].replace(/ /g, '').toLowerCase();
        if (p.hex.length >= p.len * 2) {
          pending.delete(thread);
          yield { kind: 'dump', thread, tag: p.tag, name: p.name, hex: p.hex.slice(0, p.len * 2) };
        }
        continue;
      }
      pending.delete(thread); // truncated dump: drop it
    }
    const h = DUMP_HEADER.exec(msg);
    if (h?.[1] !== undefined && h[2] !== undefined) {
      if (h[2] === '0') yield { kind: 'dump', thread, tag, name: h[1], hex: '' };
      else pending.set(thread, { name: h[1], tag, len: Number(h[2]), hex: '' });
      continue;
    }
    yield { kind: 'line', thread, tag, msg };
  }
}

function uniqueIdOfTag(tag: string): number | undefined {
  const m = /(?:^|\|)(\d+)$/.exec(tag);
  return m?.[1] ? Number(m[1]) : undefined;
}

/**
 * Extract IKE and ESP keys from a charon log written at KEY_LOG_LEVELS. `sas` (from listSas() while the SAs
 * exist) supplies the IKE SPIs and algorithms, matched by unique id; IKE SAs not in `sas` are skipped.
 * Covers IKE SAs created by IKE_SA_INIT and CHILD SAs created in IKE_AUTH or CREATE_CHILD_SA.
 */
export function keysFromCharonLog(log: string, sas: readonly IkeSaInfo[]): { ike: IkeSaKeys[]; esp: EspSaKeys[] } {
  // Per thread: the CHILD SA being installed and its algorithms; which children this side initiated.
  const initiatedChildren = new Set<string>();
  type ChildCtx = { child: string; encr?: string; integ?: string; keys: Record<string, string>; inbound?: boolean; initiator?: boolean };
  const childCtx = new Map<string, ChildCtx>();
  const ikeKeys = new Map<number, Record<string, string>>();
  const esp: EspSaKeys[] = [];

  for (const ev of walk(log)) {
    if (ev.kind === 'dump') {
      const { thread } = ev;
      const d = ev;
      const id = uniqueIdOfTag(d.tag);
      if (/^Sk_(ei|er|ai|ar) secret$/.test(d.name) && id !== undefined) {
        const k = ikeKeys.get(id) ?? {};
        k[d.name.slice(0, 5)] = d.hex;
        ikeKeys.set(id, k);
      } else if (/^(encryption|integrity) (initiator|responder) key$/.test(d.name)) {
        const c = childCtx.get(thread);
        if (c) c.keys[d.name] = d.hex;
      }
      continue;
    }
    const { thread, msg } = ev;
    let m: RegExpExecArray | null;
    if ((m = /^establishing CHILD_SA (\S+\{\d+\})/.exec(msg)) && m[1]) initiatedChildren.add(m[1]);
    else if ((m = /^CHILD_SA (\S+\{\d+\}) state change: CREATED => INSTALLING/.exec(msg)) && m[1])
      childCtx.set(thread, { child: m[1], keys: {}, initiator: initiatedChildren.has(m[1]) });
    else if ((m = /^\s*using (\S+) for (encryption|integrity)/.exec(msg))) {
      const c = childCtx.get(thread);
      if (c && m[2] === 'encryption') c.encr = m[1];
      else if (c) c.integ = m[1];
    } else if ((m = /^adding (inbound|outbound) ESP SA/.exec(msg))) {
      const c = childCtx.get(thread);
      if (c) c.inbound = m[1] === 'inbound';
    } else if ((m = /^\s*SPI 0x([0-9a-f]{8}), src (\S+) dst (\S+)/.exec(msg))) {
      const c = childCtx.get(thread);
      if (c && c.inbound !== undefined && m[1] && m[2] && m[3]) {
        // RFC 7296 2.17: the "initiator" keys protect traffic from the exchange initiator to the responder.
        const fromInitiator = c.inbound ? !c.initiator : !!c.initiator;
        const dir = fromInitiator ? 'initiator' : 'responder';
        const encrKey = c.keys[`encryption ${dir} key`];
        if (encrKey !== undefined)
          esp.push({
            src: m[2],
            dst: m[3],
            spi: m[1],
            encr: c.encr ?? 'NULL',
            encrKey,
            integ: c.integ,
            integKey: c.keys[`integrity ${dir} key`],
          });
      }
    }
  }

  const ike: IkeSaKeys[] = [];
  for (const sa of sas) {
    const k = ikeKeys.get(sa.uniqueId);
    if (!k || k.Sk_ei === undefined || k.Sk_er === undefined || !sa.encrAlg) continue;
    ike.push({
      spiI: sa.initiatorSpi,
      spiR: sa.responderSpi,
      encr: sa.encrAlg,
      encrKeyBits: sa.encrKeysize,
      integ: sa.integAlg,
      skEi: k.Sk_ei,
      skEr: k.Sk_er,
      skAi: k.Sk_ai,
      skAr: k.Sk_ar,
    });
  }
  return { ike, esp };
}

/**
 * Keys from a JSON-lines key log, the format proposed for cygnet's own export (e.g. `cygnet daemon --key-log FILE`):
 * one object per line, either
 *   {"type":"ike","spiI":"<16 hex>","spiR":"<16 hex>","encr":"AES_GCM_16","encrKeyBits":128,"integ":null,
 *    "skEi":"<hex>","skEr":"<hex>","skAi":null,"skAr":null}
 * or
 *   {"type":"esp","src":"192.0.2.1","dst":"192.0.2.2","spi":"<8 hex>","encr":"AES_GCM_16","encrKey":"<hex incl. salt>",
 *    "integ":null,"integKey":null}
 * Algorithm names as swanctl prints them. Unknown types and malformed lines are skipped (returned in `errors`).
 */
export function keysFromJsonLines(text: string): { ike: IkeSaKeys[]; esp: EspSaKeys[]; errors: string[] } {
  const ike: IkeSaKeys[] = [];
  const esp: EspSaKeys[] = [];
  const errors: string[] = [];
  const hex = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-fA-F]*$/.test(v);
  const opt = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      errors.push(`line ${i + 1}: not JSON`);
      return;
    }
    if (o.type === 'ike' && hex(o.spiI) && hex(o.spiR) && typeof o.encr === 'string' && hex(o.skEi) && hex(o.skEr)) {
      ike.push({
        spiI: o.spiI.toLowerCase(),
        spiR: o.spiR.toLowerCase(),
        encr: o.encr,
        encrKeyBits: typeof o.encrKeyBits === 'number' ? o.encrKeyBits : undefined,
        integ: opt(o.integ),
        skEi: o.skEi.toLowerCase(),
        skEr: o.skEr.toLowerCase(),
        skAi: opt(o.skAi)?.toLowerCase(),
        skAr: opt(o.skAr)?.toLowerCase(),
      });
    } else if (o.type === 'esp' && typeof o.src === 'string' && typeof o.dst === 'string' && hex(o.spi) && typeof o.encr === 'string' && hex(o.encrKey)) {
      esp.push({
        src: o.src,
        dst: o.dst,
        spi: o.spi.toLowerCase().padStart(8, '0'),
        encr: o.encr,
        encrKey: o.encrKey.toLowerCase(),
        integ: opt(o.integ),
        integKey: opt(o.integKey)?.toLowerCase(),
      });
    } else {
      errors.push(`line ${i + 1}: not an ike/esp key record`);
    }
  });
  return { ike, esp, errors };
}

/**
 * Key logs for `cygnet inspect`, three formats, told apart line by line:
 *
 * - cygnet's own `--key-log` (src/daemon/key-log.ts): JSON lines `{"type":"ike",...}` / `{"type":"esp",...}` with
 *   strongSwan's transform names (AES_GCM_16, HMAC_SHA2_256_128);
 * - Wireshark's `ikev2_decryption_table` UAT, as strongSwan's save-keys plugin and Wireshark write it:
 *   `SPIi,SPIr,SK_ei,SK_er,"AES-CBC-256 [RFC3602]",SK_ai,SK_ar,"HMAC_SHA2_256_128 [RFC4868]"`;
 * - Wireshark's `esp_sa` UAT: `"IPv4","src","dst","0xSPI","AES-GCM with 16 octet ICV [RFC4106]","0xKEY","NULL",""`
 *   (strongSwan writes `"AES-GCM [RFC4106]"` with `"ANY 128 bit authentication [no checking]"` for the ICV size).
 *
 * Lines that cannot be used are KeyLogError values naming file, line and cause; they never stop the others.
 */
import * as crypto from '../crypto/index.js';

export interface IkeKeyEntry {
  /** 16 hex digits each, lowercase. */
  readonly spiI: string;
  readonly spiR: string;
  /** IANA ENCR id, undefined when the name is not one cygnet implements (then `encrName` says which). */
  readonly encr: number | undefined;
  readonly encrName: string;
  readonly encrKeyBits?: number;
  /** IANA INTEG id; 0 for AEAD; undefined when unsupported (see integName). */
  readonly integ: number | undefined;
  readonly integName: string;
  readonly skEi: Uint8Array;
  readonly skEr: Uint8Array;
  readonly skAi?: Uint8Array;
  readonly skAr?: Uint8Array;
  /** `file:line` the entry came from. */
  readonly source: string;
}

export interface EspKeyEntry {
  readonly src?: string;
  readonly dst?: string;
  readonly spi: number;
  /** IANA ENCR ids to try in order (one, except strongSwan's ICV-less `AES-GCM [RFC4106]`); empty when unsupported. */
  readonly encr: readonly number[];
  readonly encrName: string;
  readonly integ: number | undefined;
  readonly integName: string;
  readonly encrKey: Uint8Array;
  readonly integKey?: Uint8Array;
  readonly source: string;
}

export interface KeyLogError {
  readonly source: string;
  readonly message: string;
}

export interface KeyLog {
  readonly ike: IkeKeyEntry[];
  readonly esp: EspKeyEntry[];
  readonly errors: KeyLogError[];
}

const encrByName = new Map(crypto.encrTransforms.map((t) => [t.name, t.id]));
const integByName = new Map(crypto.integTransforms.map((t) => [t.name, t.id]));

const HEX = /^(?:0x)?((?:[0-9a-fA-F]{2})*)$/;
function hexBytes(v: string): Uint8Array | undefined {
  const m = HEX.exec(v.trim().replace(/:/g, ''));
  return m ? Uint8Array.from(Buffer.from(m[1]!, 'hex')) : undefined;
}

/** Splits one UAT line into fields: quoted strings (with \\ and \" escapes, or \xNN) or bare hex. */
export function splitUatLine(line: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (line[i] === '"') {
      let s = '';
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && line[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
          s += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 4;
        } else if (line[i] === '\\' && i + 1 < line.length) {
          s += line[i + 1];
          i += 2;
        } else s += line[i++];
      }
      if (line[i] !== '"') return undefined;
      i++;
      out.push(s);
    } else {
      let j = i;
      while (j < line.length && line[j] !== ',') j++;
      out.push(line.slice(i, j).trim());
      i = j;
    }
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (i >= line.length) return out;
    if (line[i] !== ',') return undefined;
    i++;
  }
}

/** Parses one key log file's text (any mix of the three formats). `file` names the source in entries and errors. */
export function parseKeyLog(text: string, file: string): KeyLog {
  const log: KeyLog = { ike: [], esp: [], errors: [] };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const source = `${file}:${i + 1}`;
    if (line === '' || line.startsWith('#')) return;
    const r = line.startsWith('{') ? parseCygnetLine(line, source) : parseUatLine(line, source);
    if ('message' in r) log.errors.push(r);
    else if ('spiI' in r) log.ike.push(r);
    else log.esp.push(r);
  });
  return log;
}

function parseCygnetLine(line: string, source: string): IkeKeyEntry | EspKeyEntry | KeyLogError {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch (e) {
    return { source, message: `not JSON (${(e as Error).message})` };
  }
  const str = (k: string): string | undefined => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined);
  const bytes = (k: string): Uint8Array | undefined => {
    const v = str(k);
    return v === undefined ? undefined : hexBytes(v);
  };
  if (o.type === 'ike') {
    const spiI = str('spiI');
    const spiR = str('spiR');
    const encrName = str('encr');
    const skEi = bytes('skEi');
    const skEr = bytes('skEr');
    if (!spiI || !/^[0-9a-fA-F]{16}$/.test(spiI) || !spiR || !/^[0-9a-fA-F]{16}$/.test(spiR)) return { source, message: 'ike record: spiI/spiR must be 16 hex digits' };
    if (!encrName) return { source, message: 'ike record: no encr' };
    if (!skEi || !skEr) return { source, message: 'ike record: skEi/skEr missing or not hex' };
    const integName = str('integ') ?? '';
    return {
      spiI: spiI.toLowerCase(),
      spiR: spiR.toLowerCase(),
      encr: encrByName.get(encrName),
      encrName,
      ...(typeof o.encrKeyBits === 'number' ? { encrKeyBits: o.encrKeyBits } : {}),
      integ: integName === '' ? 0 : integByName.get(integName),
      integName,
      skEi,
      skEr,
      ...(bytes('skAi') ? { skAi: bytes('skAi') } : {}),
      ...(bytes('skAr') ? { skAr: bytes('skAr') } : {}),
      source,
    };
  }
  if (o.type === 'esp') {
    const spi = str('spi');
    const encrName = str('encr');
    const encrKey = bytes('encrKey') ?? (encrName === 'NULL' ? new Uint8Array(0) : undefined);
    if (!spi || !/^(0x)?[0-9a-fA-F]{1,8}$/.test(spi)) return { source, message: 'esp record: spi must be up to 8 hex digits' };
    if (!encrName) return { source, message: 'esp record: no encr' };
    if (!encrKey) return { source, message: 'esp record: encrKey missing or not hex' };
    const integName = str('integ') ?? '';
    const encr = encrByName.get(encrName);
    return {
      ...(str('src') ? { src: str('src') } : {}),
      ...(str('dst') ? { dst: str('dst') } : {}),
      spi: parseInt(spi.replace(/^0x/, ''), 16),
      encr: encr === undefined ? [] : [encr],
      encrName,
      integ: integName === '' ? 0 : integByName.get(integName),
      integName,
      encrKey,
      ...(bytes('integKey') ? { integKey: bytes('integKey') } : {}),
      source,
    };
  }
  return { source, message: `unknown record type ${JSON.stringify(o.type)} (expected "ike" or "esp")` };
}

/** Wireshark 4.x IKEv2 encryption labels (packet-isakmp.c) -> IANA id and key bits. */
function ikeEncrLabel(label: string): { encr?: number; bits?: number } {
  let m: RegExpExecArray | null;
  if (/^3DES \[RFC2451\]$/.test(label)) return { encr: 3 };
  if (/^NULL \[RFC2410\]$/.test(label)) return { encr: 11 };
  if ((m = /^AES-(CBC|CTR)-(128|192|256) \[/.exec(label))) return { encr: m[1] === 'CBC' ? 12 : 13, bits: Number(m[2]) };
  if ((m = /^AES-(GCM|CCM)-(128|192|256) with (8|12|16) octet ICV/.exec(label))) {
    const base = m[1] === 'GCM' ? { 8: 18, 12: 19, 16: 20 } : { 8: 14, 12: 15, 16: 16 };
    return { encr: base[Number(m[3]) as 8 | 12 | 16], bits: Number(m[2]) };
  }
  if (/chacha20/i.test(label)) return { encr: 28 };
  return {};
}

/** Wireshark integrity labels, IKE (`HMAC_SHA2_256_128 [RFC4868]`) and ESP (`HMAC-SHA-256-128 [RFC4868]`). */
function integLabel(label: string): { integ?: number; anyBits?: number } {
  if (label === '' || /^NONE\b/.test(label) || label === 'NULL') return { integ: 0 };
  const m = /^ANY (\d+) bit authentication/.exec(label);
  if (m) return { integ: 0, anyBits: Number(m[1]) };
  const norm = label.replace(/\s*\[.*$/, '').replace(/-/g, '_').toUpperCase().replace('SHA_1', 'SHA1').replace(/^HMAC_SHA_(\d)/, 'HMAC_SHA2_$1');
  const id = integByName.get(norm);
  return id === undefined ? {} : { integ: id };
}

/** Wireshark ESP encryption labels (packet-ipsec.c) -> candidate IANA ids. */
function espEncrLabel(label: string, anyBits: number | undefined): number[] {
  if (label === 'NULL') return [11];
  if (/^TripleDES-CBC/i.test(label)) return [3];
  if (/^AES-CBC \[/.test(label)) return [12];
  if (/^AES-CTR \[/.test(label)) return [13];
  const m = /^AES-GCM with (8|12|16) octet ICV/.exec(label);
  if (m) return [{ 8: 18, 12: 19, 16: 20 }[Number(m[1]) as 8 | 12 | 16]];
  if (/^AES-GCM \[RFC4106\]$/.test(label)) {
    // strongSwan's save-keys gives the ICV as "ANY n bit"; it writes 64 for both 8- and 12-byte ICVs: try both.
    if (anyBits === 128) return [20, 19, 18];
    if (anyBits === 96) return [19, 18, 20];
    if (anyBits === 64) return [18, 19, 20];
    return [20, 19, 18];
  }
  if (/chacha20/i.test(label)) return [28];
  return [];
}

function parseUatLine(line: string, source: string): IkeKeyEntry | EspKeyEntry | KeyLogError {
  const f = splitUatLine(line);
  if (!f) return { source, message: 'unbalanced quotes or a stray character between fields' };
  if (f[0] === 'IPv4' || f[0] === 'IPv6' || f[0] === 'Any') {
    // esp_sa: protocol, src, dst, SPI, encryption, encryption key, authentication, authentication key[, ...]
    if (f.length < 8) return { source, message: `esp_sa record has ${f.length} fields, expected at least 8` };
    const [, src, dst, spiText, encLabel, encKeyText, authLabel, authKeyText] = f as [string, string, string, string, string, string, string, string];
    if (!/^(0x)?[0-9a-fA-F]{1,8}$/.test(spiText)) return { source, message: `esp_sa SPI '${spiText}' is not hex (0x12345678)` };
    const auth = integLabel(authLabel);
    const encr = espEncrLabel(encLabel, auth.anyBits);
    const encrKey = encLabel === 'NULL' ? new Uint8Array(0) : hexBytes(encKeyText);
    if (!encrKey) return { source, message: `esp_sa encryption key '${encKeyText.slice(0, 12)}...' is not hex` };
    const integKey = authKeyText === '' ? undefined : hexBytes(authKeyText);
    if (authKeyText !== '' && !integKey) return { source, message: 'esp_sa authentication key is not hex' };
    const hasIntegKey = integKey !== undefined && integKey.length > 0;
    const wildcard = (a: string): boolean => a === '' || a === '*';
    return {
      ...(wildcard(src) ? {} : { src }),
      ...(wildcard(dst) ? {} : { dst }),
      spi: parseInt(spiText.replace(/^0x/, ''), 16),
      encr,
      encrName: encLabel,
      integ: auth.integ,
      integName: authLabel,
      encrKey,
      ...(hasIntegKey ? { integKey } : {}),
      source,
    };
  }
  // ikev2_decryption_table: SPIi, SPIr, SK_ei, SK_er, encryption, SK_ai, SK_ar, integrity
  if (f.length !== 8) return { source, message: `${f.length} fields: neither an ikev2_decryption_table record (8 fields, SPIi first) nor esp_sa ("IPv4"/"IPv6" first)` };
  const [spiI, spiR, ei, er, encLabel, ai, ar, intLabel] = f as [string, string, string, string, string, string, string, string];
  const spi = (s: string): string | undefined => (/^(0x)?[0-9a-fA-F]{16}$/.test(s) ? s.replace(/^0x/, '').toLowerCase() : undefined);
  const i = spi(spiI);
  const r = spi(spiR);
  if (!i || !r) return { source, message: 'ikev2_decryption_table SPIs must be 16 hex digits each' };
  const skEi = hexBytes(ei);
  const skEr = hexBytes(er);
  if (!skEi || !skEr) return { source, message: 'ikev2_decryption_table SK_ei/SK_er are not hex' };
  const e = ikeEncrLabel(encLabel);
  const a = integLabel(intLabel);
  const skAi = ai === '' ? undefined : hexBytes(ai);
  const skAr = ar === '' ? undefined : hexBytes(ar);
  return {
    spiI: i,
    spiR: r,
    encr: e.encr,
    encrName: encLabel,
    ...(e.bits !== undefined ? { encrKeyBits: e.bits } : {}),
    integ: a.integ,
    integName: intLabel,
    skEi,
    skEr,
    ...(skAi && skAi.length > 0 ? { skAi } : {}),
    ...(skAr && skAr.length > 0 ? { skAr } : {}),
    source,
  };
}

/** Merges several parsed files. */
export function mergeKeyLogs(logs: readonly KeyLog[]): KeyLog {
  return { ike: logs.flatMap((l) => l.ike), esp: logs.flatMap((l) => l.esp), errors: logs.flatMap((l) => l.errors) };
}

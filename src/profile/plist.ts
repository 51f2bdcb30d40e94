/**
 * Apple's XML property list format (the DTD at http://www.apple.com/DTDs/PropertyList-1.0.dtd), writing only:
 * dict, array, string, integer, true/false and data (base64). Dictionary keys keep insertion order, which makes
 * profiles diffable; configuration profiles are read by key, so order carries no meaning.
 */

export type PlistValue = string | number | boolean | Uint8Array | readonly PlistValue[] | PlistDict;
export interface PlistDict {
  readonly [key: string]: PlistValue | undefined;
}

/** XML 1.0 character data: &, < and > escaped; characters XML cannot carry at all are refused. */
export function xmlEscape(s: string): string {
  // XML 1.0 section 2.2 Char: no C0 controls other than tab, LF and CR, no lone surrogates, no U+FFFE/U+FFFF.
  const bad = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.exec(s);
  if (bad !== null) {
    const code = bad[0].codePointAt(0) ?? 0;
    throw new RangeError(`a property list string cannot hold the character U+${code.toString(16).toUpperCase().padStart(4, '0')} (in '${s.slice(0, 40)}')`);
  }
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function base64Lines(data: Uint8Array, indent: string): string {
  const b64 = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(indent + b64.slice(i, i + 64));
  return lines.join('\n');
}

function isDict(v: PlistValue): v is PlistDict {
  return typeof v === 'object' && !(v instanceof Uint8Array) && !Array.isArray(v);
}

function writeValue(v: PlistValue, depth: number, out: string[]): void {
  const pad = '\t'.repeat(depth);
  if (typeof v === 'string') out.push(`${pad}<string>${xmlEscape(v)}</string>`);
  else if (typeof v === 'boolean') out.push(`${pad}<${v ? 'true' : 'false'}/>`);
  else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new RangeError(`property list integers must be whole numbers, not ${v}`);
    out.push(`${pad}<integer>${v}</integer>`);
  } else if (v instanceof Uint8Array) {
    out.push(`${pad}<data>`, base64Lines(v, pad), `${pad}</data>`);
  } else if (Array.isArray(v)) {
    out.push(`${pad}<array>`);
    for (const item of v as readonly PlistValue[]) writeValue(item, depth + 1, out);
    out.push(`${pad}</array>`);
  } else if (isDict(v)) {
    out.push(`${pad}<dict>`);
    for (const [k, item] of Object.entries(v)) {
      if (item === undefined) continue;
      out.push(`${pad}\t<key>${xmlEscape(k)}</key>`);
      writeValue(item, depth + 1, out);
    }
    out.push(`${pad}</dict>`);
  }
}

/** The whole document: XML declaration, DOCTYPE and one top-level value. */
export function writePlist(root: PlistDict): string {
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
  ];
  writeValue(root, 0, out);
  out.push('</plist>', '');
  return out.join('\n');
}

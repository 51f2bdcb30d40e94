/**
 * vici messages (strongSwan src/libcharon/plugins/vici/README.md, "Message format") to and from a JS tree:
 * sections are objects, lists are arrays, values are strings (valid UTF-8) or Uint8Array (anything else).
 *
 * Wire elements: SECTION_START=1 name, SECTION_END=2, KEY_VALUE=3 name value, LIST_START=4 name, LIST_ITEM=5 value,
 * LIST_END=6. A name is 1 length byte + bytes; a value is a 16-bit big-endian length + bytes.
 *
 * Order matters to readers such as swanctl (it prints an IKE_SA when it meets the `child-sas` section, so the keys
 * must come first). Objects keep insertion order except for integer-like keys ("0", "17"), which JS sorts first:
 * avoid those as section names where order is significant.
 */
import { ViciError } from './errors.js';

export const ElementType = {
  SECTION_START: 1,
  SECTION_END: 2,
  KEY_VALUE: 3,
  LIST_START: 4,
  LIST_ITEM: 5,
  LIST_END: 6,
} as const;

/** A decoded value: text when the bytes are valid UTF-8, raw bytes otherwise. */
export type ViciValue = string | Uint8Array;
/** A decoded message or section. Objects have a null prototype, so `__proto__` is an ordinary key. */
export interface ViciMessage {
  [key: string]: ViciValue | ViciValue[] | ViciMessage;
}

/** What `encodeMessage` accepts: numbers/bigints become decimal text, booleans "yes"/"no", undefined is skipped. */
export type ViciInputValue = string | Uint8Array | number | bigint | boolean;
export interface ViciInput {
  [key: string]: ViciInputValue | readonly ViciInputValue[] | ViciInput | undefined;
}

const MAX_NAME = 255;
const MAX_VALUE = 65535;

const utf8 = new TextEncoder();
/** fatal: invalid UTF-8 stays bytes; ignoreBOM: a leading U+FEFF is kept, so text round-trips byte for byte. */
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function valueBytes(v: ViciInputValue, where: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  switch (typeof v) {
    case 'string':
      return utf8.encode(v);
    case 'number':
      if (!Number.isFinite(v)) throw new ViciError('BAD_VALUE', `${where}: cannot encode the number ${v}`);
      return utf8.encode(String(v));
    case 'bigint':
      return utf8.encode(v.toString());
    case 'boolean':
      return utf8.encode(v ? 'yes' : 'no');
    default:
      throw new ViciError('BAD_VALUE', `${where}: cannot encode a value of type ${typeof v}`);
  }
}

function isSection(v: unknown): v is ViciInput {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !Array.isArray(v);
}

/** Growable output buffer. */
class Writer {
  private buf = new Uint8Array(256);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  /** `allowEmpty`: charon names a section "" (get-counters' global counters, vici_query.c add_counters). */
  name(n: string, where: string, allowEmpty = false): void {
    const b = utf8.encode(n);
    if ((b.length === 0 && !allowEmpty) || b.length > MAX_NAME) {
      throw new ViciError('BAD_NAME', `${where}: name must be ${allowEmpty ? 0 : 1}..${MAX_NAME} bytes, got ${b.length}`);
    }
    this.byte(b.length);
    this.bytes(b);
  }
  value(v: ViciInputValue, where: string): void {
    const b = valueBytes(v, where);
    if (b.length > MAX_VALUE) throw new ViciError('BAD_VALUE', `${where}: value of ${b.length} bytes exceeds ${MAX_VALUE}`);
    this.byte(b.length >> 8);
    this.byte(b.length & 0xff);
    this.bytes(b);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function encodeSection(w: Writer, section: ViciInput, path: string): void {
  for (const key of Object.keys(section)) {
    const v = section[key];
    const where = path === '' ? key : `${path}.${key}`;
    if (v === undefined) continue;
    if (Array.isArray(v)) {
      w.byte(ElementType.LIST_START);
      w.name(key, where);
      v.forEach((item: ViciInputValue, i: number) => {
        w.byte(ElementType.LIST_ITEM);
        w.value(item, `${where}[${i}]`);
      });
      w.byte(ElementType.LIST_END);
    } else if (isSection(v)) {
      w.byte(ElementType.SECTION_START);
      w.name(key, where, true);
      encodeSection(w, v, where);
      w.byte(ElementType.SECTION_END);
    } else {
      w.byte(ElementType.KEY_VALUE);
      w.name(key, where);
      w.value(v as ViciInputValue, where);
    }
  }
}

/** Encode a tree as a vici message (the bytes after a packet's type and name). Throws ViciError on names/values out of range. */
export function encodeMessage(msg: ViciInput): Uint8Array {
  const w = new Writer();
  encodeSection(w, msg, '');
  return w.result();
}

function newSection(): ViciMessage {
  return Object.create(null) as ViciMessage;
}

function decodeValue(b: Uint8Array): ViciValue {
  try {
    return utf8Strict.decode(b);
  } catch {
    return b.slice();
  }
}

/**
 * Decode a vici message. Enforces the README's rules: balanced sections, lists not nested and holding only items,
 * unique keys per section. Throws only ViciError.
 */
export function decodeMessage(data: Uint8Array): ViciMessage {
  const root = newSection();
  const stack: ViciMessage[] = [root];
  let list: ViciValue[] | undefined;
  let pos = 0;

  const need = (n: number, what: string, at: number): void => {
    if (pos + n > data.length) throw new ViciError('TRUNCATED', `message ends inside ${what}`, at);
  };
  const readName = (at: number, allowEmpty = false): string => {
    need(1, 'a name length', at);
    const len = data[pos++]!;
    if (len === 0 && !allowEmpty) throw new ViciError('BAD_NAME', 'empty name', at);
    need(len, 'a name', at);
    const bytes = data.subarray(pos, pos + len);
    pos += len;
    try {
      return utf8Strict.decode(bytes);
    } catch {
      throw new ViciError('BAD_NAME', 'name is not valid UTF-8', at);
    }
  };
  const readValue = (at: number): ViciValue => {
    need(2, 'a value length', at);
    const len = (data[pos]! << 8) | data[pos + 1]!;
    pos += 2;
    need(len, 'a value', at);
    const v = decodeValue(data.subarray(pos, pos + len));
    pos += len;
    return v;
  };
  const put = (key: string, v: ViciMessage[string], at: number): void => {
    const cur = stack[stack.length - 1]!;
    if (Object.prototype.hasOwnProperty.call(cur, key)) throw new ViciError('DUPLICATE_KEY', `duplicate key '${key}'`, at);
    cur[key] = v;
  };

  while (pos < data.length) {
    const at = pos;
    const type = data[pos++]!;
    if (list !== undefined && type !== ElementType.LIST_ITEM && type !== ElementType.LIST_END) {
      if (type >= 1 && type <= 6) {
        throw new ViciError(type === ElementType.LIST_START ? 'UNBALANCED_LIST' : 'MISPLACED_ELEMENT', `element type ${type} inside a list`, at);
      }
      throw new ViciError('UNKNOWN_ELEMENT', `unknown element type ${type}`, at);
    }
    switch (type) {
      case ElementType.SECTION_START: {
        // An empty section name is charon's (get-counters' global section); keys and lists need a name.
        const name = readName(at, true);
        const s = newSection();
        put(name, s, at);
        stack.push(s);
        break;
      }
      case ElementType.SECTION_END:
        if (stack.length === 1) throw new ViciError('UNBALANCED_SECTION', 'SECTION_END without an open section', at);
        stack.pop();
        break;
      case ElementType.KEY_VALUE: {
        const name = readName(at);
        put(name, readValue(at), at);
        break;
      }
      case ElementType.LIST_START: {
        const name = readName(at);
        const l: ViciValue[] = [];
        put(name, l, at);
        list = l;
        break;
      }
      case ElementType.LIST_ITEM:
        if (list === undefined) throw new ViciError('MISPLACED_ELEMENT', 'LIST_ITEM outside a list', at);
        list.push(readValue(at));
        break;
      case ElementType.LIST_END:
        if (list === undefined) throw new ViciError('UNBALANCED_LIST', 'LIST_END without an open list', at);
        list = undefined;
        break;
      default:
        throw new ViciError('UNKNOWN_ELEMENT', `unknown element type ${type}`, at);
    }
  }
  if (list !== undefined) throw new ViciError('UNBALANCED_LIST', 'list not closed at end of message', data.length);
  if (stack.length !== 1) throw new ViciError('UNBALANCED_SECTION', `${stack.length - 1} section(s) not closed at end of message`, data.length);
  return root;
}

/** A value as text ('' when absent; bytes decoded leniently). For reading replies. */
export function str(v: ViciMessage[string] | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return undefined;
}

/** Find a value by a dotted path like vici_find_str(res, def, "uptime.running"). */
export function findValue(msg: ViciMessage, path: string): ViciMessage[string] | undefined {
  let cur: ViciMessage[string] | undefined = msg;
  for (const part of path.split('.')) {
    if (cur === undefined || typeof cur === 'string' || cur instanceof Uint8Array || Array.isArray(cur)) return undefined;
    cur = Object.prototype.hasOwnProperty.call(cur, part) ? cur[part] : undefined;
  }
  return cur;
}

export function findStr(msg: ViciMessage, path: string): string | undefined {
  return str(findValue(msg, path));
}

/** A sub-section, or undefined when absent or not a section. */
export function section(v: ViciMessage[string] | undefined): ViciMessage | undefined {
  if (v === undefined || typeof v === 'string' || v instanceof Uint8Array || Array.isArray(v)) return undefined;
  return v;
}

/** A list of texts, or undefined when absent or not a list. */
export function strList(v: ViciMessage[string] | undefined): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.map((x) => (typeof x === 'string' ? x : new TextDecoder().decode(x)));
}

/** A plain tree of text: what config code (src/config settingsFromObject) takes. Bytes decode as UTF-8. */
export interface PlainTree {
  [key: string]: string | string[] | PlainTree;
}

/** Convert a decoded message to a PlainTree (values and list items as text), e.g. a load-conn section. */
export function toPlainTree(msg: ViciMessage): PlainTree {
  const out: PlainTree = Object.create(null) as PlainTree;
  for (const [k, v] of Object.entries(msg)) {
    if (Array.isArray(v)) out[k] = v.map((x) => str(x) ?? '');
    else if (typeof v === 'string' || v instanceof Uint8Array) out[k] = str(v) ?? '';
    else out[k] = toPlainTree(v);
  }
  return out;
}

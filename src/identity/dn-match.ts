/**
 * Distinguished-name comparison on the structure, never on printed text (issue 11: "C=CH, O=example\, CN=gw"
 * with two RDNs printed like the three-RDN "C=CH, O=example, CN=gw" once escapes were lost, and matched it).
 *
 * Rules, after strongSwan's identification.c compare_dn (same number of RDNs, same order, same attribute types,
 * a configured value of exactly "*" matches any value of that type and counts as a wildcard) and RFC 5280 7.1:
 *   - a multi-valued RDN is a set: it matches an RDN with the same number of AVAs that pair up one to one, in any
 *     order; it never matches several single-valued RDNs (strongSwan flattens RDNs here; we do not);
 *   - string values compare after RFC 4518 preparation whatever their string type (PrintableString, UTF8String,
 *     IA5String, T61String, BMPString, UniversalString): NFKC, white space characters as SPACE, insignificant
 *     spaces (leading, trailing, runs) removed, and case folded for attributes whose equality rule is
 *     caseIgnoreMatch or caseIgnoreIA5Match (attributes.ts); unknown attributes compare case-exact;
 *   - strict where RFC 4518 would be lenient: a value with characters that preparation would silently drop or
 *     prohibits (controls, zero-width and bidi formatting characters, U+FFFD, private use, noncharacters)
 *     only equals an identical value;
 *   - values that are not directory strings compare by their DER (tag and bytes).
 */
import { ignoresCase } from './attributes.js';
import { bytesEqual } from './der.js';
import type { Ava, Dn, Rdn } from './dn.js';

// RFC 4518 2.2: characters mapped to SPACE (U+0009-000D, U+0085 and the Zs/Zl/Zp separators).
const SPACES = /[\t\n\v\f\r\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/g;
// Mapped to nothing or prohibited by RFC 4518 2.2/2.4 (or invisible): we refuse to fold these away.
const SUSPICIOUS =
  /[\u0000-\u0008\u000e-\u001f\u007f-\u0084\u0086-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffd\ue000-\uf8ff]|[\u{f0000}-\u{10ffff}]|\p{Noncharacter_Code_Point}|\p{Cs}/u;

/** The RFC 4518 prepared form of a value, or undefined when it contains characters we do not fold. */
export function prepareValue(text: string, caseIgnore: boolean): string | undefined {
  if (SUSPICIOUS.test(text)) return undefined;
  let s = text.replace(SPACES, ' ').normalize('NFKC');
  // Case folding (RFC 3454 B.2) approximated by upper- then lower-casing, which also folds ß/ẞ and ſ.
  if (caseIgnore) s = s.toUpperCase().toLowerCase().normalize('NFKC');
  // RFC 4518 2.6.1: leading and trailing spaces are insignificant, inner runs compare as one.
  return s.trim().replace(/ +/g, ' ');
}

/** Whether two AVAs are equal under the attribute's matching rule (no wildcards). */
export function avaEquals(a: Ava, b: Ava): boolean {
  if (a.oid !== b.oid) return false;
  if (bytesEqual(a.der, b.der)) return true;
  if (a.text === undefined || b.text === undefined) return false;
  const ci = ignoresCase(a.oid);
  const pa = prepareValue(a.text, ci);
  const pb = prepareValue(b.text, ci);
  if (pa === undefined || pb === undefined) return a.text === b.text;
  return pa === pb;
}

function isWildcard(a: Ava): boolean {
  return a.text === '*';
}

/**
 * Matches one RDN of a pattern against one of a name: same size, AVAs paired one to one. Exact AVAs are paired
 * first, wildcards take what is left (as strongSwan's match_dn orders them), so greedy pairing is complete:
 * equality under a matching rule is an equivalence, and a wildcard accepts any value of its type.
 * Returns the number of wildcards used, or undefined.
 */
function rdnMatch(pattern: Rdn, rdn: Rdn, wildcards: boolean): number | undefined {
  if (pattern.length !== rdn.length) return undefined;
  const used = new Array<boolean>(rdn.length).fill(false);
  const ordered = wildcards ? [...pattern.filter((a) => !isWildcard(a)), ...pattern.filter(isWildcard)] : pattern;
  let wc = 0;
  for (const p of ordered) {
    const wild = wildcards && isWildcard(p);
    const k = rdn.findIndex((r, i) => !used[i] && (wild ? r.oid === p.oid : avaEquals(p, r)));
    if (k < 0) return undefined;
    used[k] = true;
    if (wild) wc++;
  }
  return wc;
}

/** Equality of two names (RFC 5280 7.1). Neither side's "*" is special. */
export function dnEquals(a: Dn, b: Dn): boolean {
  return a.length === b.length && a.every((rdn, i) => rdnMatch(rdn, b[i]!, false) !== undefined);
}

/**
 * Whether `dn` matches a configured `pattern` whose values may be "*" (strongSwan's compare_dn with
 * wildcards: same RDN count and order). Returns the number of wildcards used (0 = equal), or undefined.
 */
export function dnMatch(pattern: Dn, dn: Dn): number | undefined {
  if (pattern.length !== dn.length) return undefined;
  let wc = 0;
  for (let i = 0; i < pattern.length; i++) {
    const r = rdnMatch(pattern[i]!, dn[i]!, true);
    if (r === undefined) return undefined;
    wc += r;
  }
  return wc;
}

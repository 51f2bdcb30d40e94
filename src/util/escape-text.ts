/**
 * Escaping peer-controlled text for line-oriented output (text logs, vici log events that swanctl prints): one
 * place, so no caller can forget it (issue 11: a newline in a peer ID forged log lines).
 */

/**
 * Makes text safe for a line-oriented log: C0 controls, DEL, C1 controls and the Unicode line and paragraph
 * separators become visible escapes (`\n`, `\r`, `\t`, `\xNN`, `\u{2028}`), so one message is always one line
 * and cannot carry terminal control sequences; so do the bidirectional formatting characters (U+202A-202E,
 * U+2066-2069, LRM/RLM/ALM), which would let a peer's ID display the rest of a line reordered. Other text,
 * backslashes included, is left as written.
 */
export function escapeLogText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const cp = c.charCodeAt(0);
    return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
  });
}

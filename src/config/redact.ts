/**
 * Secrets never appear in configuration errors or warnings. The value readers already leave out the value of a
 * secret-bearing key (SectionReader's `secret` option); this is the backstop every ConfigError and ConfigWarning
 * passes through, for text that quotes a whole line or a run of settings (`id = a  secret = x` read as one value,
 * a `secret hunter2` missing its '='), so no new message can forget it.
 *
 * Secret-bearing keys are those whose last name component is `secret`, `pin`, `passphrase`, `password`, `psk` or
 * `ppk`, starts with `secret-`/`secret_`, or ends in one of those after `-`/`_` (swanctl.conf's `secrets` sections,
 * vici's load-shared/load-token fields, strongswan.conf's `eap-radius.secret`, `...servers.x.secret`).
 */

const SECRET_NAME = /^(?:secret|pin|passphrase|password|psk|ppk)$|^secret[-_]|[-_](?:secret|pin|passphrase|password|psk)$/i;

/** Whether a key's value must never be shown (`secrets.ike-1.secret`, `pin`, `secret-2`, `eap-radius.secret`). */
export function isSecretKey(name: string): boolean {
  const last = name.slice(name.lastIndexOf('.') + 1);
  return SECRET_NAME.test(last);
}

export const REDACTED = '<redacted>';

// `name = value` inside a message: the value runs to a closing quote of the message's own quoting (a `'`
// followed by ':', ')', ',', space or the end), else to the end of the line.
const ASSIGNMENT = /([\w.-]+)(\s*=\s*)("[^"\n]*"?|[^\n]*?)(?='(?=[:),\s]|$)|\n|$)/g;
// The value reader's "secrets.ike-1.secret: invalid value 'x': ..." for a key whose reader forgot `secret`.
const INVALID_VALUE = /([\w.-]+)(: invalid value )'.*?'(?=[:),\s]|$)/gm;
// The parser's "expected '=' or '{' after 'secret', found 'hunter2'": the token after a secret key is its value.
const FOUND_AFTER = /(after '([\w.-]+)',? found )'[^'\n]*'/g;

/** `text` with the value of every secret-bearing `key = value` in it replaced by `<redacted>`. */
export function redactSecrets(text: string): string {
  if (!/secret|pin|pass|psk|ppk/i.test(text)) return text;
  return text
    .replace(ASSIGNMENT, (all, name: string, eq: string, value: string) =>
      isSecretKey(name) && value !== '' && !value.startsWith('...') && value !== REDACTED ? `${name}${eq}${REDACTED}` : all,
    )
    .replace(INVALID_VALUE, (all, name: string, head: string) => (isSecretKey(name) ? `${name}${head}${REDACTED}` : all))
    .replace(FOUND_AFTER, (all, head: string, name: string) => (isSecretKey(name) ? `${head}its value (not shown: a secret)` : all));
}

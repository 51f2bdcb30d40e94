/**
 * Errors and warnings of the configuration layer.
 *
 * Every failure while reading swanctl.conf is a ConfigError that names the file, line and column and what was
 * expected there; the loader never lets any other exception escape (a fuzz test holds it to that). Several
 * problems found in one pass travel together as one ConfigError whose `errors` lists each of them, so an
 * administrator fixes a file in one round trip, and nothing starts half-configured.
 */

import { redactSecrets } from './redact.js';
import { CodedError } from '../util/coded-error.js';

/** Where something is in a configuration file. Lines and columns count from 1. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export type ConfigErrorCode =
  /** the settings grammar was violated (missing '=', unbalanced braces, unterminated string...) */
  | 'SYNTAX'
  /** an include could not be resolved: file missing or unreadable, cycle, too deep */
  | 'INCLUDE'
  /** a value does not have the form its key needs */
  | 'INVALID_VALUE'
  /** a section appears where the schema has none */
  | 'UNKNOWN_SECTION'
  /** the configuration is well formed but inconsistent (a pool that is not defined, overlapping pools...) */
  | 'INCONSISTENT'
  /** strongSwan accepts it, cygnet cannot honour it and refuses rather than run something else */
  | 'UNSUPPORTED'
  /** a key neither strongSwan nor cygnet knows (a typo, usually: the message suggests the closest key) */
  | 'UNKNOWN_KEY'
  /** several errors, listed in `errors` */
  | 'MULTIPLE';

function formatWhere(loc: SourceLocation | undefined): string {
  if (loc === undefined) return '';
  return loc.line > 0 ? `${loc.file}:${loc.line}: ` : `${loc.file}: `;
}

export class ConfigError extends CodedError<ConfigErrorCode> {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The message without the `file:line:` prefix. */
  readonly detail: string;
  /** For code 'MULTIPLE' every error found; otherwise just this one. */
  readonly errors: readonly ConfigError[];
  /** Warnings found before the configuration was rejected (for logging next to the errors). */
  warnings: readonly ConfigWarning[] = [];

  constructor(code: ConfigErrorCode, loc: SourceLocation | undefined, detail: string, errors?: readonly ConfigError[]) {
    // Every message passes the secret redaction (./redact.ts): no error can quote a `secret = ...` line.
    detail = redactSecrets(detail);
    super(code, formatWhere(loc) + detail);
    this.file = loc?.file ?? '';
    this.line = loc?.line ?? 0;
    this.column = loc?.column ?? 0;
    this.detail = detail;
    this.errors = errors ?? [this];
  }

  /** One error for a list: the error itself when there is one, else a 'MULTIPLE' listing all of them. */
  static combine(errors: readonly ConfigError[]): ConfigError {
    if (errors.length === 1) return errors[0]!;
    const first = errors[0];
    const lines = errors.map((e) => `  ${e.message}`).join('\n');
    const where: SourceLocation | undefined = first ? { file: first.file, line: 0, column: 0 } : undefined;
    return new ConfigError('MULTIPLE', where, `${errors.length} errors:\n${lines}`, errors);
  }
}

export function isConfigError(e: unknown, code?: ConfigErrorCode): e is ConfigError {
  return e instanceof ConfigError && (code === undefined || e.code === code);
}

export type ConfigWarningCode =
  /** strongSwan knows the key; cygnet parses and validates it but does not act on it */
  | 'NOT_IMPLEMENTED'
  /** neither strongSwan nor cygnet knows the key (a typo, usually: see `suggestion`) */
  | 'UNKNOWN_KEY'
  /** legal but probably not what was meant (life_time below rekey_time, psk without secrets...) */
  | 'SUSPICIOUS';

export interface ConfigWarning {
  readonly code: ConfigWarningCode;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The dotted path of the key, e.g. `connections.home.mobike`. */
  readonly path: string;
  /** For UNKNOWN_KEY: the closest known key, if one is close. */
  readonly suggestion?: string;
  /** `swanctl.conf:14: connections.home.if_id_in: accepted but not implemented` */
  readonly message: string;
}

export function makeWarning(
  code: ConfigWarningCode,
  loc: SourceLocation,
  path: string,
  text: string,
  suggestion?: string,
): ConfigWarning {
  const w: ConfigWarning = {
    code,
    file: loc.file,
    line: loc.line,
    column: loc.column,
    path,
    message: `${formatWhere(loc)}${path}: ${redactSecrets(text)}`,
    ...(suggestion !== undefined ? { suggestion } : {}),
  };
  return w;
}

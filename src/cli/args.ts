/**
 * A small strict option parser for the cygnet subcommands: `--name value`, `--name=value` and boolean flags.
 * Unknown options and missing values are a UsageError naming the option (exit code 2).
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface OptionSpec {
  /** Takes a value (default) or is a flag. */
  readonly flag?: boolean;
}

export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, OptionSpec>>): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option '--${name}'`);
    if (s.flag) {
      if (eq >= 0) throw new UsageError(`option '--${name}' takes no value`);
      out.set(name, 'true');
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined) throw new UsageError(`option '--${name}' needs a value`);
    out.set(name, value);
  }
  return out;
}

/** A UDP port option: an integer 1..65535. */
export function portOption(opts: Map<string, string>, name: string): number | undefined {
  const v = opts.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 65535) throw new UsageError(`--${name}: '${v}' is not a UDP port (1-65535)`);
  return n;
}

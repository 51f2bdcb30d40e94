/**
 * Where the console listens, and the rule that keeps it off the network by accident: loopback by default; any
 * other address only with TLS, or with --insecure-bind said out loud.
 */
import { isIP } from 'node:net';

export const DEFAULT_LISTEN = '127.0.0.1:8470';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export class ListenError extends Error {
  override readonly name = 'ListenError';
}

/** `127.0.0.1:8470`, `[::1]:8470`, `0.0.0.0:443`, `localhost:8470`; port 0 picks a free one. */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(text.trim());
  if (!m) throw new ListenError(`listen address '${text}' is not HOST:PORT (IPv6 as [ADDR]:PORT)`);
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (port > 65535) throw new ListenError(`listen port ${port} is out of range (0-65535)`);
  if (m[1] !== undefined && isIP(host) !== 6) throw new ListenError(`'${host}' in brackets is not an IPv6 address`);
  if (m[2] !== undefined && isIP(host) === 0 && host !== 'localhost') throw new ListenError(`listen host '${host}' is not an IP address or localhost`);
  return { host, port };
}

/** 127.0.0.0/8, ::1, ::ffff:127.x and `localhost`. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  const v4 = host.startsWith('::ffff:') ? host.slice(7) : host;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * Refuse a non-loopback bind without TLS (passwords and session cookies would cross the network in clear)
 * unless the operator forced it. Returns a warning to log when forced.
 */
export function checkBind(addr: ListenAddress, opts: { tls: boolean; insecureBind: boolean }): string | undefined {
  if (isLoopback(addr.host) || opts.tls) return undefined;
  if (!opts.insecureBind) {
    throw new ListenError(
      `refusing to listen on ${addr.host} without TLS: passwords and session cookies would cross the network in clear text; give --tls-cert and --tls-key, or --insecure-bind to force it`,
    );
  }
  return `listening on ${addr.host} without TLS (--insecure-bind): passwords and session cookies cross the network in clear text`;
}

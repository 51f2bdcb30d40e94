/**
 * The console's own configuration file (default /etc/cygnet/console.conf), one `key = value` a line:
 *
 *   listen = 127.0.0.1:8470
 *   socket = /var/run/cygnet.vici          # or strongSwan's /var/run/charon.vici
 *   tls_cert = /etc/cygnet/console.crt      # PEM; with tls_key, the console speaks HTTPS
 *   tls_key = /etc/cygnet/console.key
 *   user admin = scrypt$32768$8$1$...       # from `cygnet console --hash-password`
 *   profile_config = /etc/swanctl/swanctl.conf   # onboarding: the gateway's configuration, for client profiles
 *   profile_ca = /etc/swanctl/x509ca/ca.pem      # its CA (default: the only one in x509ca/ beside it)
 *   profile_server = vpn.example.org             # the name clients connect to
 *   users_file = /etc/cygnet/console-users.conf  # EAP users created here (default: beside this file)
 *   ca_cert = /etc/cygnet/users-ca.pem           # certificate users: the issuing CA and its key
 *   ca_key = /etc/cygnet/users-ca.key
 *   crl_file = /etc/swanctl/x509crl/console.crl  # the CRL of revoked certificate users (default: beside users_file)
 *
 * `#` starts a comment. Each mistake is reported with file:line and what is wrong; nothing is guessed.
 */
import { parseListen, type ListenAddress } from './listen.js';
import { parsePasswordHash, PasswordHashError } from './password.js';

export const DEFAULT_CONSOLE_CONFIG = '/etc/cygnet/console.conf';

export interface ConsoleConfig {
  listen?: ListenAddress;
  socket?: string;
  tlsCert?: string;
  tlsKey?: string;
  profileConfig?: string;
  profileCa?: string;
  profileServer?: string;
  usersFile?: string;
  caCert?: string;
  caKey?: string;
  crlFile?: string;
  /** User name -> encoded scrypt hash. */
  readonly users: Map<string, string>;
}

export class ConsoleConfigError extends Error {
  override readonly name = 'ConsoleConfigError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
  }
}

const USER_NAME = /^[A-Za-z0-9._@-]{1,64}$/;

export function parseConsoleConfig(text: string, file: string): ConsoleConfig {
  const cfg: ConsoleConfig = { users: new Map() };
  const seen = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const fail = (reason: string): never => {
      throw new ConsoleConfigError(file, lineNo, reason);
    };
    const raw = lines[i] ?? '';
    // A `#` inside a value would be part of a hash or path only if quoted; hashes never contain one.
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq < 0) fail(`expected 'key = value', got '${line}'`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (value === '') fail(`'${key}' has no value`);
    const user = /^user\s+(\S+)$/.exec(key);
    if (user) {
      const name = user[1] ?? '';
      if (!USER_NAME.test(name)) fail(`user name '${name}' may only have letters, digits and . _ @ - (at most 64)`);
      if (cfg.users.has(name)) fail(`user '${name}' is defined twice (first on line ${seen.get(`user ${name}`)})`);
      try {
        parsePasswordHash(value);
      } catch (e) {
        fail(`user '${name}': ${e instanceof PasswordHashError ? e.message : String(e)}`);
      }
      cfg.users.set(name, value);
      seen.set(`user ${name}`, lineNo);
      continue;
    }
    if (seen.has(key)) fail(`'${key}' is set twice (first on line ${seen.get(key)})`);
    seen.set(key, lineNo);
    switch (key) {
      case 'listen':
        try {
          cfg.listen = parseListen(value);
        } catch (e) {
          fail(e instanceof Error ? e.message : String(e));
        }
        break;
      case 'socket':
        cfg.socket = value;
        break;
      case 'tls_cert':
        cfg.tlsCert = value;
        break;
      case 'tls_key':
        cfg.tlsKey = value;
        break;
      case 'profile_config':
        cfg.profileConfig = value;
        break;
      case 'profile_ca':
        cfg.profileCa = value;
        break;
      case 'profile_server':
        cfg.profileServer = value;
        break;
      case 'users_file':
        cfg.usersFile = value;
        break;
      case 'ca_cert':
        cfg.caCert = value;
        break;
      case 'ca_key':
        cfg.caKey = value;
        break;
      case 'crl_file':
        cfg.crlFile = value;
        break;
      default:
        fail(`unknown key '${key}' (known: listen, socket, tls_cert, tls_key, profile_config, profile_ca, profile_server, users_file, ca_cert, ca_key, crl_file, user NAME)`);
    }
  }
  if ((cfg.caCert === undefined) !== (cfg.caKey === undefined)) {
    throw new ConsoleConfigError(file, seen.get(cfg.caCert === undefined ? 'ca_key' : 'ca_cert') ?? 0, 'ca_cert and ca_key go together');
  }
  if ((cfg.tlsCert === undefined) !== (cfg.tlsKey === undefined)) {
    throw new ConsoleConfigError(file, seen.get(cfg.tlsCert === undefined ? 'tls_key' : 'tls_cert') ?? 0, 'tls_cert and tls_key go together');
  }
  return cfg;
}

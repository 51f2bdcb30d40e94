/**
 * A real strongSwan (charon 5.9.8) running inside a network namespace, driven through swanctl.
 *
 * Recipe (../../../shared/DESIGN.md section 6): charon gets its own mount namespace so that its /run (pid file,
 * vici socket) and /etc/swanctl are private to it; two charons, or charon next to cygnet, then never see each
 * other. The kernel here has no ESP transform, so kernel-libipsec does ESP in userspace over its own TUN
 * (`ipsec0`), always UDP-encapsulated on port 4500, and installs routes to the remote selectors in table 220.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CHARON } from './install.js';
import type { Netns } from './netns.js';
import { spawnIsolated, type ProcessHandle } from './process.js';
import { DaemonPeer } from './swanctl.js';

/**
 * `openssl` provides ECP and MODP groups (and is the AES/SHA fallback); `curve25519` x25519; `kdf` the
 * PRF-based key derivation 5.9.8 requires; `gmp` is not needed. `attr` serves configuration payloads.
 */
export const DEFAULT_PLUGINS = [
  'random', 'nonce', 'aes', 'sha1', 'sha2', 'hmac', 'gcm', 'chapoly', 'pem', 'pkcs1', 'pkcs8', 'x509', 'pubkey',
  'openssl', 'curve25519', 'kdf', 'constraints', 'revocation', 'kernel-libipsec', 'kernel-netlink',
  'socket-default', 'vici', 'updown', 'attr',
];

/** Log levels per subsystem for charon's stderr log (0..4). `enc = 1` prints the payload list of each message. */
export const DEFAULT_LOG_LEVELS: Record<string, number> = { default: 1, ike: 2, cfg: 2, enc: 1, net: 1, knl: 1 };

const SWANCTL_SUBDIRS = ['x509', 'x509ca', 'x509ocsp', 'x509aa', 'x509ac', 'x509crl', 'pubkey', 'private', 'rsa', 'ecdsa', 'bliss', 'pkcs8', 'pkcs12'];

export interface StrongswanPeerOptions {
  ns: Netns;
  /** Label used in file names and messages (default: the namespace role). */
  label?: string;
  /** Working directory for conf, swanctl dir and log (default: a fresh temp dir). */
  dir?: string;
  /** swanctl.conf content. */
  swanctlConf: string;
  /** Extra files below the swanctl dir, e.g. `{ 'x509ca/ca.pem': pem }`. */
  files?: Record<string, string | Uint8Array>;
  /** Raw lines inside `charon { }`, e.g. `fragment_size = 576`, `cookie_threshold = 0`, `retransmit_tries = 2`. */
  charonOptions?: string;
  plugins?: readonly string[];
  logLevels?: Record<string, number>;
  /** Replace the generated strongswan.conf entirely. */
  strongswanConf?: string;
  /** How long to wait for the vici socket (default 10 s). */
  startTimeoutMs?: number;
}

export function strongswanConf(opts: Pick<StrongswanPeerOptions, 'charonOptions' | 'plugins' | 'logLevels'>): string {
  const levels = Object.entries(opts.logLevels ?? DEFAULT_LOG_LEVELS)
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n        ');
  return `charon {
  load = ${(opts.plugins ?? DEFAULT_PLUGINS).join(' ')}
  filelog {
    stderr {
        time_format = %H:%M:%S
        ike_name = yes
        ${levels}
    }
  }
  ${opts.charonOptions ?? ''}
}
`;
}

export class StrongswanPeer extends DaemonPeer {
  private constructor(ns: Netns, label: string, dir: string, proc: ProcessHandle) {
    super(ns, label, dir, proc);
  }

  /** Write the configuration, start charon in `ns` with private /run and /etc/swanctl, wait for vici. */
  static async start(opts: StrongswanPeerOptions): Promise<StrongswanPeer> {
    const label = opts.label ?? opts.ns.role;
    const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), `cyg-swan-${label}-`)));
    const swanctlDir = join(dir, 'swanctl');
    for (const sub of SWANCTL_SUBDIRS) await mkdir(join(swanctlDir, sub), { recursive: true });
    await writeFile(join(swanctlDir, 'swanctl.conf'), opts.swanctlConf);
    for (const [rel, content] of Object.entries(opts.files ?? {})) {
      await mkdir(dirname(join(swanctlDir, rel)), { recursive: true });
      await writeFile(join(swanctlDir, rel), content);
    }
    const confPath = join(dir, 'strongswan.conf');
    await writeFile(confPath, opts.strongswanConf ?? strongswanConf(opts));
    const proc = spawnIsolated(opts.ns, CHARON, [], {
      logFile: join(dir, `charon-${label}.log`),
      binds: [[swanctlDir, '/etc/swanctl']],
      env: { ...process.env, STRONGSWAN_CONF: confPath },
    });
    const peer = new StrongswanPeer(opts.ns, label, dir, proc);
    try {
      await peer.waitReady(proc, 'charon', opts.startTimeoutMs ?? 10_000);
    } catch (err) {
      await proc.stop(500);
      throw err;
    }
    return peer;
  }

  /**
   * Notify names charon logged as received, from lines like `received AUTHENTICATION_FAILED notify error`,
   * and the payload lists of messages it sent or parsed, `[ N(AUTH_FAILED) ]` (abbreviated names, see
   * strongSwan's notify_payload.c: NO_PROP, AUTH_FAILED, TS_UNACCEPT, INVAL_KE, ...).
   */
  async notifies(): Promise<{ received: string[]; inMessages: string[] }> {
    const text = await this.log();
    const received = [...text.matchAll(/received (\w+) notify(?: error)?/g)].map((m) => m[1] ?? '');
    const inMessages = [...text.matchAll(/N\((\w+)\)/g)].map((m) => m[1] ?? '');
    return { received, inMessages };
  }
}

/**
 * Key log lines (JSON, one SA per line) for decrypting captures of cygnet's traffic with Wireshark/tshark: the IKE
 * SA keys (from `ike-keys` events, emitted with settings.exportKeys) and both ESP SAs of every CHILD SA. Names are
 * strongSwan's/Wireshark's (AES_GCM_16, HMAC_SHA2_256_128); AEAD keys include their salt (RFC 4106 section 8.1).
 * The format is what test/interop/lib/keys.ts keysFromJsonLines reads.
 */
import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import { INTEG, transformName } from '../crypto/transforms.js';
import type { IkeEvent } from '../ike/events.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const spi32 = (n: number): string => n.toString(16).padStart(8, '0');

export function keyLogLines(e: IkeEvent): string[] {
  if (e.type === 'ike-keys') {
    const integ = e.integId !== undefined && e.integId !== INTEG.NONE ? transformName(3, e.integId) : undefined;
    return [
      JSON.stringify({
        type: 'ike',
        spiI: hex(e.sa.spiI),
        spiR: hex(e.sa.spiR),
        encr: transformName(1, e.encrId),
        ...(e.encrKeyBits !== undefined ? { encrKeyBits: e.encrKeyBits } : {}),
        ...(integ ? { integ, skAi: hex(e.SK_ai), skAr: hex(e.SK_ar) } : {}),
        skEi: hex(e.SK_ei),
        skEr: hex(e.SK_er),
      }),
    ];
  }
  if (e.type === 'child-install') {
    const c = e.child;
    const integ = c.integId !== INTEG.NONE ? transformName(3, c.integId) : undefined;
    const line = (src: string, dst: string, k: { spi: number; encrKey: Uint8Array; integKey: Uint8Array }): string =>
      JSON.stringify({ type: 'esp', src, dst, spi: spi32(k.spi), encr: transformName(1, c.encrId), encrKey: hex(k.encrKey), ...(integ ? { integ, integKey: hex(k.integKey) } : {}) });
    return [line(c.remote.address, c.local.address, e.inbound), line(c.local.address, c.remote.address, e.outbound)];
  }
  return [];
}

/** Why `--key-log FILE` was refused: the message names the file and the fix. */
export class KeyLogError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'KeyLogError';
  }
}

/**
 * The key log file, opened once at daemon start, before the daemon uses its privileges for anything else (sockets,
 * TUN, reading private keys), so a root daemon never creates or follows a path an unprivileged user prepared later.
 *
 * - created with mode 0600 (O_CREAT, umask can only narrow it), appended to (O_APPEND);
 * - never through a symlink (O_NOFOLLOW: someone could point it at /etc/shadow or at a file they can read);
 * - an existing file must be a regular file owned by us that neither group nor others can read or write: keys
 *   written into a readable file are as good as published;
 * - O_NONBLOCK so a FIFO planted at the path fails instead of hanging the start (libuv adds O_CLOEXEC itself, so
 *   children such as `ip route` do not inherit it).
 */
export class KeyLog {
  private constructor(
    readonly path: string,
    private fd: number,
  ) {}

  static open(path: string): KeyLog {
    const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;
    let fd: number;
    try {
      fd = openSync(path, flags, 0o600);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw new KeyLogError(path, `--key-log ${path}: is a symbolic link; key logs are never written through links (give the real path)`);
      if (code === 'ENXIO') throw new KeyLogError(path, `--key-log ${path}: is a FIFO or socket, not a regular file`);
      throw new KeyLogError(path, `--key-log ${path}: cannot open: ${(e as Error).message}`);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new KeyLogError(path, `--key-log ${path}: is not a regular file`);
      const uid = process.geteuid?.();
      if (uid !== undefined && st.uid !== uid)
        throw new KeyLogError(path, `--key-log ${path}: is owned by uid ${st.uid}, not by this process (uid ${uid}); remove it or give a path of our own`);
      if ((st.mode & 0o077) !== 0) {
        const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
        throw new KeyLogError(path, `--key-log ${path}: group or others may access it (mode ${mode}) and it will hold keys; run 'chmod 600 ${path}' or remove it`);
      }
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    return new KeyLog(path, fd);
  }

  /** Appends one line (synchronously: a line is whole on disk before the SA that uses the keys carries traffic). */
  readonly write = (line: string): void => {
    if (this.fd >= 0) writeSync(this.fd, line + '\n');
  };

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

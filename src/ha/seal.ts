/**
 * Secrets at rest in the store (issue 20): IKE and CHILD SA keys are sealed with AES-256-GCM under a key from the
 * gateways' own configuration, so a store dump or a store replica does not hand out the tunnels' keys. The AAD is
 * the record's store key: a sealed blob moved to another record does not open (NIST SP 800-38D, AES-GCM with a
 * 96-bit random nonce; at one seal per SA change the 2^32 random-nonce bound is far away).
 * node:crypto only (no I/O): the key and the nonces come in, bytes go out.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { HaError } from './errors.js';

const NONCE = 12;
const TAG = 16;

/** Parses the configured key: 64 hex digits or base64 of 32 bytes. */
export function parseSecretsKey(text: string): Uint8Array {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Uint8Array.from(Buffer.from(t, 'hex'));
  if (/^[A-Za-z0-9+/]{43}=?$/.test(t)) {
    const b = Buffer.from(t, 'base64');
    if (b.length === 32) return Uint8Array.from(b);
  }
  throw new HaError('BAD_KEY', 'ha secrets key: expected 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -hex 32`)');
}

export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Uint8Array, private readonly nonce: (n: number) => Uint8Array = (n) => randomBytes(n)) {
    if (key.length !== 32) throw new HaError('BAD_KEY', `ha secrets key: ${key.length} bytes, need 32 (AES-256-GCM)`);
    this.key = Buffer.from(key);
  }

  /** nonce | ciphertext | tag, base64. */
  seal(plain: Uint8Array, aad: string): string {
    const iv = this.nonce(NONCE);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([c.update(plain), c.final()]);
    return Buffer.concat([iv, body, c.getAuthTag()]).toString('base64');
  }

  open(sealed: string, aad: string): Uint8Array {
    const all = Buffer.from(sealed, 'base64');
    if (all.length < NONCE + TAG) throw new HaError('UNSEAL_FAILED', `sealed secrets of ${aad}: ${all.length} bytes, too short`);
    const d = createDecipheriv('aes-256-gcm', this.key, all.subarray(0, NONCE));
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(all.subarray(all.length - TAG));
    try {
      return Uint8Array.from(Buffer.concat([d.update(all.subarray(NONCE, all.length - TAG)), d.final()]));
    } catch {
      throw new HaError('UNSEAL_FAILED', `sealed secrets of ${aad} did not authenticate: another ha secrets key, or the record was altered`);
    }
  }
}

/**
 * The backends that can run here. node and noble always load; openssl (EVP through koffi) only where it can find
 * the symbols, and otherwise says why.
 */
import type { CryptoBackend } from '../types.js';
import { nobleBackend } from './noble.js';
import { nodeBackend } from './node.js';
import { tryLoadOpensslBackend } from './openssl.js';

export function availableBackends(): CryptoBackend[] {
  const list: CryptoBackend[] = [nodeBackend, nobleBackend];
  const o = tryLoadOpensslBackend();
  if (o.backend) list.push(o.backend);
  return list;
}

/** Backend name -> why it cannot be used here (empty when all load). */
export function backendUnavailableReasons(): Record<string, string> {
  const r: Record<string, string> = {};
  const o = tryLoadOpensslBackend();
  if (!o.backend) r['openssl'] = o.reason ?? 'unknown reason';
  return r;
}

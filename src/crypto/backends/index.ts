/**
 * The backends that can run here. node and noble always load; openssl (EVP through koffi) only where it can find
 * the symbols, and otherwise says why.
 */
import type { CryptoBackend } from '../types.js';
import { nobleBackend } from './noble.js';
import { nodeBackend } from './node.js';
import { tryLoadOpensslBackend, type OpensslLoadResult } from './openssl.js';

let openssl: OpensslLoadResult | undefined;

/** Loads the openssl backend once per process; a loader that throws counts as unavailable, with its message. */
function loadOpenssl(): OpensslLoadResult {
  if (openssl === undefined) {
    try {
      openssl = tryLoadOpensslBackend();
    } catch (e) {
      openssl = { reason: `loader threw: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
  return openssl;
}

/** node, noble, then openssl when it loads. Order here is not preference: see provider.ts for that. */
export function availableBackends(): CryptoBackend[] {
  const list: CryptoBackend[] = [nodeBackend, nobleBackend];
  const o = loadOpenssl();
  if (o.backend) list.push(o.backend);
  return list;
}

/** Backend name -> why it cannot be used here (empty when all load). */
export function backendUnavailableReasons(): Record<string, string> {
  const r: Record<string, string> = {};
  const o = loadOpenssl();
  if (!o.backend) r['openssl'] = o.reason ?? 'unknown reason';
  return r;
}

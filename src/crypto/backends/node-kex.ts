/** Key exchange on node:crypto (work in progress). */
import type { RandomSource } from '../random.js';
import type { KeyExchange } from '../types.js';
import { unsupported } from './checks.js';

export function nodeHasKeyExchange(_group: number): boolean {
  return false;
}

export function nodeCreateKeyExchange(group: number, _random: RandomSource): KeyExchange {
  throw unsupported('node', `key exchange group ${group}`);
}

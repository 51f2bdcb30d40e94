/**
 * EAP user secrets from swanctl.conf `secrets`: `eap-NAME { id = ..., secret = ... }` holds a password,
 * `ntlm-NAME { id = ..., secret = ... }` an NT hash (16 octets, usable by MSCHAPv2 only). The lookup ranks as
 * strongSwan's credential manager does for get_shared(SHARED_EAP, me, other): a secret naming both identities
 * beats one naming one of them, which beats one naming none (any peer).
 */
import { identityMatches, parseIdentity, type Identity } from '../identity/index.js';
import type { EapSecret, EapSecretLookup } from './types.js';

export interface EapSecretEntry {
  /** The id<suffix> values; empty means any identity. */
  readonly ids: readonly string[];
  readonly kind: 'password' | 'nthash';
  readonly secret: Uint8Array;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** What is wrong with an entry, or undefined (an NT hash is MD4's 16 octets, RFC 2759 8.3). */
export function eapSecretProblem(e: EapSecretEntry): string | undefined {
  if (e.kind === 'nthash' && e.secret.length !== 16) {
    return `an NT hash is 16 bytes (write it as 0x followed by 32 hex digits), this one is ${e.secret.length}`;
  }
  return undefined;
}

export function eapSecretLookup(entries: readonly EapSecretEntry[]): EapSecretLookup {
  const parsed = entries
    .filter((e) => eapSecretProblem(e) === undefined)
    .map((e) => ({
      ids: e.ids.map(parseIdentity),
      secret: e.kind === 'nthash' ? ({ kind: 'nthash', hash: e.secret } as const) : ({ kind: 'password', password: utf8.decode(e.secret) } as const),
    }));
  return (peer: string, own: string): EapSecret | undefined => {
    const ids = [parseIdentity(peer), parseIdentity(own)];
    const score = (list: readonly Identity[], id: Identity): number => (list.length === 0 ? 1 : list.some((x) => x.type !== 0 && identityMatches(x, id)) ? 2 : 0);
    let best: { score: number; secret: EapSecret } | undefined;
    for (const e of parsed) {
      // the peer must be named (or the secret be for anyone): a secret naming only our own id is not a user's
      const p = score(e.ids, ids[0] ?? parseIdentity(peer));
      if (p === 0) continue;
      const s = p + score(e.ids, ids[1] ?? parseIdentity(own));
      if (best === undefined || s > best.score) best = { score: s, secret: e.secret };
    }
    return best?.secret;
  };
}

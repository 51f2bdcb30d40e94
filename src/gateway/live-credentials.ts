import type { Credentials } from '../ike/config.js';

/**
 * Credentials for the IKE endpoint that read the gateway's current configuration at each authentication, so a
 * reload (SIGHUP, vici load-shared/load-cert) replaces secrets and trust anchors under running SAs.
 */
export function liveCredentials(current: () => Credentials): Credentials {
  return {
    sharedKey: (l, r) => current().sharedKey(l, r),
    privateKeyFor: (cert) => current().privateKeyFor?.(cert),
    ppk: (id) => current().ppk?.(id),
    hasPpk: () => current().hasPpk?.() === true,
    get trust() {
      return current().trust;
    },
  };
}

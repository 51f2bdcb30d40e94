/**
 * EAP for the daemon driver: the provider the gateway core's IKE_AUTH asks for sessions (RFC 7296 2.16; secrets
 * and certificates of the current configuration, eap-provider.ts), the RADIUS client when strongswan.conf
 * configures eap-radius (radius-service.ts), and the wake-up the core calls when such asynchronous work is done.
 */
import { systemRandom, type RandomSource } from '../crypto/random.js';
import type { EapProvider } from '../ike/eap-provider.js';
import type { DaemonConfig } from './connections.js';
import { daemonEapProvider } from './eap-provider.js';
import type { Logger } from './logger.js';
import { RadiusService } from './radius-service.js';
import type { GlobalSettings } from './settings.js';

/** The EAP provider and, with charon.plugins.eap-radius, the RADIUS service it relays to. */
export function eapWiring(o: {
  readonly settings: GlobalSettings | undefined;
  readonly random: RandomSource | undefined;
  readonly config: () => DaemonConfig;
  readonly log: Logger;
}): { provider: EapProvider; radius: RadiusService | undefined } {
  const log = (group: string, level: number, message: string): void => o.log.log(group, level, message);
  const settings = o.settings?.radius;
  const radius = settings ? new RadiusService(settings, { log }) : undefined;
  const provider = daemonEapProvider({
    random: o.random ?? systemRandom,
    secrets: () => o.config().eapSecrets,
    connections: () => o.config().connections,
    credentials: () => o.config().credentials,
    radius: () => radius,
    log,
  });
  return { provider, radius };
}

/** Runs `f` once on the next event-loop turn however often wake() is called meanwhile (IkeEndpointOptions.wake). */
export class Waker {
  private scheduled = false;

  constructor(private readonly f: () => void) {}

  wake(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.f();
    });
  }
}

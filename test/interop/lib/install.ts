/**
 * Makes sure the interop toolchain (Debian's strongSwan 5.9.8 and the network tools) is present.
 * Idempotent and quick when everything is installed: only `access()` checks, no apt call.
 */
import { access, constants } from 'node:fs/promises';
import { run } from './exec.js';

export const CHARON = '/usr/lib/ipsec/charon';

/** Files whose presence proves a package is installed, mapped to the Debian package providing them. */
const REQUIRED: ReadonlyArray<readonly [path: string, pkg: string]> = [
  [CHARON, 'strongswan-charon'],
  ['/usr/sbin/swanctl', 'strongswan-swanctl'],
  ['/usr/bin/pki', 'strongswan-pki'],
  ['/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so', 'libcharon-extra-plugins'],
  // EAP scenarios (issue 14): strongSwan's eap-mschapv2 is packaged apart from the other EAP plugins.
  ['/usr/lib/ipsec/plugins/libstrongswan-eap-mschapv2.so', 'libcharon-extauth-plugins'],
  ['/usr/lib/ipsec/plugins/libstrongswan-openssl.so', 'libstrongswan-standard-plugins'],
  ['/usr/lib/ipsec/plugins/libstrongswan-curve25519.so', 'libstrongswan-extra-plugins'],
  ['/usr/lib/ipsec/plugins/libstrongswan-kdf.so', 'libstrongswan-extra-plugins'],
  ['/usr/sbin/ip', 'iproute2'],
  ['/usr/bin/nsenter', 'util-linux'],
  ['/usr/bin/ping', 'iputils-ping'],
  ['/usr/sbin/nft', 'nftables'],
  ['/usr/bin/tshark', 'tshark'],
  ['/usr/bin/iperf3', 'iperf3'],
  // Certificate scenarios cross-check chains with `openssl verify` and make PKCS#12 files.
  ['/usr/bin/openssl', 'openssl'],
  // NAT scenarios: flush mappings to simulate a NAT rebinding.
  ['/usr/sbin/conntrack', 'conntrack'],
  // Metrics scenario: curl scrapes /metrics, promtool (Debian's prometheus; its service is not started) lints it.
  ['/usr/bin/curl', 'curl'],
  ['/usr/bin/promtool', 'prometheus'],
  // Console scenarios (90-94, issue 19): headless Chromium driven by puppeteer-core (nothing downloads a browser).
  ['/usr/bin/chromium', 'chromium'],
  // RADIUS scenarios (80-84): FreeRADIUS 3 as the EAP and accounting server the gateway relays to (issue 14).
  ['/usr/sbin/freeradius', 'freeradius'],
];

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

export async function missingPackages(): Promise<string[]> {
  const missing = new Set<string>();
  for (const [path, pkg] of REQUIRED) if (!(await exists(path))) missing.add(pkg);
  return [...missing];
}

/** As root: apt-get install whatever is missing. Returns the packages it installed (empty when all present). */
export async function ensureStrongswanInstalled(log: (msg: string) => void = () => {}): Promise<string[]> {
  const missing = await missingPackages();
  if (missing.length === 0) return [];
  if (process.getuid?.() !== 0) throw new Error(`interop tools missing (${missing.join(', ')}) and not root to install them`);
  log(`installing ${missing.join(' ')} ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env, timeoutMs: 300_000 });
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, timeoutMs: 600_000 });
  const still = await missingPackages();
  if (still.length) throw new Error(`apt-get install did not provide: ${still.join(', ')}`);
  return missing;
}

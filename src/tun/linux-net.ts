/**
 * Addresses, routes, MTU and link state of a TUN interface through iproute2's `ip` command (issue 7: virtual IPs
 * and routes for remote traffic selectors, removed on exit). Driver code: it runs processes. Every argument is
 * validated first, and `ip` is run without a shell, so configuration text cannot inject commands or options.
 *
 * LinuxNetConfig remembers what it installed and removes it in reverse order on cleanup(), so a daemon that
 * exits (or a test that fails) leaves the host as it found it.
 */
import { execFile } from 'node:child_process';
import { parseIp, formatIp } from '../net/ip-address.js';
import { TunError } from './types.js';

export interface IpRunner {
  (args: readonly string[]): Promise<string>;
}

/** Runs `ip ARGS` and resolves with stdout; rejects with a TunError carrying ip's stderr. */
export const runIp: IpRunner = (args) =>
  new Promise((resolve, reject) => {
    execFile('ip', [...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new TunError('COMMAND_FAILED', `ip ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });

const IFNAME = /^[A-Za-z0-9_.][A-Za-z0-9_.:-]{0,14}$/;

function dev(name: string): string {
  if (!IFNAME.test(name)) throw new TunError('BAD_OPTION', `'${name}' is not a valid interface name`);
  return name;
}

/** Canonical 'address/prefix' for IPv4 or IPv6; a bare address gets /32 or /128. */
export function normalizePrefix(cidr: string): { text: string; version: 4 | 6; address: string; prefix: number } {
  const slash = cidr.indexOf('/');
  const addrText = slash < 0 ? cidr : cidr.slice(0, slash);
  const bytes = parseIp(addrText);
  if (!bytes) throw new TunError('BAD_OPTION', `'${cidr}' is not an IPv4 or IPv6 address or prefix`);
  const max = bytes.length * 8;
  const prefix = slash < 0 ? max : Number(cidr.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (slash >= 0 && !/^\d{1,3}$/.test(cidr.slice(slash + 1)))) {
    throw new TunError('BAD_OPTION', `'${cidr}': prefix length must be an integer in 0..${max}`);
  }
  const address = formatIp(bytes);
  return { text: `${address}/${prefix}`, version: bytes.length === 4 ? 4 : 6, address, prefix };
}

export interface RouteOptions {
  /** Preferred source address for traffic into the route (the virtual IP). */
  src?: string;
  metric?: number;
  /** Routing table number or name from /etc/iproute2/rt_tables (default main). */
  table?: number;
  /** Path MTU for the route. */
  mtu?: number;
}

function routeArgs(verb: 'replace' | 'del', cidr: string, device: string, o: RouteOptions): string[] {
  const p = normalizePrefix(cidr);
  const args = [p.version === 6 ? '-6' : '-4', 'route', verb, p.text, 'dev', dev(device)];
  if (o.src !== undefined) args.push('src', normalizePrefix(o.src).address);
  if (o.metric !== undefined) {
    if (!Number.isInteger(o.metric) || o.metric < 0) throw new TunError('BAD_OPTION', `route metric ${o.metric} is not an integer >= 0`);
    args.push('metric', String(o.metric));
  }
  if (o.table !== undefined) {
    if (!Number.isInteger(o.table) || o.table < 1 || o.table > 0xfffffffe) throw new TunError('BAD_OPTION', `route table ${o.table} is not valid`);
    args.push('table', String(o.table));
  }
  if (o.mtu !== undefined && verb !== 'del') {
    if (!Number.isInteger(o.mtu) || o.mtu < 68) throw new TunError('BAD_OPTION', `route mtu ${o.mtu} is not valid`);
    args.push('mtu', String(o.mtu));
  }
  return args;
}

export interface AddressOptions {
  /**
   * IPv6 only: skip Duplicate Address Detection (RFC 4862 section 5.4) so the address is usable at once. Right
   * for a virtual IP on a point-to-point TUN, where no other node can hold the address.
   */
  nodad?: boolean;
}

export function addAddress(device: string, cidr: string, run: IpRunner = runIp, o: AddressOptions = {}): Promise<string> {
  const p = normalizePrefix(cidr);
  const args = [p.version === 6 ? '-6' : '-4', 'addr', 'replace', p.text, 'dev', dev(device)];
  if (o.nodad && p.version === 6) args.push('nodad');
  return run(args);
}

export function removeAddress(device: string, cidr: string, run: IpRunner = runIp): Promise<string> {
  const p = normalizePrefix(cidr);
  return run([p.version === 6 ? '-6' : '-4', 'addr', 'del', p.text, 'dev', dev(device)]);
}

/** Adds (or replaces) a route into the device. */
export function addRoute(cidr: string, device: string, o: RouteOptions = {}, run: IpRunner = runIp): Promise<string> {
  return run(routeArgs('replace', cidr, device, o));
}

export function removeRoute(cidr: string, device: string, o: RouteOptions = {}, run: IpRunner = runIp): Promise<string> {
  return run(routeArgs('del', cidr, device, o));
}

export function setMtu(device: string, mtu: number, run: IpRunner = runIp): Promise<string> {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new TunError('BAD_OPTION', `MTU ${mtu} is not an integer in 68..65535`);
  return run(['link', 'set', 'dev', dev(device), 'mtu', String(mtu)]);
}

export function setUp(device: string, run: IpRunner = runIp): Promise<string> {
  return run(['link', 'set', 'dev', dev(device), 'up']);
}

export function setDown(device: string, run: IpRunner = runIp): Promise<string> {
  return run(['link', 'set', 'dev', dev(device), 'down']);
}

/**
 * Installs addresses and routes on one device and undoes them, newest first, on cleanup(). Removal errors
 * (the interface already gone, say) are collected, not thrown, so cleanup always runs to the end.
 */
export class LinuxNetConfig {
  readonly device: string;
  readonly #run: IpRunner;
  readonly #undo: Array<{ what: string; fn: () => Promise<unknown> }> = [];

  constructor(device: string, run: IpRunner = runIp) {
    this.device = dev(device);
    this.#run = run;
  }

  /** Adds an address; IPv6 addresses skip DAD unless `nodad: false` is given (see AddressOptions). */
  async addAddress(cidr: string, o: AddressOptions = { nodad: true }): Promise<void> {
    await addAddress(this.device, cidr, this.#run, o);
    this.#undo.push({ what: `address ${cidr}`, fn: () => removeAddress(this.device, cidr, this.#run) });
  }

  async addRoute(cidr: string, o: RouteOptions = {}): Promise<void> {
    await addRoute(cidr, this.device, o, this.#run);
    this.#undo.push({ what: `route ${cidr}`, fn: () => removeRoute(cidr, this.device, o, this.#run) });
  }

  /** What is installed now, oldest first. */
  get installed(): string[] {
    return this.#undo.map((u) => u.what);
  }

  /** Removes everything installed, newest first. Returns the errors met (empty when all went well). */
  async cleanup(): Promise<Error[]> {
    const errors: Error[] = [];
    while (this.#undo.length > 0) {
      const u = this.#undo.pop()!;
      try {
        await u.fn();
      } catch (e) {
        errors.push(e as Error);
      }
    }
    return errors;
  }
}

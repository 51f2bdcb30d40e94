/**
 * `cygnet install-service`: writes the systemd unit (packaging/systemd/cygnet.service is this text for a global
 * npm install; a test keeps the two identical) with an ExecStart that runs this very installation, so the unit
 * works whether cygnet came from `npm install -g`, a checkout or a package.
 *
 * Hardening choices, each because of what the daemon does:
 * - root, but only CAP_NET_ADMIN (TUN device, routes through `ip`) and CAP_NET_BIND_SERVICE (UDP 500/4500) in the
 *   bounding and ambient sets (ambient so that a `User=` drop-in keeps working, and `ip` inherits them);
 * - ProtectSystem=strict with /run writable (vici socket, status file) and LogsDirectory=cygnet for --log-file
 *   and --key-log under /var/log/cygnet; PrivateTmp, ProtectHome, NoNewPrivileges, Protect{Kernel*,Clock,...};
 * - devices closed except /dev/net/tun (PrivateDevices= would hide it);
 * - address families: AF_INET/AF_INET6 (IKE, ESP-in-UDP), AF_UNIX (vici, notify, syslog), AF_NETLINK (`ip route`);
 * - no MemoryDenyWriteExecute= (V8 JIT-compiles) and no SystemCallFilter= (not verified against libuv's io_uring).
 * Type=notify: READY=1 once sockets are bound and start_action = start SAs are up; WatchdogSec=: WATCHDOG=1 comes
 * from the event loop, so a wedged loop gets the service restarted; ExecReload= sends SIGHUP (reload, logs reopen).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, UsageError } from './args.js';

export const DEFAULT_UNIT_PATH = '/etc/systemd/system/cygnet.service';
export const DEFAULT_SERVICE_CONFIG = '/etc/cygnet/swanctl.conf';

/** systemd's quoting for one ExecStart= word (systemd.service(5) "Command lines"). */
function quoteWord(w: string): string {
  if (w !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(w)) return w.replace(/%/g, '%%');
  return `"${w.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
}

export function serviceUnit(execStart: readonly string[]): string {
  return `# cygnet: IKEv2/IPsec in userspace. Installed by \`cygnet install-service\`; edit with \`systemctl edit cygnet\`.
[Unit]
Description=cygnet IKEv2/IPsec VPN daemon (swanctl.conf configuration)
Wants=network-online.target
After=network-online.target

[Service]
Type=notify
NotifyAccess=main
ExecStart=${execStart.map(quoteWord).join(' ')}
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=5s
TimeoutStartSec=60s
TimeoutStopSec=15s
WatchdogSec=30s

CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE
AmbientCapabilities=CAP_NET_ADMIN CAP_NET_BIND_SERVICE
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=/run
LogsDirectory=cygnet
LogsDirectoryMode=0750
PrivateTmp=yes
ProtectHome=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
DevicePolicy=closed
DeviceAllow=/dev/net/tun rw
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
UMask=0077

[Install]
WantedBy=multi-user.target
`;
}

/** The command that runs this installation: node (absolute) and the compiled main.js beside this file. */
export function currentExecStart(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const main = join(here, import.meta.url.endsWith('.ts') ? 'main.ts' : 'main.js');
  // From a checkout run through tsx, systemd needs the loader too, by absolute path: the service runs in '/'.
  return import.meta.url.endsWith('.ts') ? [process.execPath, '--import', import.meta.resolve('tsx'), main] : [process.execPath, main];
}

export const INSTALL_SERVICE_USAGE = `usage: cygnet install-service [--config FILE] [--tun NAME] [--output PATH | --print] [-- DAEMON-OPTIONS]
  writes a systemd unit that runs \`cygnet daemon\` from this installation (Type=notify, watchdog, hardening)
  --config FILE   configuration the service runs (default ${DEFAULT_SERVICE_CONFIG})
  --tun NAME      TUN device to carry traffic (default cyg0)
  --output PATH   where to write the unit (default ${DEFAULT_UNIT_PATH})
  --print         print the unit instead of writing it
  after --, further daemon options (e.g. -- --debug "ike 2" --log-target journal)
then: systemctl daemon-reload && systemctl enable --now cygnet`;

export function runInstallService(argv: readonly string[], out: (s: string) => void = (s) => console.log(s)): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(INSTALL_SERVICE_USAGE);
    return 0;
  }
  const dd = argv.indexOf('--');
  const own = dd >= 0 ? argv.slice(0, dd) : argv;
  const extra = dd >= 0 ? argv.slice(dd + 1) : [];
  let opts: Map<string, string>;
  try {
    opts = parseArgs(own, { config: {}, tun: {}, output: {}, print: { flag: true } });
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`cygnet install-service: ${e.message}\n${INSTALL_SERVICE_USAGE}`);
      return 2;
    }
    throw e;
  }
  const config = resolve(opts.get('config') ?? DEFAULT_SERVICE_CONFIG);
  const exec = [...currentExecStart(), 'daemon', '--config', config, '--tun', opts.get('tun') ?? 'cyg0', '--log-target', 'journal', ...extra];
  const unit = serviceUnit(exec);
  if (opts.has('print')) {
    out(unit.trimEnd());
    return 0;
  }
  const path = opts.get('output') ?? DEFAULT_UNIT_PATH;
  try {
    writeFileSync(path, unit, { mode: 0o644 });
  } catch (e) {
    console.error(`cygnet install-service: cannot write ${path}: ${(e as Error).message} (root needed for ${DEFAULT_UNIT_PATH}; --print shows the unit)`);
    return 1;
  }
  out(`wrote ${path} (ExecStart=${exec.map(quoteWord).join(' ')})`);
  out('next: systemctl daemon-reload && systemctl enable --now cygnet   (journalctl -u cygnet for its log)');
  return 0;
}

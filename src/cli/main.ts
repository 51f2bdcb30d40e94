#!/usr/bin/env node
/**
 * The `cygnet` command: `daemon` runs a peer from a swanctl.conf-syntax file, `demo` shows two endpoints on
 * loopback, `pki` is strongSwan's pki tool, and `status`, `list-sas`, `up`, `down`, ... are vici clients of a
 * running daemon.
 *
 * Exit codes: 0 success, 1 runtime failure (a socket cannot be bound...), 2 usage or configuration error.
 */
import { runDaemonCommand } from './daemon.js';
import { CLI_VERSION } from './version.js';
import { helpRequest } from './help.js';

const USAGE = `usage: cygnet <command> [options]

commands:
  daemon --config FILE   run an IKEv2/ESP peer configured in swanctl.conf syntax
         [--debug "ike 2, net 1, ..."] [--log-format text|json] [--tun NAME]
         [--port N] [--natt-port N] [--bind ADDR[,ADDR...]] [--status-file PATH] [--socket PATH]
                         (cygnet daemon --help)
  install-service [--config FILE] [--tun NAME] [--output PATH | --print]
                         write a systemd unit running this installation's daemon
  check [FILE] [--swanctl] [--ipsec-conf FILE]
                         every error and warning of a configuration with file:line, no network (exit 0/1)
  import [--ipsec-conf FILE] [--secrets FILE] [--output FILE]
                         strongSwan's ipsec.conf + ipsec.secrets as a commented swanctl.conf
  client-profile --config FILE --connection NAME --format mobileconfig|windows|sswan
                         what a road warrior imports: Apple profile, Windows script, Android .sswan
  version, --version     print the version
  help [COMMAND]         this list, or a command's options (same as cygnet COMMAND --help)
  pki --gen|--pub|--self|--issue|--print|--signcrl|--verify|--pkcs12 ...   strongSwan's pki (cygnet pki --help)
  demo                   two endpoints on loopback with in-memory TUNs (npm start)
  inspect FILE [--key-log KEYS]... [--json]   decode and decrypt IKE/ESP in a pcap/pcapng capture
  status, list-sas, list-conns, up NAME, down NAME, rekey NAME, reload, stats [--socket PATH]
                         control a running daemon over vici (cygnet status --help)
  console [--listen 127.0.0.1:8470] [--socket PATH] [--config FILE] | --hash-password
                         web console over vici: live SAs, traffic, events, log, up/down (cygnet console --help)
  ha status [--status-file FILE] [--json]   high availability: role, lease, replication lag, last sync`;

async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case '--version':
    case '-v':
    case 'version':
      console.log(`cygnet ${CLI_VERSION}`);
      return 0;
    case 'daemon':
      return runDaemonCommand(rest);
    case 'install-service':
      return (await import('./service.js')).runInstallService(rest);
    case 'check':
      return (await import('./check.js')).runCheck(rest);
    case 'import':
      return (await import('./import.js')).runImport(rest);
    case 'client-profile':
      return (await import('./client-profile.js')).runClientProfile(rest);
    case 'pki':
      return (await import('./pki.js')).runPki(rest, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
    case 'demo':
      return (await import('./demo.js')).runDemo(rest);
    case 'inspect':
      return (await import('./inspect.js')).runInspect(rest);
    case 'status':
    case 'list-sas':
    case 'list-conns':
    case 'up':
    case 'down':
    case 'rekey':
    case 'reload':
    case 'stats':
      // Clients of the daemon's vici socket (--socket PATH, default /var/run/cygnet.vici).
      return (await import('../vici/cli.js')).runViciCli(argv);
    case 'ha':
      return (await import('./ha.js')).runHa(rest);
    case 'console':
      // The web console (issue 19): a vici client like the commands above, serving HTTP(S).
      return (await import('../console/cli.js')).runConsole(rest);
    case 'help': {
      const h = helpRequest(rest[0]);
      if (h === 'overview') {
        console.log(USAGE);
        return 0;
      }
      return main(h.argv);
    }
    case undefined:
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      console.error(`cygnet: unknown command '${cmd}'\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // The daemon command keeps the event loop alive itself and exits through its signal handlers.
    if (code >= 0) process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`cygnet: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    process.exit(1);
  },
);

#!/usr/bin/env node
/** The `cygnet` command. Subcommands are added as the daemon, demo and pki tool land. */
const [cmd] = process.argv.slice(2);
switch (cmd) {
  case '--version':
  case 'version':
    console.log('cygnet 0.1.0');
    break;
  default:
    console.error(`usage: cygnet <daemon|demo|pki|status|list-sas|up|down|reload|version>`);
    process.exit(cmd === undefined ? 0 : 2);
}

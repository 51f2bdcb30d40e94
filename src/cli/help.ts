/**
 * `cygnet help [COMMAND]`: the overview (the same text as `cygnet --help`, and the README's "Commands" block:
 * test/cli/help.test.ts compares them), or one command's own usage, which is what `cygnet COMMAND --help`
 * prints: one text per command, kept beside the command's option parser so the two cannot drift, and no list
 * here to forget when a command is added.
 */

/** What `cygnet help [topic]` does: print the overview, or run main again with this argv. */
export function helpRequest(topic: string | undefined): { argv: readonly string[] } | 'overview' {
  if (topic === undefined || topic === 'help' || topic === '--help' || topic === '-h') return 'overview';
  if (topic === 'version' || topic === '--version') return { argv: ['--version'] };
  // An unknown command gets main's own "unknown command" answer and exit code 2.
  return { argv: [topic, '--help'] };
}

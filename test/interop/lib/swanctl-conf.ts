/**
 * Builders for swanctl.conf text. cygnet's daemon reads the same syntax, so a scenario can hand the same
 * connection description to strongSwan and (mirrored) to cygnet.
 */

export interface PskConnection {
  /** Connection name (the IKE SA name in --list-sas). */
  name: string;
  localAddrs: string;
  remoteAddrs: string;
  localId: string;
  remoteId: string;
  /** IKE proposals, e.g. `aes128gcm16-prfsha256-x25519`. */
  proposals: string;
  secret: string;
  child: {
    name: string;
    localTs: string;
    remoteTs: string;
    espProposals: string;
    /** none | trap | start */
    startAction?: string;
    /** Extra raw `key = value` lines inside the child section. */
    extra?: Record<string, string | number>;
  };
  /** Extra raw `key = value` lines inside the connection section (e.g. `fragmentation = yes`, `encap = yes`). */
  extra?: Record<string, string | number>;
  /** Defaults to 2. */
  version?: number;
}

function kv(indent: string, obj: Record<string, string | number | undefined>): string {
  return Object.entries(obj)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${indent}${k} = ${v}\n`)
    .join('');
}

/** One PSK connection with one child, plus its secret. */
export function pskSwanctlConf(c: PskConnection): string {
  return (
    `connections {\n` +
    `  ${c.name} {\n` +
    kv('    ', { version: c.version ?? 2, local_addrs: c.localAddrs, remote_addrs: c.remoteAddrs, proposals: c.proposals, ...c.extra }) +
    `    local {\n${kv('      ', { auth: 'psk', id: c.localId })}    }\n` +
    `    remote {\n${kv('      ', { auth: 'psk', id: c.remoteId })}    }\n` +
    `    children {\n` +
    `      ${c.child.name} {\n` +
    kv('        ', {
      local_ts: c.child.localTs,
      remote_ts: c.child.remoteTs,
      esp_proposals: c.child.espProposals,
      start_action: c.child.startAction ?? 'none',
      ...c.child.extra,
    }) +
    `      }\n` +
    `    }\n` +
    `  }\n` +
    `}\n` +
    `secrets {\n` +
    `  ike-${c.name} {\n` +
    kv('    ', { 'id-local': c.localId, 'id-remote': c.remoteId, secret: JSON.stringify(c.secret) }) +
    `  }\n` +
    `}\n`
  );
}

/** The same connection seen from the other side (addresses, IDs and selectors swapped). */
export function mirror(c: PskConnection): PskConnection {
  return {
    ...c,
    localAddrs: c.remoteAddrs,
    remoteAddrs: c.localAddrs,
    localId: c.remoteId,
    remoteId: c.localId,
    child: { ...c.child, localTs: c.child.remoteTs, remoteTs: c.child.localTs },
  };
}

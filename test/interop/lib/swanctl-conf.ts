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
  /** PSK (auth = psk, the default). */
  secret?: string;
  /**
   * Certificate authentication (auth = pubkey): file names below swanctl's x509/ dir, this side's and the
   * peer's (mirror() swaps them). The private key is loaded from private/ by swanctl --load-all.
   */
  certs?: { local: string; peer: string };
  /** `auth` value when it is not psk/pubkey, or to force e.g. `pubkey` with a specific signature scheme. */
  localAuth?: string;
  remoteAuth?: string;
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

/** One connection (PSK or certificates) with one child, plus its secret when PSK. */
export function pskSwanctlConf(c: PskConnection): string {
  const auth = c.certs ? 'pubkey' : 'psk';
  return (
    `connections {\n` +
    `  ${c.name} {\n` +
    kv('    ', { version: c.version ?? 2, local_addrs: c.localAddrs, remote_addrs: c.remoteAddrs, proposals: c.proposals, ...c.extra }) +
    `    local {\n${kv('      ', { auth: c.localAuth ?? auth, id: c.localId, certs: c.certs?.local })}    }\n` +
    `    remote {\n${kv('      ', { auth: c.remoteAuth ?? auth, id: c.remoteId })}    }\n` +
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
    (c.secret === undefined
      ? ''
      : `secrets {\n` +
        `  ike-${c.name} {\n` +
        kv('    ', { 'id-local': c.localId, 'id-remote': c.remoteId, secret: JSON.stringify(c.secret) }) +
        `  }\n` +
        `}\n`)
  );
}

/** Same as pskSwanctlConf (it handles certificates too); the clearer name for new code. */
export const swanctlConf = pskSwanctlConf;

/** The same connection seen from the other side (addresses, IDs and selectors swapped). */
export function mirror(c: PskConnection): PskConnection {
  return {
    ...c,
    localAddrs: c.remoteAddrs,
    remoteAddrs: c.localAddrs,
    localId: c.remoteId,
    remoteId: c.localId,
    child: { ...c.child, localTs: c.child.remoteTs, remoteTs: c.child.localTs },
    certs: c.certs ? { local: c.certs.peer, peer: c.certs.local } : undefined,
    localAuth: c.remoteAuth,
    remoteAuth: c.localAuth,
  };
}

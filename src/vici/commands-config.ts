/**
 * vici's configuration commands (vici README "load-conn" ... "get-pools"; charon's vici_config.c, vici_cred.c,
 * vici_authority.c, vici_attribute.c), what `swanctl --load-all` sends: load-conn, unload-conn, get-conns,
 * load-shared, unload-shared, get-shared, load-key, unload-key, get-keys, load-cert, clear-creds, flush-certs,
 * load-authority, unload-authority, get-authorities, load-pool, unload-pool, get-pools, and load-token (answered
 * "not supported": cygnet has no PKCS#11).
 *
 * Each change is staged in the ViciStore, applied through the backend (the daemon rebuilds its configuration from
 * its file plus the store, with src/config's builder) and rolled back when that fails, so a client's bad
 * connection never leaves half a configuration behind.
 */
import type { ViciBackend, ViciResult } from './backend.js';
import { section, str, strList, type ViciInput, type ViciMessage, type ViciValue } from './message.js';
import type { ViciServer } from './server.js';
import { ViciLoadError, ViciStore } from './store.js';

export interface ConfigCommandOptions {
  /** charon's DBG1(DBG_CFG, ...) lines ("loaded certificate ...", "added vici connection: ..."). */
  readonly log?: (level: number, message: string) => void;
}

function reply(r: ViciResult): ViciInput {
  const m: ViciInput = { success: r.success ? 'yes' : 'no' };
  if (!r.success) m.errmsg = r.errmsg ?? 'failed';
  return m;
}

function fail(errmsg: string): ViciInput {
  return { success: 'no', errmsg };
}

function optStr(msg: ViciMessage, key: string): string | undefined {
  const v = str(msg[key]);
  return v === undefined || v === '' ? undefined : v;
}

function bytesOf(v: ViciMessage[string] | undefined): Uint8Array | undefined {
  if (typeof v === 'string') return new TextEncoder().encode(v);
  if (v instanceof Uint8Array) return v;
  return undefined;
}

/** charon's get_bool. */
function optBool(msg: ViciMessage, key: string): boolean {
  const v = optStr(msg, key)?.toLowerCase();
  return v === 'yes' || v === 'true' || v === 'enabled' || v === 'on' || v === '1';
}

/** The single named section of a load-conn / load-pool / load-authority message. */
function onlySection(msg: ViciMessage, what: string): { name: string; body: ViciMessage } | string {
  const names = Object.keys(msg);
  const name = names[0];
  const body = name === undefined ? undefined : section(msg[name]);
  if (names.length !== 1 || name === undefined || body === undefined) return `${what} expects exactly one named section`;
  return { name, body };
}

/**
 * Install the configuration commands. With `backend.applyVici` every command above exists; without it only
 * load-conn / unload-conn / get-conns, passed to the backend's loadConn / unloadConn as before.
 */
export function registerConfigCommands(server: ViciServer, backend: ViciBackend, opts: ConfigCommandOptions = {}): ViciStore | undefined {
  const log = opts.log ?? (() => {});
  const apply = backend.applyVici?.bind(backend);
  if (!apply) {
    registerLegacyConnCommands(server, backend);
    return undefined;
  }
  const store = new ViciStore();
  // One change at a time: the daemon rebuilds from the whole store, so concurrent clients must not interleave.
  let queue: Promise<unknown> = Promise.resolve();
  const staged = (change: () => void | string, done?: () => ViciInput | undefined): Promise<ViciInput> => {
    const run = async (): Promise<ViciInput> => {
      const before = store.clone();
      let note: string | undefined;
      try {
        const r = change();
        if (typeof r === 'string') note = r;
      } catch (e) {
        store.restore(before);
        if (e instanceof ViciLoadError) return fail(e.message);
        throw e;
      }
      let r: ViciResult;
      try {
        r = await apply(store);
      } catch (e) {
        r = { success: false, errmsg: e instanceof Error ? e.message : String(e) };
      }
      if (!r.success) {
        store.restore(before);
        return reply(r);
      }
      if (note !== undefined) log(1, note);
      const retired = store.clone();
      store.prune();
      // Pruning a retired pool is itself a change; if the daemon refuses it, the pool stays retired.
      if (!sameTree(retired, store)) {
        const again = await Promise.resolve(apply(store)).catch(() => ({ success: false }));
        if (!again.success) store.restore(retired);
      }
      return done?.() ?? reply(r);
    };
    const p = queue.then(run, run);
    queue = p.catch(() => {});
    return p;
  };

  // ---------------------------------------------------------------- connections (vici_config.c)
  server.command('load-conn', (msg) => {
    const s = onlySection(msg, 'load-conn');
    if (typeof s === 'string') return fail(s);
    const replaced = store.conns.has(s.name);
    return staged(() => {
      store.loadConn(s.name, s.body);
      return `${replaced ? 'updated' : 'added'} vici connection: ${s.name}`;
    });
  });
  server.command('unload-conn', (msg) => {
    const name = optStr(msg, 'name');
    if (name === undefined) return fail('unload: missing connection name');
    return staged(() => {
      store.unloadConn(name);
      return `unloaded vici connection: ${name}`;
    });
  });
  server.command('get-conns', () => ({ conns: [...store.conns.keys()] }));

  // ---------------------------------------------------------------- credentials (vici_cred.c)
  server.command('load-shared', (msg) => {
    const type = optStr(msg, 'type');
    if (type === undefined) return fail('shared key type missing');
    const data = bytesOf(msg.data);
    if (!data || data.length === 0) return fail('shared key data missing');
    const ownersRaw = msg.owners;
    if (ownersRaw !== undefined && !Array.isArray(ownersRaw)) return fail('parsing shared key owners failed');
    const owners = strList(ownersRaw) ?? [];
    const id = optStr(msg, 'id');
    return staged(() => {
      const key = store.loadShared(id, type, data, owners);
      const kind = store.shared.get(key)!.type;
      const who = (owners.length ? owners : ['%any']).map((o) => `'${o}'`).join(', ');
      return id !== undefined ? `loaded ${kind} shared key with id '${id}' for: ${who}` : `loaded ${kind} shared key for: ${who}`;
    });
  });
  server.command('unload-shared', (msg) => {
    const id = optStr(msg, 'id');
    if (id === undefined) return fail('unique identifier missing');
    // charon answers success even for an unknown id.
    return staged(() => {
      store.shared.delete(id);
      return `unloaded shared key with id '${id}'`;
    });
  });
  server.command('get-shared', () => ({ keys: [...store.shared.keys()].filter((k) => !k.startsWith('%unnamed-')) }));

  server.command('load-key', (msg) => {
    const type = optStr(msg, 'type');
    if (type === undefined) return fail('key type missing');
    const data = bytesOf(msg.data);
    if (!data || data.length === 0) return fail('key data missing');
    let loaded: { id: string; type: string } | undefined;
    return staged(
      () => {
        loaded = store.loadKey(type, data);
        return `loaded ${loaded.type} private key`;
      },
      () => ({ success: 'yes', id: loaded!.id }),
    );
  });
  server.command('unload-key', (msg) => {
    const id = optStr(msg, 'id');
    if (id === undefined) return fail('key id missing');
    return staged(() => {
      store.unloadKey(id);
      return `unloaded private key with id ${id}`;
    });
  });
  server.command('get-keys', () => ({ keys: [...store.keys.keys()] }));

  server.command('load-cert', (msg) => {
    const type = optStr(msg, 'type');
    if (type === undefined) return fail('certificate type missing');
    const data = bytesOf(msg.data);
    if (!data || data.length === 0) return fail('certificate data missing');
    const flag = optStr(msg, 'flag');
    return staged(() => {
      const subject = store.loadCert(type, flag, data);
      return type.toUpperCase() === 'X509_CRL' ? `loaded crl issued by '${subject}'` : `loaded certificate '${subject}'`;
    });
  });
  server.command('clear-creds', () =>
    staged(() => {
      store.clearCreds();
      return 'cleared vici credentials';
    }),
  );
  // charon empties its certificate cache (fetched certificates); cygnet keeps no such cache.
  server.command('flush-certs', () => ({ success: 'yes' }));
  server.command('load-token', () => fail('loading private keys from tokens is not supported by cygnet (no PKCS#11)'));

  // ---------------------------------------------------------------- authorities (vici_authority.c)
  server.command('load-authority', (msg) => {
    const s = onlySection(msg, 'load-authority');
    if (typeof s === 'string') return fail(s);
    return staged(() => {
      store.loadAuthority(s.name, s.body);
      const a = store.authorities.get(s.name)!;
      const unused = a.crlUris.length + a.ocspUris.length > 0 || a.certUriBase !== undefined;
      return `loaded certification authority '${s.name}'${unused ? ' (its crl_uris, ocsp_uris and cert_uri_base are not used by cygnet)' : ''}`;
    });
  });
  server.command('unload-authority', (msg) => {
    const name = optStr(msg, 'name');
    if (name === undefined) return fail('unload: missing authority name');
    return staged(() => {
      store.unloadAuthority(name);
      return `unloaded certification authority '${name}'`;
    });
  });
  server.command('get-authorities', () => ({ authorities: [...store.authorities.keys()] }));
  server.command('list-authorities', (msg, ctx) => {
    const filter = optStr(msg, 'name');
    for (const [name, a] of store.authorities) {
      if (filter !== undefined && filter !== name) continue;
      const body: ViciInput = { cacert: a.cacert.subject.text, crl_uris: [...a.crlUris], ocsp_uris: [...a.ocspUris] };
      if (a.certUriBase !== undefined) body.cert_uri_base = a.certUriBase;
      const ev = Object.create(null) as ViciInput;
      ev[name] = body;
      ctx.emit('list-authority', ev);
    }
    return {};
  });

  // ---------------------------------------------------------------- pools (vici_attribute.c)
  server.command('load-pool', (msg) => {
    const s = onlySection(msg, 'load-pool');
    if (typeof s === 'string') return fail(s);
    return staged(() => {
      store.loadPool(s.name, s.body);
      const addrs = s.body.addrs;
      return `loaded vici pool ${s.name}${addrs !== undefined && !Array.isArray(addrs) && typeof addrs !== 'object' ? ` (${str(addrs as ViciValue)})` : ''}`;
    });
  });
  server.command('unload-pool', async (msg) => {
    const name = optStr(msg, 'name');
    if (name === undefined) return fail('missing pool name to unload');
    const live = (await backend.pools?.())?.find((p) => p.name === name);
    if (live && live.online > 0 && store.pools.has(name)) return fail(`${name} has online leases, unable to unload`);
    return staged(() => {
      store.unloadPool(name);
      return `unloaded vici pool ${name}`;
    });
  });
  server.command('get-pools', async (msg) => {
    const leases = optBool(msg, 'leases');
    const filter = optStr(msg, 'name');
    const out = Object.create(null) as ViciInput;
    for (const p of (await backend.pools?.()) ?? []) {
      if (filter !== undefined && p.name !== filter) continue;
      const b: ViciInput = { base: p.base, size: p.size, online: p.online, offline: p.offline };
      if (leases) {
        const l = Object.create(null) as ViciInput;
        (p.leases ?? []).forEach((x, i) => (l[String(i)] = { address: x.address, identity: x.identity, status: x.online ? 'online' : 'offline' }));
        b.leases = l;
      }
      out[p.name] = b;
    }
    return out;
  });
  return store;
}

function sameTree(a: ViciStore, b: ViciStore): boolean {
  return JSON.stringify(a.toSettingsObject()) === JSON.stringify(b.toSettingsObject());
}

/** Without applyVici: load-conn / unload-conn through the backend's loadConn / unloadConn (older daemons, tests). */
function registerLegacyConnCommands(server: ViciServer, backend: ViciBackend): void {
  // charon's get-conns lists only connections loaded over vici (swanctl --load-conns unloads the ones it no longer
  // has): connections from cygnet's own file are never reported here, so swanctl cannot unload them.
  const viciLoaded = new Set<string>();
  server.command('get-conns', () => ({ conns: [...viciLoaded] }));
  const loadConn = backend.loadConn?.bind(backend);
  const unloadConn = backend.unloadConn?.bind(backend);
  if (loadConn) {
    server.command('load-conn', async (msg) => {
      const s = onlySection(msg, 'load-conn');
      if (typeof s === 'string') return fail('load-conn expects exactly one connection section');
      const r = await loadConn(s.name, s.body);
      if (r.success) viciLoaded.add(s.name);
      return reply(r);
    });
  }
  if (unloadConn) {
    server.command('unload-conn', async (msg) => {
      const name = optStr(msg, 'name');
      if (name === undefined) return fail('missing connection name');
      const r = await unloadConn(name);
      if (r.success) viciLoaded.delete(name);
      return reply(r);
    });
  }
}

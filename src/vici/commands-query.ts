/**
 * vici's query commands beyond list-sas / list-conns (charon's vici_query.c and vici_control.c): list-certs
 * (streams list-cert), list-policies (streams list-policy), get-counters / reset-counters (counters plugin),
 * get-algorithms, install / uninstall (trap policies) and redirect (answered "not supported": cygnet does not
 * implement RFC 5685).
 */
import type { ViciBackend, ViciCertInfo } from './backend.js';
import { COUNTER_NAMES } from './counters.js';
import { str, type ViciInput, type ViciMessage } from './message.js';
import type { ViciServer } from './server.js';
import type { ViciStore } from './store.js';
import { encrTransforms, integTransforms, keTransforms, prfTransforms } from '../crypto/transforms.js';
import { INTEG } from '../crypto/transforms.js';
import { findKeyForCert } from '../pki/index.js';

function optStr(msg: ViciMessage, key: string): string | undefined {
  const v = str(msg[key]);
  return v === undefined || v === '' ? undefined : v;
}

function optBool(msg: ViciMessage, key: string): boolean {
  const v = optStr(msg, key)?.toLowerCase();
  return v === 'yes' || v === 'true' || v === 'enabled' || v === 'on' || v === '1';
}

function sameDer(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Certificates loaded over vici, as list-cert entries (has_privkey when a loaded key matches). */
export function storeCertificates(store: ViciStore): ViciCertInfo[] {
  const keys = [...store.keys.values()].map((k) => ({ file: '', value: k.key }));
  const out: ViciCertInfo[] = [];
  for (const c of store.certs) {
    out.push({ type: c.type, flag: c.flag, hasPrivkey: c.cert !== undefined && findKeyForCert({ keys }, c.cert) !== undefined, der: c.der });
  }
  for (const a of store.authorities.values()) {
    if (!out.some((c) => sameDer(c.der, a.cacert.der))) out.push({ type: 'X509', flag: 'CA', hasPrivkey: false, der: a.cacert.der });
  }
  return out;
}

/** get-algorithms: what cygnet's crypto implements, by strongSwan's names, all from the "cygnet" plugin. */
export function algorithmsReply(plugin = 'cygnet'): ViciInput {
  const sec = (names: readonly string[]): ViciInput => {
    const o = Object.create(null) as ViciInput;
    for (const n of names) o[n] = plugin;
    return o;
  };
  return {
    encryption: sec(encrTransforms.filter((t) => t.kind === 'cipher').map((t) => t.name)),
    integrity: sec(integTransforms.filter((t) => t.id !== INTEG.NONE).map((t) => t.name)),
    aead: sec(encrTransforms.filter((t) => t.kind === 'aead').map((t) => t.name)),
    hasher: sec(['HASH_SHA1', 'HASH_SHA2_256', 'HASH_SHA2_384', 'HASH_SHA2_512']),
    prf: sec(prfTransforms.map((t) => t.name)),
    xof: sec([]),
    kdf: sec(['KDF_PRF', 'KDF_PRF_PLUS']),
    drbg: sec([]),
    dh: sec(keTransforms.map((t) => t.name)),
    rng: sec(['RNG_STRONG', 'RNG_TRUE']),
    'nonce-gen': { NONCE_GEN: plugin },
  };
}

export function registerQueryCommands(server: ViciServer, backend: ViciBackend, store: ViciStore | undefined): void {
  server.command('list-certs', async (msg, ctx) => {
    const type = optStr(msg, 'type')?.toUpperCase();
    const flag = optStr(msg, 'flag')?.toUpperCase();
    const seen: Uint8Array[] = [];
    const all = [...(store ? storeCertificates(store) : []), ...((await backend.certificates?.()) ?? [])];
    for (const c of all) {
      if (seen.some((d) => sameDer(d, c.der))) continue;
      seen.push(c.der);
      if (type !== undefined && type !== 'ANY' && c.type !== type) continue;
      if (flag !== undefined && flag !== 'ANY' && c.flag !== flag) continue;
      const ev: ViciInput = { type: c.type };
      if (c.type === 'X509') ev.flag = c.flag;
      if (c.hasPrivkey) ev.has_privkey = 'yes';
      ev.data = c.der;
      ctx.emit('list-cert', ev);
    }
    return {};
  });

  server.command('list-policies', async (msg, ctx) => {
    // vici_query.c: only what the request names (swanctl sends trap, drop and pass unless told otherwise).
    const trap = msg.trap !== undefined;
    const drop = msg.drop !== undefined;
    const pass = msg.pass !== undefined;
    const child = optStr(msg, 'child');
    const ike = optStr(msg, 'ike');
    for (const p of (await backend.policies?.()) ?? []) {
      if ((ike !== undefined && p.ike !== ike) || (child !== undefined && p.child !== child)) continue;
      const want = p.mode === 'DROP' ? drop : p.mode === 'PASS' ? pass : trap;
      if (!want) continue;
      const ev = Object.create(null) as ViciInput;
      ev[`${p.ike}/${p.child}`] = { child: p.child, ike: p.ike, mode: p.mode, 'local-ts': [...p.localTs], 'remote-ts': [...p.remoteTs] };
      ctx.emit('list-policy', ev);
    }
    return {};
  });

  server.command('get-counters', (msg) => {
    const counters = backend.counters;
    if (!counters) return { success: 'no', errmsg: 'no counters available (plugin missing?)' };
    const name = optStr(msg, 'name');
    const out = Object.create(null) as ViciInput;
    const add = (section: string, values: Readonly<Record<string, number>>): void => {
      const s: ViciInput = {};
      for (const n of COUNTER_NAMES) s[n] = values[n] ?? 0;
      out[section] = s;
    };
    let errmsg: string | undefined;
    // cygnet: ESP drops by reason in the global section, after charon's names (issue 15).
    const addEsp = (): void => {
      const g = out[''] as ViciInput | undefined;
      const drops = backend.espDrops?.();
      if (g && drops) for (const [reason, n] of Object.entries(drops)) g[`esp-drop-${reason}`] = n;
    };
    if (optBool(msg, 'all')) {
      add('', counters.get()!);
      addEsp();
      for (const n of counters.names()) add(n, counters.get(n)!);
    } else {
      const v = counters.get(name);
      if (v) {
        add(name ?? '', v);
        if (name === undefined) addEsp();
      } else errmsg = 'no counters found for this connection';
    }
    return errmsg === undefined ? { counters: out, success: 'yes' } : { counters: out, success: 'no', errmsg };
  });

  server.command('reset-counters', (msg) => {
    const counters = backend.counters;
    if (!counters) return { success: 'no', errmsg: 'no counters available (plugin missing?)' };
    if (optBool(msg, 'all')) counters.resetAll();
    else counters.reset(optStr(msg, 'name'));
    return { success: 'yes' };
  });

  server.command('get-algorithms', () => algorithmsReply());

  server.command('install', async (msg) => {
    const child = optStr(msg, 'child');
    if (child === undefined) return { success: 'no', errmsg: 'missing configuration name' };
    if (!backend.install) return { success: 'no', errmsg: 'installing trap policies over vici is not supported by this daemon' };
    const r = await backend.install(child, optStr(msg, 'ike'));
    return r.success ? { success: 'yes' } : { success: 'no', errmsg: r.errmsg ?? 'install failed' };
  });
  server.command('uninstall', async (msg) => {
    const child = optStr(msg, 'child');
    if (child === undefined) return { success: 'no', errmsg: 'missing configuration name' };
    if (!backend.uninstall) return { success: 'no', errmsg: 'uninstalling trap policies over vici is not supported by this daemon' };
    const r = await backend.uninstall(child, optStr(msg, 'ike'));
    return r.success ? { success: 'yes' } : { success: 'no', errmsg: r.errmsg ?? 'uninstall failed' };
  });
  server.command('redirect', () => ({ success: 'no', errmsg: 'redirect is not supported by cygnet (no RFC 5685 IKEv2 redirection)' }));
}

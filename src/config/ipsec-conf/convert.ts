/**
 * ipsec.conf + ipsec.secrets -> a commented swanctl.conf, key by key as strongSwan's "Migrating from
 * ipsec.conf to swanctl.conf" documents it: a conn becomes a connection with one child of the same name,
 * left* are local, right* remote; `ike`/`esp` without '!' keep strongSwan's default proposals appended
 * (`, default`), with '!' they are the whole list; `auto` becomes start_action; `dpdaction`/`closeaction`
 * the child's actions; `leftsourceip=%config` vips; `rightsourceip` a pool; `ikelifetime`/`lifetime`/
 * `margintime` rekey_time, life_time and over_time; `reauth=yes` (ipsec.conf's default for IKEv2) reauth_time.
 *
 * Whatever cannot be carried (IKEv1 connections, aggressive mode, XAUTH, EAP methods cygnet does not implement
 * yet, Openswan's pluto settings) is named with the line it came from, in the output's header and in `notes`.
 * A key ipsec.conf does not have is an error with a suggestion.
 */
import { ConfigError, type SourceLocation } from '../errors.js';
import type { ConfigIo } from '../parser.js';
import { suggest } from '../suggest.js';
import { readIpsecConf, resolveSection, type IpsecConf, type IpsecSetting } from './reader.js';
import { readIpsecSecrets, type IpsecSecret } from './secrets.js';

/** The EAP methods cygnet runs (src/eap, src/eap-tls, src/radius), as ipsec.conf's leftauth/rightauth spell them. */
const EAP_METHODS = /^eap(-(mschapv2|tls|md5|radius|dynamic))?$/;

export interface ImportNote {
  readonly loc: SourceLocation;
  /** `key=value` as written (secrets never shown). */
  readonly what: string;
  readonly why: string;
}

export interface ImportResult {
  /** swanctl.conf text. */
  readonly text: string;
  /** Everything not carried over, with where it was. */
  readonly notes: readonly ImportNote[];
  /** Connections converted (and commented out, for cygnet, with the reason). */
  readonly connections: readonly { name: string; disabled?: string }[];
}

/** conn keys of strongSwan 5.9's ipsec.conf(5), plus Openswan's most common ones (named when not carried). */
const CONN_KEYS = new Set([
  'aaa_identity', 'ah', 'aggressive', 'also', 'authby', 'auto', 'closeaction', 'compress', 'dpdaction', 'dpddelay',
  'dpdtimeout', 'eap_identity', 'esp', 'forceencaps', 'fragmentation', 'ike', 'ikedscp', 'ikelifetime', 'inactivity',
  'installpolicy', 'keyexchange', 'keyingtries', 'keylife', 'lifetime', 'lifebytes', 'lifepackets', 'marginbytes',
  'marginpackets', 'margintime', 'rekeymargin', 'mark', 'mark_in', 'mark_out', 'me_peerid', 'mediated_by', 'mediation',
  'mobike', 'modeconfig', 'reauth', 'rekey', 'rekeyfuzz', 'replay_window', 'reqid', 'sha256_truncation', 'tfc', 'type',
  'xauth', 'xauth_identity', 'left', 'right', 'pfs', 'phase2alg', 'aggrmode', 'keyingtries', 'ikelifetime', 'salifetime',
  'if_id_in', 'if_id_out', 'hw_offload', 'ike_lifetime', 'auth', 'pfsgroup', 'connaddrfamily', 'dpd', 'leftnexthop',
  'rightnexthop', 'ppk_id', 'ppk_required', 'priority', 'copy_df', 'copy_ecn', 'copy_dscp',
]);
const SIDE_KEYS = new Set([
  '', 'allowany', 'auth', 'auth2', 'ca', 'ca2', 'cert', 'cert2', 'cert_policy', 'dns', 'firewall', 'groups', 'groups2',
  'hostaccess', 'id', 'id2', 'ikeport', 'nexthop', 'protoport', 'sendcert', 'sigkey', 'sourceip', 'subnet', 'subnets',
  'updown', 'rsasigkey', 'cert2', 'ikeport', 'modecfgclient', 'modecfgserver', 'xauthclient', 'xauthserver',
]);
const SETUP_KEYS = new Set([
  'cachecrls', 'charondebug', 'charonstart', 'strictcrlpolicy', 'uniqueids', 'plutodebug', 'plutostart', 'nat_traversal',
  'virtual_private', 'protostack', 'plutoopts', 'interfaces', 'klipsdebug', 'oe', 'keep_alive', 'nhelpers', 'crlcheckinterval',
]);

type Line = { key: string; value: string; src?: IpsecSetting | undefined; comment?: string; off?: boolean };

/** A swanctl.conf value, quoted when the settings lexer would otherwise split or end it. */
export function swanctlValue(v: string): string {
  if (/^[A-Za-z0-9._@%:/,+*\-[\]=]+$/.test(v) && !v.includes('=')) return v;
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function where(s: IpsecSetting | undefined): string {
  return s ? `${s.loc.file.split('/').pop()}:${s.loc.line}` : '';
}

/** `ike`/`esp`: Openswan's ';' between groups becomes '-', '!' strict, otherwise strongSwan's defaults follow. */
function proposals(raw: string): string {
  const strict = raw.trim().endsWith('!');
  const list = raw.replace(/!\s*$/, '').split(',').map((p) => p.trim().replace(/;/g, '-')).filter((p) => p !== '');
  return strict ? list.join(', ') : [...list, 'default'].join(', ');
}

/** ipsec.conf time: plain seconds or a s/m/h/d suffix, to seconds. */
function seconds(raw: string): number | undefined {
  const m = /^(\d+)\s*([smhd]?)$/.exec(raw.trim());
  if (!m) return undefined;
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
}

function duration(s: number): string {
  if (s > 0 && s % 3600 === 0) return `${s / 3600}h`;
  if (s > 0 && s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

export interface ImportOptions {
  /** Where the secrets are (default: none). */
  readonly secretsFile?: string;
}

export function convertIpsecConf(file: string, io: ConfigIo, options: ImportOptions = {}): ImportResult {
  const conf = readIpsecConf(file, io);
  const errors: ConfigError[] = [...conf.errors];
  const notes: ImportNote[] = [];
  const note = (s: IpsecSetting, why: string): void => {
    // a %default or also= setting shows up in every connection that inherits it: named once
    if (notes.some((n) => n.loc === s.loc && n.why === why)) return;
    notes.push({ loc: s.loc, what: `${s.key}=${s.value ?? ''}`, why });
  };

  // config setup
  let unique: Line | undefined = { key: 'unique', value: 'replace', comment: "ipsec.conf's default uniqueids=yes" };
  for (const sec of conf.sections.filter((s) => s.type === 'setup')) {
    for (const s of sec.settings) {
      if (!SETUP_KEYS.has(s.key)) {
        const sg = suggest(s.key, SETUP_KEYS);
        errors.push(new ConfigError('UNKNOWN_KEY', s.loc, `config setup: unknown key '${s.key}'${sg ? `; did you mean '${sg}'?` : ''}`));
        continue;
      }
      if (s.key === 'uniqueids') {
        const v = (s.value ?? 'yes').toLowerCase();
        const map: Record<string, string> = { yes: 'replace', replace: 'replace', no: 'no', never: 'never', keep: 'keep' };
        if (map[v]) unique = { key: 'unique', value: map[v]!, src: s };
        else errors.push(new ConfigError('INVALID_VALUE', s.loc, `uniqueids=${v}: expected yes, no, never, replace or keep`));
      } else if (s.key === 'charondebug') {
        note(s, `logging is not part of swanctl.conf: run \`cygnet daemon --debug "${s.value ?? ''}"\` (same syntax) or set charon.filelog in strongswan.conf`);
      } else if (s.key === 'strictcrlpolicy' || s.key === 'cachecrls' || s.key === 'crlcheckinterval') {
        note(s, 'revocation policy is per connection in swanctl.conf (remote { revocation = strict|ifuri|relaxed })');
      } else {
        note(s, `${s.key} is a pluto/starter setting with no swanctl.conf equivalent`);
      }
    }
  }
  for (const sec of conf.sections.filter((s) => s.type === 'ca' && s.name !== '%default')) {
    note({ key: 'ca', value: sec.name, loc: sec.loc }, 'ca sections become authorities { } in swanctl.conf: not converted; put the CA certificate into x509ca/');
  }

  const out: string[] = [];
  const pools: string[] = [];
  const connections: { name: string; disabled?: string }[] = [];

  for (const sec of conf.sections.filter((s) => s.type === 'conn' && s.name !== '%default')) {
    const st = resolveSection(conf, sec, errors);
    const get = (k: string): IpsecSetting | undefined => st.get(k);
    const val = (k: string): string | undefined => st.get(k)?.value ?? undefined;
    for (const s of st.values()) {
      const side = /^(left|right)(.*)$/.exec(s.key);
      if (side ? !SIDE_KEYS.has(side[2]!) : !CONN_KEYS.has(s.key)) {
        const known = [...CONN_KEYS, ...[...SIDE_KEYS].flatMap((k) => [`left${k}`, `right${k}`])];
        const sg = suggest(s.key, known);
        errors.push(new ConfigError('UNKNOWN_KEY', s.loc, `conn ${sec.name}: unknown key '${s.key}'${sg ? `; did you mean '${sg}'?` : ''}`));
      }
    }
    const auto = (val('auto') ?? 'ignore').toLowerCase();
    if (auto === 'ignore') {
      notes.push({ loc: sec.loc, what: `conn ${sec.name}`, why: 'auto=ignore (the default): strongSwan does not load it, so it is left out' });
      continue;
    }
    const kx = (val('keyexchange') ?? 'ike').toLowerCase();
    if (kx === 'ikev1') {
      notes.push({ loc: get('keyexchange')!.loc, what: `conn ${sec.name}: keyexchange=ikev1`, why: 'IKEv1 is not implemented in cygnet: connection not converted' });
      continue;
    }
    const disabled: string[] = [];
    const conn: Line[] = [];
    const local: Line[] = [];
    const remote: Line[] = [];
    const local2: Line[] = [];
    const remote2: Line[] = [];
    const child: Line[] = [];
    const put = (to: Line[], key: string, value: string, src: IpsecSetting | undefined, comment?: string): void => {
      to.push({ key, value, src, ...(comment !== undefined ? { comment } : {}) });
    };
    if (kx === 'ikev2') put(conn, 'version', '2', get('keyexchange'));
    else if (kx !== 'ike') errors.push(new ConfigError('INVALID_VALUE', get('keyexchange')!.loc, `keyexchange=${kx}: expected ike, ikev1 or ikev2`));

    for (const [side, to, addrKey] of [['left', local, 'local_addrs'], ['right', remote, 'remote_addrs']] as const) {
      const a = get(side);
      if (a?.value) {
        const v = a.value.trim();
        if (v === '%defaultroute') note(a, `${side}=%defaultroute: swanctl.conf has no such value; ${addrKey} is left at %any (the source address of the route is used)`);
        else if (/^%any[46]?$/.test(v)) {
          /* %any is swanctl's default */
        } else put(conn, addrKey, v.replace(/^%/, ''), a);
      }
      const id = get(`${side}id`);
      if (id?.value && id.value !== '%any') put(to, 'id', id.value, id);
      const cert = get(`${side}cert`);
      if (cert?.value) put(to, 'certs', cert.value.split('/').pop()!, cert, `copy ${cert.value.includes('/') ? cert.value : `/etc/ipsec.d/certs/${cert.value}`} into x509/ beside this file`);
      const ca = get(`${side}ca`);
      if (ca?.value && side === 'right') {
        if (ca.value === '%same') note(ca, 'rightca=%same has no swanctl.conf equivalent');
        else put(to, 'ca_id', ca.value, ca);
      } else if (ca?.value) note(ca, 'leftca constrains our own chain; swanctl.conf has no equivalent (the CA certificate goes into x509ca/)');
      const groups = get(`${side}groups`);
      if (groups?.value) put(to, 'groups', groups.value, groups);
      for (const k of ['id2', 'cert2', 'ca2', 'groups2', 'firewall', 'updown', 'hostaccess', 'nexthop', 'sigkey', 'rsasigkey', 'allowany', 'ikeport', 'cert_policy']) {
        const s = get(`${side}${k}`);
        if (!s?.value) continue;
        if (side === 'right' && ['updown', 'hostaccess', 'firewall'].includes(k)) {
          note(s, `${side}${k}: swanctl.conf runs only our own updown script (the peer's is its own configuration)`);
        } else if (k === 'updown') put(child, 'updown', s.value, s);
        else if (k === 'hostaccess') put(child, 'hostaccess', s.value, s);
        else if (k === 'firewall') {
          if (/^(yes|true)$/i.test(s.value)) put(child, 'updown', '/usr/lib/ipsec/_updown iptables', s, 'leftfirewall=yes');
        } else if (k === 'ikeport') put(conn, side === 'left' ? 'local_port' : 'remote_port', s.value, s);
        else if (k === 'id2') put(side === 'left' ? local2 : remote2, 'id', s.value, s);
        else if (k === 'cert2') put(side === 'left' ? local2 : remote2, 'certs', s.value.split('/').pop()!, s);
        else if (k === 'cert_policy') put(to, 'cert_policy', s.value, s);
        else note(s, `${side}${k} has no swanctl.conf equivalent`);
      }
    }
    const sendcert = get('leftsendcert');
    if (sendcert?.value) {
      const m: Record<string, string> = { always: 'always', yes: 'always', ifasked: 'ifasked', never: 'never', no: 'never' };
      if (m[sendcert.value]) put(conn, 'send_cert', m[sendcert.value]!, sendcert);
      else errors.push(new ConfigError('INVALID_VALUE', sendcert.loc, `leftsendcert=${sendcert.value}: expected always, ifasked or never`));
    }
    const rsendcert = get('rightsendcert');
    if (rsendcert?.value) note(rsendcert, "rightsendcert: swanctl.conf only sets what we send (send_cert); the peer's side is its own configuration");

    // authentication rounds: leftauth/rightauth, else authby
    const authby = (val('authby') ?? 'pubkey').toLowerCase();
    const byMap: Record<string, string> = { secret: 'psk', psk: 'psk', pubkey: 'pubkey', rsasig: 'pubkey', ecdsasig: 'pubkey', 'rsa-sha1': 'pubkey' };
    let dflt = byMap[authby];
    if (dflt === undefined) {
      const s = get('authby')!;
      if (/xauth/.test(authby)) notes.push({ loc: s.loc, what: `conn ${sec.name}: authby=${authby}`, why: 'XAUTH is IKEv1 only: not implemented in cygnet' });
      else if (authby === 'never') note(s, 'authby=never has no swanctl.conf equivalent');
      else errors.push(new ConfigError('INVALID_VALUE', s.loc, `authby=${authby}: expected pubkey, rsasig, ecdsasig, psk, secret, xauthpsk, xauthrsasig or never`));
      dflt = 'pubkey';
    }
    for (const [side, to, to2] of [['left', local, local2], ['right', remote, remote2]] as const) {
      const a = get(`${side}auth`);
      const auth = a?.value ?? dflt;
      to.unshift({ key: 'auth', value: auth, src: a ?? get('authby') });
      if (/^eap/.test(auth) && !EAP_METHODS.test(auth)) disabled.push(`${side}auth=${auth}: this EAP method is not implemented in cygnet (eap-mschapv2, eap-tls, eap-md5, eap-radius, eap-dynamic and eap are)`);
      if (/^xauth/.test(auth)) disabled.push(`${side}auth=${auth}: XAUTH is IKEv1 only`);
      const a2 = get(`${side}auth2`);
      if (a2?.value) {
        if (/^xauth/.test(a2.value)) notes.push({ loc: a2.loc, what: `${side}auth2=${a2.value}`, why: 'XAUTH is IKEv1 only: not carried' });
        else {
          to2.unshift({ key: 'auth', value: a2.value, src: a2 });
          if (!EAP_METHODS.test(a2.value)) disabled.push(`${side}auth2=${a2.value}: cygnet runs a second authentication round (RFC 4739) only as EAP (eap-mschapv2, eap-tls, eap-radius, ...)`);
        }
      }
    }
    const eapId = get('eap_identity');
    if (eapId?.value) put(remote, 'eap_id', eapId.value, eapId);
    const aaaId = get('aaa_identity');
    if (aaaId?.value) put(remote, 'aaa_id', aaaId.value, aaaId);
    const xid = get('xauth_identity');
    if (xid?.value) notes.push({ loc: xid.loc, what: `xauth_identity=${xid.value}`, why: 'XAUTH is IKEv1 only: not carried' });
    for (const k of ['aggressive', 'aggrmode']) {
      const s = get(k);
      if (s?.value && /^(yes|true)$/i.test(s.value)) notes.push({ loc: s.loc, what: `${k}=${s.value}`, why: 'aggressive mode is IKEv1 only: not carried' });
      else if (s?.value) note(s, `${k}=${s.value} is IKEv1's main mode anyway: nothing to carry`);
    }
    for (const k of ['pfs', 'pfsgroup', 'xauth', 'modeconfig', 'leftmodecfgclient', 'rightmodecfgserver', 'leftxauthclient', 'rightxauthserver', 'dpd', 'connaddrfamily', 'salifetime']) {
      const s = get(k);
      if (s?.value) note(s, `${k} is an IKEv1 (pluto) setting: not carried (IKEv2 PFS is a key exchange method in esp)`);
    }

    const ike = get('ike');
    if (ike?.value) put(conn, 'proposals', proposals(ike.value), ike, ike.value.trim().endsWith('!') ? "'!': this list only" : "no '!': strongSwan's defaults follow");
    const esp = get('esp') ?? get('phase2alg');
    if (esp?.value) {
      put(child, 'esp_proposals', proposals(esp.value), esp, esp.value.trim().endsWith('!') ? "'!': this list only" : "no '!': strongSwan's defaults follow");
      if (esp.key === 'phase2alg') note(esp, "Openswan's phase2alg read as esp");
    }
    const ah = get('ah');
    if (ah?.value) notes.push({ loc: ah.loc, what: `ah=${ah.value}`, why: 'AH is not implemented in cygnet (ESP only): not carried' });

    const type = (val('type') ?? 'tunnel').toLowerCase();
    if (type === 'transport') disabled.push('type=transport: cygnet supports tunnel mode only');
    if (type === 'transport' || type === 'transport_proxy' || type === 'beet') put(child, 'mode', type, get('type'));
    else if (type === 'passthrough' || type === 'pass') {
      put(child, 'mode', 'pass', get('type'));
      disabled.push('type=passthrough: bypass policies are not implemented in cygnet');
    } else if (type === 'drop') {
      put(child, 'mode', 'drop', get('type'));
      disabled.push('type=drop: drop policies are not implemented in cygnet');
    } else if (type !== 'tunnel') errors.push(new ConfigError('INVALID_VALUE', get('type')!.loc, `type=${type}: expected tunnel, transport, transport_proxy, passthrough or drop`));

    // traffic selectors: subnet lists, with leftprotoport as [proto/port] on each
    for (const [side, key] of [['left', 'local_ts'], ['right', 'remote_ts']] as const) {
      const sub = get(`${side}subnet`) ?? get(`${side}subnets`);
      const pp = get(`${side}protoport`);
      const suffix = pp?.value ? `[${pp.value}]` : '';
      if (sub?.value) {
        const items = sub.value.replace(/[{}]/g, '').split(/[,\s]+/).filter((x) => x !== '');
        put(child, key, items.map((i) => i + suffix).join(', '), sub);
      } else if (suffix !== '') put(child, key, `dynamic${suffix}`, pp);
    }

    // virtual IPs
    const lsip = get('leftsourceip');
    if (lsip?.value) {
      const vips = lsip.value.split(',').map((v) => v.trim()).map((v) => (/^%(config4?|modeconfig|cfg)$/.test(v) ? '0.0.0.0' : v === '%config6' ? '::' : v));
      put(conn, 'vips', vips.join(', '), lsip);
    }
    const rsip = get('rightsourceip');
    if (rsip?.value) {
      const v = rsip.value.trim();
      if (v === '%dhcp') {
        note(rsip, "addresses from a DHCP server (strongSwan's dhcp plugin) are not implemented in cygnet: `pools = dhcp` is left commented out; define a pool (pools { name { addrs = ... } }) to hand out virtual IPs");
        conn.push({ key: 'pools', value: 'dhcp', src: rsip, off: true, comment: 'cygnet has no DHCP' });
      } else if (/^%config/.test(v)) {
        note(rsip, 'rightsourceip=%config: the peer requests an address from us; give it a pool in swanctl.conf');
      } else {
        const name = `${sec.name}-pool`;
        pools.push(`  ${name} {`, `    addrs = ${swanctlValue(v)}    # rightsourceip (${where(rsip)})`);
        const dns = get('rightdns');
        if (dns?.value) pools.push(`    dns = ${swanctlValue(dns.value)}    # rightdns (${where(dns)})`);
        pools.push('  }');
        put(conn, 'pools', name, rsip);
      }
    }
    const rdns = get('rightdns');
    if (rdns?.value && !(rsip?.value && !/^%/.test(rsip.value.trim()))) {
      note(rdns, 'rightdns without a rightsourceip pool: swanctl.conf hands out DNS servers as attributes of a pool (pools { name { dns = ... } })');
    }
    const ldns = get('leftdns');
    if (ldns?.value) note(ldns, 'leftdns: the DNS servers we receive are installed by charon\'s resolve plugin; nothing to configure in swanctl.conf');

    // DPD and actions
    const dpdaction = (val('dpdaction') ?? 'none').toLowerCase();
    const dpdMap: Record<string, string> = { clear: 'clear', hold: 'trap', restart: 'restart' };
    if (dpdaction !== 'none') {
      if (dpdMap[dpdaction] === undefined) errors.push(new ConfigError('INVALID_VALUE', get('dpdaction')!.loc, `dpdaction=${dpdaction}: expected none, clear, hold or restart`));
      else {
        const d = get('dpddelay');
        put(conn, 'dpd_delay', d?.value ?? '30s', d ?? get('dpdaction'), d ? undefined : "ipsec.conf's default dpddelay");
        if (dpdMap[dpdaction] !== 'clear') put(child, 'dpd_action', dpdMap[dpdaction]!, get('dpdaction'));
      }
    } else if (get('dpddelay')?.value) note(get('dpddelay')!, 'dpddelay without dpdaction: ipsec.conf does not send DPD then (dpdaction=none)');
    const dt = get('dpdtimeout');
    if (dt?.value && dpdaction !== 'none') note(dt, 'dpdtimeout is IKEv1 only; IKEv2 declares a peer dead after its retransmissions (charon.retransmit_* in strongswan.conf)');
    const close = (val('closeaction') ?? 'none').toLowerCase();
    const closeMap: Record<string, string> = { none: 'none', clear: 'none', hold: 'trap', restart: 'start' };
    if (closeMap[close] === undefined) errors.push(new ConfigError('INVALID_VALUE', get('closeaction')!.loc, `closeaction=${close}: expected none, clear, hold or restart`));
    else if (closeMap[close] !== 'none') put(child, 'close_action', closeMap[close]!, get('closeaction'));
    const startMap: Record<string, string | undefined> = { add: undefined, route: 'trap', start: 'start' };
    if (!(auto in startMap)) errors.push(new ConfigError('INVALID_VALUE', get('auto')!.loc, `auto=${auto}: expected ignore, add, route or start`));
    else if (startMap[auto] !== undefined) put(child, 'start_action', startMap[auto]!, get('auto'));

    // lifetimes (ipsec.conf(5) defaults: ikelifetime 3h, lifetime 1h, margintime 9m, rekeyfuzz 100%)
    const rekey = !/^(no|false)$/i.test(val('rekey') ?? 'yes');
    const reauth = !/^(no|false)$/i.test(val('reauth') ?? 'yes');
    const t = (k: string, d: number): number => {
      const s = get(k);
      if (!s?.value) return d;
      const v = seconds(s.value);
      if (v === undefined) errors.push(new ConfigError('INVALID_VALUE', s.loc, `${k}=${s.value}: expected a time like 3600, 60m, 1h or 1d`));
      return v ?? d;
    };
    const ikeLife = t('ikelifetime', 3 * 3600);
    const childLife = get('lifetime') ? t('lifetime', 3600) : t('keylife', 3600);
    const margin = get('margintime') ? t('margintime', 540) : t('rekeymargin', 540);
    const lifeSrc = get('ikelifetime') ?? get('margintime') ?? get('rekeymargin') ?? get('reauth') ?? get('rekey');
    if (!rekey) {
      put(conn, 'rekey_time', '0s', get('rekey'), 'rekey=no');
      put(child, 'rekey_time', '0s', get('rekey'), 'rekey=no');
      put(child, 'life_time', duration(childLife), get('lifetime') ?? get('keylife') ?? get('rekey'));
    } else {
      if (reauth && kx !== 'ikev1') {
        put(conn, 'reauth_time', duration(ikeLife - margin), lifeSrc, 'ikelifetime - margintime; ipsec.conf reauthenticates by default (reauth=yes)');
        put(conn, 'rekey_time', '0s', lifeSrc, 'reauth instead of rekey');
      } else put(conn, 'rekey_time', duration(ikeLife - margin), lifeSrc, 'ikelifetime - margintime');
      put(conn, 'over_time', duration(margin), lifeSrc);
      put(child, 'rekey_time', duration(childLife - margin), get('lifetime') ?? get('keylife') ?? lifeSrc, 'lifetime - margintime');
      put(child, 'life_time', duration(childLife), get('lifetime') ?? get('keylife') ?? lifeSrc);
    }

    // the rest, one to one
    const oneToOne: [string, Line[], string, ((v: string) => string)?][] = [
      ['mobike', conn, 'mobike'],
      ['forceencaps', conn, 'encap'],
      ['fragmentation', conn, 'fragmentation'],
      ['keyingtries', conn, 'keyingtries', (v) => (v === '%forever' ? '0' : v)],
      ['compress', child, 'ipcomp'],
      ['inactivity', child, 'inactivity'],
      ['reqid', child, 'reqid'],
      ['replay_window', child, 'replay_window'],
      ['tfc', child, 'tfc_padding'],
      ['installpolicy', child, 'policies'],
      ['mark_in', child, 'mark_in'],
      ['mark_out', child, 'mark_out'],
      ['if_id_in', child, 'if_id_in'],
      ['if_id_out', child, 'if_id_out'],
      ['priority', child, 'priority'],
      ['hw_offload', child, 'hw_offload'],
      ['sha256_truncation', child, 'sha256_96'],
      ['ppk_id', conn, 'ppk_id'],
      ['ppk_required', conn, 'ppk_required'],
    ];
    for (const [k, to, sk, f] of oneToOne) {
      const s = get(k);
      if (s?.value) put(to, sk, f ? f(s.value) : s.value, s);
    }
    const mark = get('mark');
    if (mark?.value) {
      put(child, 'mark_in', mark.value, mark);
      put(child, 'mark_out', mark.value, mark);
    }
    for (const k of ['lifebytes', 'lifepackets', 'marginbytes', 'marginpackets', 'rekeyfuzz', 'ikedscp', 'mediation', 'mediated_by', 'me_peerid']) {
      const s = get(k);
      if (s?.value) note(s, `${k}: not converted (set the matching swanctl.conf key by hand if needed)`);
    }
    if (unique) put(conn, unique.key, unique.value, unique.src, unique.comment);

    // emit
    const block: string[] = [];
    const emit = (indent: string, lines: Line[]): void => {
      for (const l of lines) {
        const c = [l.comment, l.src ? `${l.src.key} (${where(l.src)})` : undefined].filter((x) => x !== undefined).join('; ');
        block.push(`${indent}${l.off === true ? '# ' : ''}${l.key} = ${swanctlValue(l.value)}${c ? `    # ${c}` : ''}`);
      }
    };
    block.push(`  ${sec.name} {    # conn ${sec.name} (${where({ key: '', value: '', loc: sec.loc })})`);
    emit('    ', conn);
    for (const [name, lines] of [['local', local], ['local-2', local2], ['remote', remote], ['remote-2', remote2]] as const) {
      if (lines.length === 0) continue;
      block.push(`    ${name} {`);
      emit('      ', lines);
      block.push('    }');
    }
    block.push('    children {', `      ${sec.name} {`);
    emit('        ', child);
    block.push('      }', '    }', '  }');
    if (disabled.length > 0) {
      out.push(`  # conn ${sec.name} is commented out for cygnet:`, ...disabled.map((d) => `  #   ${d}`));
      out.push(...block.map((l) => `  #${l}`));
      notes.push({ loc: sec.loc, what: `conn ${sec.name}`, why: `converted but commented out: ${disabled.join('; ')}` });
      connections.push({ name: sec.name, disabled: disabled.join('; ') });
    } else {
      out.push(...block);
      connections.push({ name: sec.name });
    }
  }

  // secrets
  const secretLines: string[] = [];
  if (options.secretsFile !== undefined) {
    const { secrets, errors: se } = readIpsecSecrets(options.secretsFile, io);
    errors.push(...se);
    const counters = new Map<string, number>();
    const next = (p: string): string => {
      const n = (counters.get(p) ?? 0) + 1;
      counters.set(p, n);
      return `${p}-${n}`;
    };
    for (const s of secrets) secretLines.push(...secretBlock(s, next, notes));
  }

  if (errors.length > 0) {
    throw ConfigError.combine([...errors].sort((a, b) => (a.file === b.file ? a.line - b.line : a.file.localeCompare(b.file))));
  }
  const header = [
    `# swanctl.conf converted by \`cygnet import\` from ${file}${options.secretsFile ? ` and ${options.secretsFile}` : ''}`,
    "# following strongSwan's ipsec.conf -> swanctl.conf migration mapping; each key names the line it came from.",
    '# Certificates go into x509/, CA certificates into x509ca/, private keys into private/ (or rsa/, ecdsa/) here.',
  ];
  if (notes.length > 0) {
    header.push('#', '# Not carried over:');
    for (const n of [...notes].sort((a, b) => a.loc.file.localeCompare(b.loc.file) || a.loc.line - b.loc.line)) {
      header.push(`#   ${n.loc.file.split('/').pop()}:${n.loc.line}: ${n.what}: ${n.why}`);
    }
  }
  const text = [
    ...header,
    '',
    'connections {',
    ...out,
    '}',
    ...(pools.length > 0 ? ['', 'pools {', ...pools, '}'] : []),
    ...(secretLines.length > 0 ? ['', 'secrets {', ...secretLines, '}'] : []),
    '',
  ].join('\n');
  return { text, notes, connections };
}

function secretBlock(s: IpsecSecret, next: (p: string) => string, notes: ImportNote[]): string[] {
  const src = `${s.loc.file.split('/').pop()}:${s.loc.line}`;
  const ids = s.ids.map((id, i) => `    id-${i + 1} = ${swanctlValue(id)}`);
  const what = `${s.ids.join(' ')} : ${s.type}`.trim();
  switch (s.type) {
    case 'PSK':
    case 'EAP':
    case 'NTLM':
    case 'PPK': {
      const prefix = { PSK: 'ike', EAP: 'eap', NTLM: 'ntlm', PPK: 'ppk' }[s.type];
      // swanctl reads 0x/0s as hex/base64 even when quoted: a quoted "0x..." of ipsec.secrets becomes its hex
      const secret = s.literal === true ? `0x${Buffer.from(s.value, 'utf8').toString('hex')}` : s.value;
      const lines = [`  ${next(prefix)} {    # ${src}: ${what}`, ...ids, `    secret = ${swanctlValue(secret)}`, '  }'];
      // EAP and NTLM secrets serve cygnet's EAP server (eap-mschapv2/md5); PPKs serve RFC 8784 (ppk_id, ppk_required).
      return lines;
    }
    case 'RSA':
    case 'ECDSA':
    case 'P12': {
      const prefix = { RSA: 'rsa', ECDSA: 'ecdsa', P12: 'pkcs12' }[s.type];
      const dir = { RSA: 'rsa/', ECDSA: 'ecdsa/', P12: 'pkcs12/' }[s.type];
      const file = s.value.split('/').pop()!;
      const from = s.value.includes('/') ? s.value : `/etc/ipsec.d/private/${s.value}`;
      // swanctl loads every key in rsa/, ecdsa/, pkcs12/ by itself; a secrets section only gives a passphrase
      if (s.passphrase === undefined) return [`  # ${src}: ${what}: copy ${from} into ${dir} (keys there are loaded without a secrets section)`];
      if (s.passphrase === '%prompt') {
        notes.push({ loc: s.loc, what, why: '%prompt: swanctl asks for the passphrase on load (swanctl --load-creds); cygnet needs it in a secrets section' });
        return [`  # ${src}: ${what}: copy ${from} into ${dir}; its passphrase is asked for (%prompt)`];
      }
      return [`  ${next(prefix)} {    # ${src}: ${what}; copy ${from} into ${dir}`, `    file = ${swanctlValue(file)}`, `    secret = ${swanctlValue(s.passphrase)}`, '  }'];
    }
    case 'XAUTH':
      notes.push({ loc: s.loc, what, why: 'XAUTH is IKEv1 only: not carried' });
      return [];
    default:
      notes.push({ loc: s.loc, what, why: `${s.type} secrets have no swanctl.conf equivalent cygnet uses (token/BLISS): not carried` });
      return [];
  }
}

export { readIpsecConf, resolveSection, type IpsecConf };

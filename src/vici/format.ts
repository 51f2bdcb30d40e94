/**
 * Human output for vici replies, shaped like swanctl 5.9's (src/swanctl/commands/list_sas.c, list_conns.c,
 * stats.c, version.c). Works on any vici daemon's messages, cygnet's or charon's. Missing keys print as swanctl
 * would print a NULL string only where swanctl always prints; elsewhere they are left out.
 */
import { findStr, section, str, type ViciMessage, type ViciValue } from './message.js';

/** A section's values and lists as strings (lists joined by spaces), as swanctl's sa_values/sa_list callbacks collect them. */
function flat(m: ViciMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(m)) {
    if (Array.isArray(v)) {
      const items = v.map((x) => str(x) ?? '');
      if (items.length) out.set(k, items.join(' '));
    } else if (typeof v === 'string' || v instanceof Uint8Array) {
      out.set(k, str(v) ?? '');
    }
  }
  return out;
}

/** A section of counters as "name n, name n" (cygnet's drops-in/drops-out/esp-drops), or undefined when empty. */
function countersText(v: ViciValue | ViciValue[] | ViciMessage | undefined): string | undefined {
  const s = section(v);
  if (!s) return undefined;
  const parts = Object.entries(s).map(([k, n]) => `${k} ${str(n) ?? ''}`);
  return parts.length ? parts.join(', ') : undefined;
}

/** swanctl's print_ake: `/KE1_ML_KEM_768` for each vici ake1..ake7 present (strongSwan 6, RFC 9370). */
function akeSuffix(m: Map<string, string>): string {
  let s = '';
  for (let n = 1; n <= 7; n++) if (m.has(`ake${n}`)) s += `/KE${n}_${m.get(`ake${n}`)}`;
  return s;
}

function childLines(c: Map<string, string>, lines: string[], raw?: ViciMessage): void {
  const g = (k: string): string => c.get(k) ?? '(null)';
  let suite = '';
  if (c.has('encr-alg')) suite += g('encr-alg') + (c.has('encr-keysize') ? `-${g('encr-keysize')}` : '');
  if (c.has('integ-alg')) suite += (c.has('encr-alg') ? '/' : '') + g('integ-alg') + (c.has('integ-keysize') ? `-${g('integ-keysize')}` : '');
  if (c.has('prf-alg')) suite += `/${g('prf-alg')}`;
  if (c.has('dh-group')) suite += `/${g('dh-group')}`;
  suite += akeSuffix(c);
  if (c.has('esn')) suite += '/ESN';
  lines.push(`  ${g('name')}: #${g('uniqueid')}, reqid ${g('reqid')}, ${g('state')}, ${g('mode')}${c.has('encap') ? '-in-UDP' : ''}, ${g('protocol')}:${suite}`);
  let t = `    installed ${g('install-time')}s ago`;
  if (c.has('rekey-time')) t += `, rekeying in ${g('rekey-time')}s`;
  if (c.has('life-time')) t += `, expires in ${g('life-time')}s`;
  lines.push(t);
  for (const dir of ['in', 'out'] as const) {
    let l = `    ${dir === 'in' ? 'in ' : 'out'} ${g(`spi-${dir}`)}${c.has(`cpi-${dir}`) ? `/${g(`cpi-${dir}`)}` : ''}`;
    l += `, ${g(`bytes-${dir}`).padStart(6)} bytes, ${g(`packets-${dir}`).padStart(5)} packets`;
    if (c.has(`use-${dir}`)) l += `, ${g(`use-${dir}`).padStart(5)}s ago`;
    // cygnet: packets dropped on this ESP SA, by reason (issue 15).
    const drops = countersText(raw?.[`drops-${dir}`]);
    if (drops) l += `, dropped: ${drops}`;
    lines.push(l);
  }
  lines.push(`    local  ${g('local-ts')}`);
  lines.push(`    remote ${g('remote-ts')}`);
}

/** One list-sa event as `swanctl --list-sas` prints it. */
export function formatListSa(event: ViciMessage): string[] {
  const lines: string[] = [];
  for (const [name, v] of Object.entries(event)) {
    const sa = section(v);
    if (!sa) continue;
    const ike = flat(sa);
    const g = (k: string): string => ike.get(k) ?? '(null)';
    const init = ike.get('initiator') === 'yes';
    lines.push(`${name}: #${g('uniqueid')}, ${g('state')}, IKEv${g('version')}, ${g('initiator-spi')}_i${init ? '*' : ''} ${g('responder-spi')}_r${init ? '' : '*'}`);
    lines.push(`  local  '${g('local-id')}' @ ${g('local-host')}[${g('local-port')}]${ike.has('local-vips') ? ` [${g('local-vips')}]` : ''}`);
    let r = `  remote '${g('remote-id')}' @ ${g('remote-host')}[${g('remote-port')}]`;
    if (ike.has('remote-eap-id')) r += ` EAP: '${g('remote-eap-id')}'`;
    if (ike.has('remote-xauth-id')) r += ` XAuth: '${g('remote-xauth-id')}'`;
    if (ike.has('remote-vips')) r += ` [${g('remote-vips')}]`;
    if (ike.get('transport') === 'tcp') r += ' over TCP';
    lines.push(r);
    if (ike.has('encr-alg')) {
      let s = `  ${g('encr-alg')}`;
      if (ike.has('encr-keysize')) s += `-${g('encr-keysize')}`;
      if (ike.has('integ-alg')) s += `/${g('integ-alg')}`;
      if (ike.has('integ-keysize')) s += `-${g('integ-keysize')}`;
      s += `/${g('prf-alg')}/${g('dh-group')}${akeSuffix(ike)}`;
      lines.push(s);
    }
    if (ike.get('ppk') === 'yes') lines.push(`  PPK '${g('ppk-id')}' (RFC 8784 post-quantum preshared key)`);
    if (ike.has('established')) {
      let s = `  established ${g('established')}s ago`;
      if (ike.has('rekey-time')) s += `, rekeying in ${g('rekey-time')}s`;
      if (ike.has('reauth-time')) s += `, reauth in ${g('reauth-time')}s`;
      if (ike.has('life-time')) s += `, expires in ${g('life-time')}s`;
      lines.push(s);
    }
    if (ike.has('tasks-queued')) lines.push(`  queued:  ${g('tasks-queued')}`);
    if (ike.has('tasks-active')) lines.push(`  active:  ${g('tasks-active')}`);
    if (ike.has('tasks-passive')) lines.push(`  passive: ${g('tasks-passive')}`);
    const children = section(sa['child-sas']);
    for (const cv of Object.values(children ?? {})) {
      const c = section(cv);
      if (c) childLines(flat(c), lines, c);
    }
  }
  return lines;
}

/** One list-conn event as `swanctl --list-conns` prints it. */
export function formatListConn(event: ViciMessage): string[] {
  const lines: string[] = [];
  for (const [name, v] of Object.entries(event)) {
    const conn = section(v);
    if (!conn) continue;
    const get = (k: string, def: string): string => str(conn[k]) ?? def;
    const version = get('version', '');
    let reauth = get('reauth_time', '0');
    const rekey = get('rekey_time', '0');
    const dpd = get('dpd_delay', '0');
    if (version === 'IKEv1' && reauth === '0') reauth = rekey;
    let head = `${name}: ${version}, ${reauth === '0' ? 'no reauthentication' : `reauthentication every ${reauth}s`}`;
    if (version !== 'IKEv1') head += rekey === '0' ? ', no rekeying' : `, rekeying every ${rekey}s`;
    if (dpd !== '0') head += `, dpd delay ${dpd}s`;
    lines.push(head);
    for (const [k, val] of Object.entries(conn)) {
      if (Array.isArray(val) && (k === 'local_addrs' || k === 'remote_addrs')) {
        for (const a of val) lines.push(`  ${k === 'local_addrs' ? 'local: ' : 'remote:'} ${str(a)}`);
        continue;
      }
      const s = section(val);
      if (!s) continue;
      if (k === 'children') {
        for (const [cname, cv] of Object.entries(s)) {
          const c = section(cv);
          if (!c) continue;
          const f = flat(c);
          const mode = f.get('mode') ?? '(null)';
          const rt = f.get('rekey_time');
          const rb = f.get('rekey_bytes');
          const rp = f.get('rekey_packets');
          let l = `  ${cname}: ${mode}, `;
          if (/^(pass|drop)$/i.test(mode) || (rt === '0' && rb === '0' && rp === '0')) {
            l += 'no rekeying';
          } else {
            const parts: string[] = [];
            if (rt !== '0') parts.push(` ${rt ?? '(null)'}s`);
            if (rb !== '0') parts.push(`${parts.length ? ' or' : ''} ${rb ?? '(null)'} bytes`);
            if (rp !== '0') parts.push(`${parts.length ? ' or' : ''} ${rp ?? '(null)'} packets`);
            l += `rekeying every${parts.join('')}`;
          }
          if (dpd !== '0') l += `, dpd action is ${f.get('dpd_action') ?? '(null)'}`;
          lines.push(l);
          lines.push(`    local:  ${f.get('local-ts') ?? '(null)'}`);
          lines.push(`    remote: ${f.get('remote-ts') ?? '(null)'}`);
          if (f.has('interface')) lines.push(`    interface: ${f.get('interface')}`);
          if (f.has('priority')) lines.push(`    priority: ${f.get('priority')}`);
        }
      } else if (k.startsWith('local') || k.startsWith('remote')) {
        const a = flat(s);
        let cls = a.get('class') ?? 'unspecified';
        if (cls.toUpperCase() === 'EAP') cls = a.get('eap-type') ?? cls;
        lines.push(`  ${k.startsWith('local') ? 'local' : 'remote'} ${cls} authentication:`);
        for (const key of ['id', 'eap_id', 'xauth_id', 'aaa_id', 'groups', 'certs', 'cacerts']) {
          if (a.has(key)) lines.push(`    ${key}: ${a.get(key)}`);
        }
      }
    }
  }
  return lines;
}

/** `swanctl --stats`. */
export function formatStats(r: ViciMessage): string[] {
  const f = (p: string): string => findStr(r, p) ?? '';
  const lines = [
    `uptime: ${f('uptime.running')}, since ${f('uptime.since')}`,
    `worker threads: ${f('workers.total')} total, ${f('workers.idle')} idle, working: ${f('workers.active.critical')}/${f('workers.active.high')}/${f('workers.active.medium')}/${f('workers.active.low')}`,
    `job queues: ${f('queues.critical')}/${f('queues.high')}/${f('queues.medium')}/${f('queues.low')}`,
    `jobs scheduled: ${f('scheduled')}`,
    `IKE_SAs: ${f('ikesas.total')} total, ${f('ikesas.half-open')} half-open`,
  ];
  const plugins = r.plugins;
  if (Array.isArray(plugins)) lines.push(`loaded plugins: ${plugins.map((p) => str(p)).join(' ')}`);
  if (r['esp-drops'] !== undefined) lines.push(`ESP packets dropped: ${countersText(r['esp-drops']) ?? 'none'}`);
  return lines;
}

/** `swanctl --version --daemon` prints "strongSwan <version> <daemon> (...)"; ours names the daemon first. */
export function formatVersion(r: ViciMessage): string {
  const f = (p: string): string => findStr(r, p) ?? '';
  return `${f('daemon')} ${f('version')} (${f('sysname')}, ${f('release')}, ${f('machine')})`;
}

/** A control-log event as swanctl --initiate prints it: "[ike] message". */
export function formatControlLog(m: ViciMessage): string {
  return `[${findStr(m, 'group') ?? '   '}] ${findStr(m, 'msg') ?? ''}`;
}

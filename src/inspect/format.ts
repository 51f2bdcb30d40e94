/**
 * Printers for inspect records: readable text (one header line per packet, one indented line per IKE payload)
 * and JSON lines (one object per packet, the InspectRecord as is).
 */
import type { EspRecord, IkeRecord, InspectRecord, InspectResult } from './inspect.js';

const addr = (a: string, port?: number): string => (port === undefined ? a : a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`);

function ikeLines(r: IkeRecord): string[] {
  const dir = `${r.response ? 'response' : 'request'} ${r.initiator ? 'from the original initiator' : 'from the original responder'}`;
  const frag = r.fragment ? ` fragment ${r.fragment.number}/${r.fragment.total}` : '';
  const state = r.decrypted ? `decrypted ${r.suite ?? ''}`.trimEnd() : r.encrypted ? `NOT DECRYPTED: ${r.reason ?? ''}` : 'plaintext';
  const tcp = r.transport === 'tcp' ? ' over TCP' : '';
  const head = `${r.exchange} #${r.messageId} ${dir}${frag}${tcp}  SPIs ${r.spiI}_i ${r.spiR}_r  ${state}`;
  const lines = [head];
  if (r.fragment?.reassembledFrom) lines.push(`    reassembled from frames ${r.fragment.reassembledFrom.join(', ')}`);
  else if (r.fragment && r.decrypted) lines.push('    (fragment kept for reassembly)');
  for (const p of r.payloads) lines.push(`    ${p.type}${p.text ? ` ${p.text}` : ''}`);
  if (r.decrypted && r.reason) lines.push(`    ${r.reason}`);
  return lines;
}

function espLine(r: EspRecord): string {
  const head = `ESP${r.encap === 'udp' ? '-in-UDP' : r.encap === 'tcp' ? '-in-TCP' : ''} SPI ${r.spi} seq ${r.seq}`;
  if (!r.decrypted) return `${head}  NOT DECRYPTED: ${r.reason ?? ''}`;
  if (!r.inner) return `${head}  ${r.suite} ${r.mode} (dummy packet, RFC 4303 2.6)`;
  const i = r.inner;
  return `${head}  ${r.suite} ${r.mode}  ${addr(i.src, i.sport)} -> ${addr(i.dst, i.dport)} ${i.protocol} length ${i.length}`;
}

export function formatRecordText(r: InspectRecord): string {
  const lines = r.kind === 'ike' ? ikeLines(r) : [espLine(r)];
  const prefix = `${String(r.frame).padStart(5)} ${r.time.toFixed(6).padStart(11)}  ${addr(r.src, r.sport)} -> ${addr(r.dst, r.dport)}  `;
  return [prefix + lines[0], ...lines.slice(1)].join('\n');
}

export function formatText(result: InspectResult): string {
  const out = result.records.map(formatRecordText);
  for (const n of result.notes) out.push(`${String(n.frame).padStart(5)}  unreadable: ${n.text}`);
  const ike = result.records.filter((r) => r.kind === 'ike');
  const esp = result.records.filter((r) => r.kind === 'esp');
  const enc = ike.filter((r) => r.kind === 'ike' && r.encrypted);
  out.push(
    `${ike.length} IKE messages (${enc.filter((r) => r.decrypted).length} of ${enc.length} encrypted decrypted), ` +
      `${esp.length} ESP packets (${esp.filter((r) => r.decrypted).length} decrypted)`,
  );
  return out.join('\n') + '\n';
}

/** One JSON object per IKE message / ESP packet, one per line. */
export function formatJson(result: InspectResult): string {
  return result.records.map((r) => JSON.stringify(r)).join('\n') + (result.records.length ? '\n' : '');
}

/**
 * `cygnet inspect` in the interop suite: run it on a capture (JSON lines), write keys as Wireshark's UAT files
 * (the ikev2_decryption_table / esp_sa lines strongSwan's save-keys plugin writes), and compare its records with
 * tshark's decode of the same capture.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EspRecord, IkeRecord, InspectRecord } from '../../../src/inspect/index.js';
import { CYGNET_MAIN, REPO_ROOT } from './cygnet.js';
import { run } from './exec.js';
import type { EspSaKeys, IkeSaKeys } from './keys.js';
import { espEncrLabel, espIntegLabel, ikeEncrLabel, ikeIntegLabel, type DecodedPacket } from './tshark.js';

/** `cygnet inspect FILE --key-log K... --json`, parsed. Throws on a non-zero exit. */
export async function cygnetInspect(file: string, keyFiles: readonly string[], extra: readonly string[] = []): Promise<{ records: InspectRecord[]; stderr: string }> {
  const args = ['--import', 'tsx', CYGNET_MAIN, 'inspect', file, ...keyFiles.flatMap((k) => ['--key-log', k]), '--json', ...extra];
  const r = await run(process.execPath, args, { cwd: REPO_ROOT, timeoutMs: 60_000 });
  const records = r.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as InspectRecord);
  return { records, stderr: r.stderr };
}

/**
 * Writes `ikev2_decryption_table` and `esp_sa` into `dir` (strongSwan save-keys layout: SPIs and keys as bare hex
 * in the IKE table, quoted "0x..." strings in esp_sa). Returns both paths.
 */
export async function writeWiresharkKeyFiles(dir: string, keys: { ike: readonly IkeSaKeys[]; esp: readonly EspSaKeys[] }): Promise<string[]> {
  const ike = keys.ike.map((k) => [k.spiI, k.spiR, k.skEi, k.skEr, `"${ikeEncrLabel(k)}"`, k.skAi ?? '', k.skAr ?? '', `"${ikeIntegLabel(k.integ)}"`].join(','));
  const esp = keys.esp.flatMap((k) => {
    const encr = espEncrLabel(k.encr);
    if (!encr) return [];
    const fam = k.src.includes(':') ? 'IPv6' : 'IPv4';
    return [[fam, k.src, k.dst, `0x${k.spi}`, encr, `0x${k.encrKey}`, espIntegLabel(k.integ), k.integKey ? `0x${k.integKey}` : ''].map((f) => `"${f}"`).join(',')];
  });
  const ikePath = join(dir, 'ikev2_decryption_table');
  const espPath = join(dir, 'esp_sa');
  await writeFile(ikePath, `# written by the interop suite for cygnet inspect\n${ike.join('\n')}\n`);
  await writeFile(espPath, `${esp.join('\n')}\n`);
  return [ikePath, espPath];
}

/**
 * Differences between tshark's decode and inspect's records, packet by packet (by frame number): every IKE message
 * and ESP packet tshark shows must be there with the same exchange, Message ID, R flag / SPI and sequence number,
 * and be decrypted by inspect whenever tshark decrypted it (with the same inner addresses for ESP).
 */
export function compareWithTshark(tshark: readonly DecodedPacket[], records: readonly InspectRecord[]): string[] {
  const problems: string[] = [];
  const byFrame = new Map(records.map((r) => [r.frame, r]));
  const wanted = tshark.filter((p) => p.kind === 'IKE' || p.kind === 'ESP');
  for (const p of wanted) {
    const r = byFrame.get(p.frame);
    if (!r) {
      problems.push(`frame ${p.frame}: tshark shows ${p.kind} ${p.exchange ?? p.espSpi ?? ''}, inspect nothing`);
      continue;
    }
    if (p.kind === 'IKE') {
      if (r.kind !== 'ike') {
        problems.push(`frame ${p.frame}: tshark IKE, inspect ${r.kind}`);
        continue;
      }
      const i: IkeRecord = r;
      if (i.exchange !== p.exchange || i.messageId !== p.msgId || i.response !== p.response) {
        problems.push(`frame ${p.frame}: tshark ${p.exchange} #${p.msgId} ${p.response ? 'response' : 'request'}, inspect ${i.exchange} #${i.messageId} ${i.response ? 'response' : 'request'}`);
      }
      if (p.decrypted && !i.decrypted) problems.push(`frame ${p.frame}: tshark decrypted ${p.exchange}, inspect did not: ${i.reason}`);
      if (p.decrypted && i.decrypted) {
        // tshark's payload list is outer + inner in RFC names; compare the inner ones' types (N names included).
        const theirs = p.payloads.filter((x) => x !== 'SK' && x !== 'SKF');
        const ours = i.payloads.map((x) => x.type);
        if (theirs.join(' ') !== ours.join(' ')) problems.push(`frame ${p.frame}: payloads tshark [${theirs.join(' ')}] inspect [${ours.join(' ')}]`);
      }
    } else {
      if (r.kind !== 'esp') {
        problems.push(`frame ${p.frame}: tshark ESP, inspect ${r.kind}`);
        continue;
      }
      const e: EspRecord = r;
      if (e.spi !== p.espSpi || e.seq !== p.espSeq) problems.push(`frame ${p.frame}: tshark ESP ${p.espSpi} seq ${p.espSeq}, inspect ${e.spi} seq ${e.seq}`);
      if (p.decrypted && !e.decrypted) problems.push(`frame ${p.frame}: tshark decrypted ESP ${p.espSpi}, inspect did not: ${e.reason}`);
      if (p.inner && e.inner && (p.inner.src !== e.inner.src || p.inner.dst !== e.inner.dst)) {
        problems.push(`frame ${p.frame}: inner ${p.inner.src} -> ${p.inner.dst} (tshark), ${e.inner.src} -> ${e.inner.dst} (inspect)`);
      }
    }
  }
  const frames = new Set(wanted.map((p) => p.frame));
  for (const r of records) if (!frames.has(r.frame)) problems.push(`frame ${r.frame}: inspect shows ${r.kind}, tshark nothing`);
  return problems;
}

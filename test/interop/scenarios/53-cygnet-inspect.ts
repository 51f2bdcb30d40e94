/**
 * `cygnet inspect` on a capture of cygnet <-> strongSwan with traffic and rekeys, checked against tshark with the
 * same keys: IKE_SA_INIT, IKE_AUTH, pings, a CHILD rekey and an IKE rekey by strongSwan (CREATE_CHILD_SA), more
 * pings, cygnet's Delete at SIGTERM. inspect must decode every IKE message and ESP packet tshark decodes (same
 * frames, exchanges, Message IDs, SPIs, sequence numbers; decrypted wherever tshark decrypted), from cygnet's own
 * key log and from the same keys written as Wireshark's ikev2_decryption_table / esp_sa files.
 * A second session with fragment_size = 200 on both sides (RFC 7383) shows inspect reassembling the SKF fragments
 * of IKE_AUTH each way, strongSwan's included.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspectFrames, parseKeyLog, readCapture, type EspRecord, type IkeRecord } from '../../../src/inspect/index.js';
import { compareWithTshark, cygnetInspect, writeWiresharkKeyFiles } from '../lib/inspect.js';
import { keysFromJsonLines } from '../lib/keys.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { decodeCapture, startCapture } from '../lib/tshark.js';
import { cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-inspect';
export const timeoutMs = 60_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  // IKE with AES-GCM (AEAD), ESP with AES-CBC + HMAC-SHA2: both decryption paths in one capture.
  const conn = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes256-sha256', startAction: 'start' });
  const theirs = mirror(conn);
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }) });
  await swan.loadAll();
  const cap = await startCapture(h.left.ns, 'eth0', join(ctx.dir, 'left.pcapng'));
  ctx.logFiles.push({ label: 'dumpcap', path: `${cap.file}.log` });
  const keyFile = join(ctx.dir, 'cygnet.keys');
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0', '--key-log', keyFile]);
  const c0 = await cyg.waitFor('SA established', establishedCygnet);
  await swan.waitEstablished('cyg', 'net');
  const ping = async (what: string): Promise<void> => {
    const p = await h.left.ns.ping(h.right.inner4, { count: 3, source: h.left.inner4, intervalS: 0.1 });
    assert.equal(p.received, 3, `ping after ${what}:\n${p.output}`);
  };
  await ping('establishment');

  await swan.rekey({ child: 'net' });
  const c1 = await cyg.waitFor('CHILD SA rekeyed by strongSwan', (s) => {
    const sa = establishedCygnet(s);
    return sa && sa.children.length === 1 && sa.children[0]!.spiIn !== c0.children[0]!.spiIn ? sa : undefined;
  });
  await ping('the CHILD rekey');
  await swan.rekey({ ike: 'cyg' });
  const i2 = await cyg.waitFor('IKE SA rekeyed', (s) => {
    const sa = establishedCygnet(s);
    return sa && sa.spiI !== c0.spiI ? sa : undefined;
  });
  await ping('the IKE rekey');
  ctx.log(`CHILD ${c0.children[0]!.spiIn} -> ${c1.children[0]!.spiIn}; IKE ${c0.spiI} -> ${i2.spiI}`);
  assert.equal(await cyg.peer.stop(5000), 0);
  await swan.waitNoSas('cyg', 5000);
  await cap.stop();
  await swan.stop();

  const keys = keysFromJsonLines(readFileSync(keyFile, 'utf8'));
  assert.deepEqual(keys.errors, []);
  assert.equal(keys.ike.length, 2, 'both IKE SAs in the key log');
  assert.equal(keys.esp.length, 4, 'both CHILD SAs, both directions, in the key log');

  const tshark = await decodeCapture(cap.file, keys);
  const tIke = tshark.filter((p) => p.kind === 'IKE');
  const tEsp = tshark.filter((p) => p.kind === 'ESP');
  ctx.log(`tshark: ${tIke.length} IKE (${tIke.filter((p) => p.decrypted).length} decrypted), ${tEsp.length} ESP (${tEsp.filter((p) => p.decrypted).length} decrypted)`);
  // The capture must hold what this scenario is about, or the comparison proves little.
  for (const x of ['IKE_SA_INIT', 'IKE_AUTH', 'CREATE_CHILD_SA', 'INFORMATIONAL']) assert.ok(tIke.some((p) => p.exchange === x), `tshark sees ${x}`);
  assert.ok(tIke.filter((p) => p.exchange === 'CREATE_CHILD_SA' && p.decrypted).length >= 4, 'tshark decrypts both rekeys, request and response');
  assert.ok(new Set(tEsp.filter((p) => p.decrypted).map((p) => p.espSpi)).size >= 4, 'tshark decrypts ESP of both CHILD SAs both ways');

  const wireshark = await writeWiresharkKeyFiles(await ctx.subdir('wireshark-keys'), keys);
  for (const [label, files] of [['cygnet key log', [keyFile]], ['Wireshark UAT files', wireshark]] as const) {
    const { records, stderr } = await cygnetInspect(cap.file, files);
    assert.equal(stderr, '', `${label}: no warnings`);
    const ike = records.filter((r): r is IkeRecord => r.kind === 'ike');
    const esp = records.filter((r): r is EspRecord => r.kind === 'esp');
    ctx.log(`inspect (${label}): ${ike.length} IKE (${ike.filter((r) => r.decrypted).length} decrypted), ${esp.length} ESP (${esp.filter((r) => r.decrypted).length} decrypted)`);
    assert.equal(ike.length, tIke.length, `${label}: as many IKE messages as tshark`);
    assert.equal(esp.length, tEsp.length, `${label}: as many ESP packets as tshark`);
    const problems = compareWithTshark(tshark, records);
    assert.deepEqual(problems, [], `${label}: inspect and tshark differ:\n${problems.join('\n')}`);
    // Everything encrypted decrypts: both IKE SAs, all four ESP SAs.
    const undecrypted = records.filter((r) => !r.decrypted && !(r.kind === 'ike' && !r.encrypted));
    assert.deepEqual(undecrypted.map((r) => `${r.frame}: ${r.reason}`), [], `${label}: everything encrypted decrypted`);
    assert.equal(new Set(ike.map((r) => r.spiI)).size, 2, `${label}: two IKE SAs`);
    for (const r of esp) assert.ok(r.inner && [h.left.inner4, h.right.inner4].includes(r.inner.src), `${label}: frame ${r.frame} inner ${r.inner?.src}`);
  }

  await fragmented(ctx, h);
}

const FRAGMENT_SIZE = 200;

/** IKE_AUTH in SKF fragments both ways (fragment_size 200): inspect reassembles them; counts agree with tshark. */
async function fragmented(ctx: ScenarioContext, h: Awaited<ReturnType<typeof twoHosts>>): Promise<void> {
  const base = cygnetConnection(h, { proposals: 'aes256-sha256-x25519', esp: 'aes128gcm16', startAction: 'start' });
  const conn = { ...base, extra: { fragmentation: 'yes' } };
  const theirs = mirror(conn);
  const swan = await ctx.startStrongswan({
    ns: h.right.ns,
    swanctlConf: pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }),
    charonOptions: `fragment_size = ${FRAGMENT_SIZE}`,
    label: 'right-fragments',
  });
  await swan.loadAll();
  const settings = join(await ctx.subdir('settings'), 'strongswan.conf');
  await writeFile(settings, `charon {\n  fragment_size = ${FRAGMENT_SIZE}\n}\n`);
  const cap = await startCapture(h.left.ns, 'eth0', join(ctx.dir, 'left-fragments.pcapng'));
  const keyFile = join(ctx.dir, 'cygnet-fragments.keys');
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0', '--key-log', keyFile, '--settings', settings]);
  await cyg.waitFor('SA established', establishedCygnet);
  await swan.waitEstablished('cyg', 'net');
  const p = await h.left.ns.ping(h.right.inner4, { count: 2, source: h.left.inner4, intervalS: 0.1 });
  assert.equal(p.received, 2, p.output);
  assert.equal(await cyg.peer.stop(5000), 0);
  await swan.waitNoSas('cyg', 5000);
  await cap.stop();
  await swan.stop();

  const keys = keysFromJsonLines(readFileSync(keyFile, 'utf8'));
  const tshark = await decodeCapture(cap.file, keys);
  // The library entry points behind the command, in-process (the command itself ran twice above; a node start
  // with tsx costs seconds on a loaded machine).
  const records = inspectFrames(readCapture(readFileSync(cap.file)).frames, { keys: parseKeyLog(readFileSync(keyFile, 'utf8'), keyFile) }).records;
  const ike = records.filter((r): r is IkeRecord => r.kind === 'ike');
  assert.equal(ike.length, tshark.filter((p) => p.kind === 'IKE').length, 'as many IKE messages as tshark');
  assert.equal(records.length - ike.length, tshark.filter((p) => p.kind === 'ESP').length, 'as many ESP packets as tshark');
  const auth = ike.filter((r) => r.exchange === 'IKE_AUTH');
  ctx.log(`fragments: ${auth.map((r) => `${r.frame}:${r.response ? 'R' : 'Q'}${r.fragment ? ` ${r.fragment.number}/${r.fragment.total}` : ''}`).join(' ')}`);
  for (const response of [false, true]) {
    const frags = auth.filter((r) => r.response === response);
    assert.ok(frags.length >= 2 && frags.every((r) => r.fragment && r.decrypted), `IKE_AUTH ${response ? 'response (strongSwan)' : 'request (cygnet)'} in decrypted fragments: ${frags.length}`);
    const whole = frags.find((r) => r.fragment?.reassembledFrom);
    assert.ok(whole, `IKE_AUTH ${response ? 'response' : 'request'} reassembled`);
    assert.deepEqual(whole.fragment!.reassembledFrom!.length, whole.fragment!.total);
    const types = whole.payloads.map((x) => x.type);
    for (const t of [response ? 'IDr' : 'IDi', 'AUTH', 'SA', 'TSi', 'TSr']) assert.ok(types.includes(t), `reassembled IKE_AUTH ${response ? 'response' : 'request'} has ${t}: ${types.join(' ')}`);
  }
  const undecrypted = records.filter((r) => !r.decrypted && !(r.kind === 'ike' && !r.encrypted));
  assert.deepEqual(undecrypted.map((r) => `${r.frame}: ${r.reason}`), [], 'everything encrypted decrypted');
}

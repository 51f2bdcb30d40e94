/**
 * `pki --print` output, shaped like strongSwan 5.9's (times in UTC): certificate, CRL and key summaries.
 * `now` decides the "ok / expired / not valid yet" notes.
 */
import { subjectKeyIdOf, type Certificate } from './certificate.js';
import { crlNumberHex, type Crl } from './crl.js';
import { hexColon } from './der.js';
import { describeKey, keyIdSha1, publicKeyOf, spkiSha1, type PrivateKey, type PublicKey } from './keys.js';
import { generalNameText } from './name.js';
import { OID } from './oids.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

/** "Nov 22 23:14:44 2026" (strongSwan's %T time format). */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** strongSwan's %V: "729 days", "5 hours", "3 minutes", "12 seconds". */
export function formatInterval(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const unit = (n: number, u: string) => `${n} ${u}${n === 1 ? '' : 's'}`;
  if (s >= 86400) return unit(Math.floor(s / 86400), 'day');
  if (s >= 3600) return unit(Math.floor(s / 3600), 'hour');
  if (s >= 60) return unit(Math.floor(s / 60), 'minute');
  return unit(s, 'second');
}

function flagsOf(c: Certificate): string[] {
  const f: string[] = [];
  if (c.basicConstraints?.ca) f.push('CA');
  if (c.keyUsage?.has('cRLSign')) f.push('CRLSign');
  const eku = c.extKeyUsage ?? [];
  if (eku.includes(OID.ocspSigning)) f.push('ocspSigning');
  if (eku.includes(OID.serverAuth)) f.push('serverAuth');
  if (eku.includes(OID.clientAuth)) f.push('clientAuth');
  if (eku.includes(OID.ikeIntermediate)) f.push('ikeIntermediate');
  if (eku.includes(OID.msSmartcardLogon)) f.push('msSmartcardLogon');
  if (c.selfSigned) f.push('self-signed');
  return f;
}

function keyLines(key: PublicKey, label: 'pubkey' | 'privkey'): string[] {
  return [`  ${label}:${label === 'pubkey' ? '   ' : '  '} ${describeKey(key)}`, `  keyid:     ${hexColon(spkiSha1(key))}`, `  subjkey:   ${hexColon(keyIdSha1(key))}`];
}

export function formatCertificate(c: Certificate, now: number): string {
  const lines = [`  subject:  "${c.subject.text}"`, `  issuer:   "${c.issuer.text}"`];
  lines.push(
    `  validity:  not before ${formatTime(c.notBefore)}, ${now < c.notBefore ? `not valid yet (valid in ${formatInterval(c.notBefore - now)})` : 'ok'}`,
  );
  lines.push(
    `             not after  ${formatTime(c.notAfter)}, ${now > c.notAfter ? `expired (${formatInterval(now - c.notAfter)} ago)` : `ok (expires in ${formatInterval(c.notAfter - now)})`}`,
  );
  lines.push(`  serial:    ${c.serialHex}`);
  if (c.subjectAltNames.length) lines.push(`  altNames:  ${c.subjectAltNames.map(generalNameText).join(', ')}`);
  lines.push(`  flags:     ${flagsOf(c).map((f) => `${f} `).join('')}`);
  if (c.basicConstraints?.pathLen !== undefined) lines.push(`  pathlen:   ${c.basicConstraints.pathLen}`);
  if (c.crlDistributionPoints.length) lines.push(`  CRL URIs:  ${c.crlDistributionPoints.join('\n             ')}`);
  if (c.authorityKeyId) lines.push(`  authkeyId: ${hexColon(c.authorityKeyId)}`);
  lines.push(`  subjkeyId: ${hexColon(subjectKeyIdOf(c))}`);
  lines.push(...keyLines(c.publicKey, 'pubkey'));
  return lines.join('\n') + '\n';
}

export function formatCrl(crl: Crl, now: number): string {
  const lines = [`  issuer:   "${crl.issuer.text}"`, `  update:    this on ${formatTime(crl.thisUpdate)}, ${now < crl.thisUpdate ? 'not valid yet' : 'ok'}`];
  if (crl.nextUpdate !== undefined)
    lines.push(
      `             next on ${formatTime(crl.nextUpdate)}, ${now > crl.nextUpdate ? `expired (${formatInterval(now - crl.nextUpdate)} ago)` : `ok (expires in ${formatInterval(crl.nextUpdate - now)})`}`,
    );
  if (crl.crlNumber) lines.push(`  serial:    ${crlNumberHex(crl)}`);
  if (crl.authorityKeyId) lines.push(`  authKeyId: ${hexColon(crl.authorityKeyId)}`);
  const n = crl.revoked.length;
  lines.push(`  ${n} revoked certificate${n === 1 ? '' : 's'}${n ? ':' : ''}`);
  for (const r of crl.revoked) lines.push(`    ${hexColon(r.serial)}: ${formatTime(r.date)}, ${r.reasonText}`);
  return lines.join('\n') + '\n';
}

export function formatKey(key: PrivateKey | PublicKey): string {
  const pub = publicKeyOf(key);
  return keyLines(pub, key.kind === 'private' ? 'privkey' : 'pubkey').join('\n') + '\n';
}

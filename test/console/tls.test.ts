/**
 * Under TLS the session cookie is Secure and __Host- prefixed (RFC 6265bis 4.1.3.2), HSTS is sent, and a
 * non-loopback address is allowed without --insecure-bind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:https';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKey } from '../../src/pki/keygen.js';
import { publicKeyOf } from '../../src/pki/keys.js';
import { issueCertificate } from '../../src/pki/build.js';
import { startConsole, type RunningConsole } from '../../src/console/cli.js';
import { startHarness, type Harness } from './harness.js';

let hx: Harness;
let tlsConsole: RunningConsole;
const logs: string[] = [];

beforeAll(async () => {
  hx = await startHarness();
  const key = generateKey({ type: 'ecdsa', size: 256 });
  const now = Date.now();
  const cert = issueCertificate({ subject: 'CN=console.cygnet.test', publicKey: publicKeyOf(key), signingKey: key, serial: Uint8Array.of(7), notBefore: now - 60_000, notAfter: now + 86_400_000, san: ['127.0.0.1'] });
  const pem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(cert.der).toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
  await writeFile(join(hx.dir, 'tls.crt'), pem);
  await writeFile(join(hx.dir, 'tls.key'), key.keyObject.export({ type: 'pkcs8', format: 'pem' }));
  tlsConsole = await startConsole(
    new Map([
      ['--config', join(hx.dir, 'console.conf')],
      // Not loopback, and no --insecure-bind: TLS makes it acceptable.
      ['--listen', '0.0.0.0:0'],
      ['--socket', join(hx.dir, 'vici')],
      ['--tls-cert', join(hx.dir, 'tls.crt')],
      ['--tls-key', join(hx.dir, 'tls.key')],
    ]),
    (l) => logs.push(l),
  );
});

afterAll(async () => {
  await tlsConsole?.stop();
  await hx?.stop();
});

function get(path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  const port = Number(new URL(tlsConsole.url).port);
  return new Promise((resolve, reject) => {
    // The certificate is self-signed: this test checks headers, not the chain.
    const req = request({ host: '127.0.0.1', port, path, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('console over TLS', () => {
  it('serves HTTPS with a Secure, __Host- session cookie and HSTS', async () => {
    expect(tlsConsole.url).toMatch(/^https:\/\/0\.0\.0\.0:\d+\/$/);
    expect(logs.join('\n')).not.toMatch(/warning/);
    const r = await get('/api/session');
    expect(r.status).toBe(200);
    const cookie = String(r.headers['set-cookie'] ?? '');
    expect(cookie).toMatch(/^__Host-cygnet-console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Secure/);
    expect(r.headers['strict-transport-security']).toBe('max-age=31536000');
  });
});

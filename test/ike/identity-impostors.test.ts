/**
 * Issue 11 end to end: certificates issued by the trusted CA whose subjects (or directoryName SANs) print like the
 * identity the responder expects but are different names. The responder (B) expects
 *
 *   remote { id = "C=CH, O=example, CN=gw.example" }
 *
 * and the initiator (A) runs IKE_AUTH with each certificate, either sending its subject as IDi (the default) or
 * claiming the expected DN. Impostors are refused with AUTHENTICATION_FAILED (RFC 7296 2.21.2) and a log line
 * naming the configured and the received identity (and for a certificate, that its subject/SANs do not match);
 * genuine certificates, also in other string types and cases (RFC 5280 7.1), still establish.
 * Covered: escaped comma, `+` multi-valued RDN, other attribute order, spaces that hide a separator, embedded `=`,
 * directoryName SANs, a literal `*`; the same impostor DNs claimed as IDs with a PSK; and as genuine names, other
 * string types, case, and leading/trailing spaces (insignificant under RFC 4518 2.6.1).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import type { Credentials } from '../../src/ike/config.js';
import type { IkeEvent } from '../../src/ike/events.js';
import { avaFromValueDer, encodeDn, OID, stringAva, Tag, type Dn } from '../../src/identity/index.js';
import { derTlv } from '../../src/identity/der.js';
import { generateKey, issueCertificate, publicKeyOf, sameCertificate, TrustStore, type Certificate, type PrivateKey } from '../../src/pki/index.js';
import { makePair, type Side } from './pair.js';

const NOW = Date.UTC(2026, 11, 6);
const DAY = 86_400_000;
const EXPECTED = 'C=CH, O=example, CN=gw.example';
/** A names the responder it wants (IDr), so B's refusal repeats it. */
const ASKING = "(asking for us as 'C=CH, O=example, CN=hq')";
const of = <T extends IkeEvent['type']>(s: Side, t: T) => s.events.filter((e): e is Extract<IkeEvent, { type: T }> => e.type === t);
const s = stringAva;
const typed = (oid: string, tag: number, text: string) => avaFromValueDer(oid, derTlv(tag, tag === Tag.BMPString ? Uint8Array.from(Buffer.from(text, 'utf16le').swap16()) : new TextEncoder().encode(text)));

interface Host {
  cert: Certificate;
  key: PrivateKey;
}
let serial = 1;
let caKey: PrivateKey;
let ca: Certificate;
let hq: Host;

function host(subject: string | Dn, san: string[] = []): Host {
  const key = generateKey({ type: 'ecdsa', size: 256 });
  const cert = issueCertificate({ subject, publicKey: publicKeyOf(key), issuer: ca, signingKey: caKey, serial: Uint8Array.of(serial++), notBefore: NOW - DAY, notAfter: NOW + 365 * DAY, san, flags: ['serverAuth'] });
  return { cert, key };
}

function creds(own: Host): Credentials {
  return { ...pskCredentials([]), privateKeyFor: (c) => (sameCertificate(c, own.cert) ? own.key : undefined), trust: new TrustStore([ca]) };
}

/** A initiates with `peer`'s certificate (IDi = `claim`, or its subject); B expects `expected` as the remote id. */
function attempt(peer: Host, o: { claim?: string; expected?: string } = {}) {
  const p = makePair(
    {
      connections: [
        connection({
          name: 'gw', remoteAddrs: ['192.0.2.2'], sendCert: 'always',
          local: { auth: 'pubkey', ...(o.claim ? { id: o.claim } : {}), certs: [peer.cert] },
          remote: { auth: 'pubkey', id: 'C=CH, O=example, CN=hq' },
          children: [child('net', { localTs: ['10.1.0.0/16'], remoteTs: ['10.0.0.0/8'] })],
        }),
      ],
      credentials: creds(peer),
    },
    {
      connections: [
        connection({
          name: 'gw', remoteAddrs: ['%any'], sendCert: 'always',
          local: { auth: 'pubkey', certs: [hq.cert] },
          remote: { auth: 'pubkey', id: o.expected ?? EXPECTED },
          children: [child('net', { localTs: ['10.0.0.0/8'], remoteTs: ['10.1.0.0/16'] })],
        }),
      ],
      credentials: creds(hq),
    },
    { settings: { epochOffsetMs: NOW } },
  );
  p.a.ep.initiate('gw', 0);
  p.sim.runUntil(() => (of(p.a, 'child-install').length > 0 && of(p.b, 'child-install').length > 0) || of(p.a, 'ike-down').length > 0, { maxTime: 60_000 });
  return p;
}

function expectRefused(p: ReturnType<typeof attempt>): string {
  expect(of(p.b, 'ike-up')).toHaveLength(0);
  expect(of(p.a, 'ike-up')).toHaveLength(0);
  expect(p.b.ep.listSas().filter((x) => x.sa.state === 'ESTABLISHED')).toHaveLength(0);
  // B answered N(AUTHENTICATION_FAILED); A says so.
  expect(of(p.a, 'auth-failed').map((e) => e.message).join('\n')).toMatch(/rejected our authentication \(AUTHENTICATION_FAILED\)/);
  const why = of(p.b, 'auth-failed').map((e) => e.message);
  expect(why).toHaveLength(1);
  // ... and logged it.
  expect(p.b.logs.some((l) => l.includes(why[0]!))).toBe(true);
  return why[0]!;
}

function expectEstablished(p: ReturnType<typeof attempt>): void {
  expect(of(p.a, 'auth-failed')).toHaveLength(0);
  expect(of(p.b, 'auth-failed')).toHaveLength(0);
  expect(of(p.a, 'ike-up')).toHaveLength(1);
  expect(of(p.b, 'ike-up')).toHaveLength(1);
  expect(of(p.b, 'child-install')).toHaveLength(1);
}

beforeAll(() => {
  caKey = generateKey({ type: 'ecdsa', size: 256 });
  ca = issueCertificate({ subject: 'C=CH, O=example, CN=example CA', publicKey: publicKeyOf(caKey), signingKey: caKey, serial: Uint8Array.of(serial++), notBefore: NOW - DAY, notAfter: NOW + 3650 * DAY, ca: true });
  hq = host('C=CH, O=example, CN=hq');
});

describe('impostor certificates from the trusted CA are refused', () => {
  it('issued certificates carry a structured subject byte for byte', () => {
    const dn: Dn = [[s(OID.C, 'CH')], [s(OID.O, 'example'), s(OID.CN, 'gw.example')], [typed(OID.OU, Tag.BMPString, 'x')]];
    expect(Buffer.from(host(dn).cert.subject.der).toString('hex')).toBe(Buffer.from(encodeDn(dn)).toString('hex'));
  });
  it('the reported attack: O="example, CN=gw.example" sent as its own subject DN', () => {
    const evil = host([[s(OID.C, 'CH')], [s(OID.O, 'example, CN=gw.example')]]);
    expect(evil.cert.subject.dn).toHaveLength(2);
    expect(evil.cert.subject.text).toBe('C=CH, O=example\\, CN=gw.example');
    const why = expectRefused(attempt(evil));
    expect(why).toBe(`no matching peer config found for 'C=CH, O=example\\, CN=gw.example' ${ASKING}: configured remote ids: '${EXPECTED}'`);
  });

  it('the same certificate claiming the expected DN as IDi: the subject does not match', () => {
    const evil = host([[s(OID.C, 'CH')], [s(OID.O, 'example, CN=gw.example')]]);
    const why = expectRefused(attempt(evil, { claim: EXPECTED }));
    expect(why).toContain(`authentication of '${EXPECTED}' failed: identity '${EXPECTED}' is not confirmed by certificate "C=CH, O=example\\, CN=gw.example": neither its subject nor a subjectAltName matches`);
    expect(why).toContain(`(configured remote id '${EXPECTED}')`);
  });

  it('a multi-valued RDN O=example+CN=gw.example (flattened, it is the expected DN)', () => {
    const evil = host([[s(OID.C, 'CH')], [s(OID.O, 'example'), s(OID.CN, 'gw.example')]]);
    expect(evil.cert.subject.rdns.map((r) => r.value)).toEqual(['CH', 'example', 'gw.example']);
    expect(expectRefused(attempt(evil))).toMatch(/^no matching peer config found for 'C=CH, O=example\+CN=gw\.example'/);
    expect(expectRefused(attempt(evil, { claim: EXPECTED }))).toContain(`is not confirmed by certificate "C=CH, O=example+CN=gw.example"`);
  });

  it('a directoryName subjectAltName that prints like the expected DN', () => {
    const evil = host('C=CH, O=example, CN=evil', ['C=CH, O=example\\, CN=gw.example']);
    expect(expectRefused(attempt(evil, { claim: EXPECTED }))).toMatch(/subjectAltNames DN:C=CH, O=example\\, CN=gw\.example/);
  });

  it('RDNs in another order, a trailing extra RDN, a zero-width space', () => {
    for (const subject of ['CN=gw.example, O=example, C=CH', 'C=CH, O=example, CN=gw.example, OU=x', [[s(OID.C, 'CH')], [s(OID.O, 'example')], [s(OID.CN, 'gw\u200b.example')]]] as (string | Dn)[]) {
      const why = expectRefused(attempt(host(subject)));
      expect(why).toMatch(/^no matching peer config found for '.*' \(asking for us as '.*'\): configured remote ids: 'C=CH, O=example, CN=gw\.example'$/);
    }
  });

  it('trailing spaces around a value that hides a separator: O="example , CN=gw.example " (two RDNs)', () => {
    // Printed without escapes and with spaces trimmed around commas, this is the expected DN; it has two RDNs.
    const evil = host([[s(OID.C, 'CH')], [s(OID.O, 'example , CN=gw.example ')]]);
    expect(evil.cert.subject.text).toBe('C=CH, O=example \\, CN=gw.example\\ ');
    expect(expectRefused(attempt(evil))).toBe(`no matching peer config found for 'C=CH, O=example \\, CN=gw.example\\ ' ${ASKING}: configured remote ids: '${EXPECTED}'`);
    expect(expectRefused(attempt(evil, { claim: EXPECTED }))).toContain(`is not confirmed by certificate "C=CH, O=example \\, CN=gw.example\\ "`);
  });

  it('embedded = in a value: C="CH, O=example" then CN, and one RDN C="CH, O=example, CN=gw.example"', () => {
    for (const dn of [
      [[s(OID.C, 'CH, O=example')], [s(OID.CN, 'gw.example')]],
      [[s(OID.C, 'CH, O=example, CN=gw.example')]],
      [[s(OID.C, 'CH')], [s(OID.O, 'example')], [s(OID.CN, 'gw.example+OU=x')]],
    ] as Dn[]) {
      const evil = host(dn);
      const printed = evil.cert.subject.text;
      expect(printed).toMatch(/\\[,+]/); // the printer escapes the separator inside the value (RFC 4514 2.4)
      expect(expectRefused(attempt(evil))).toBe(`no matching peer config found for '${printed}' ${ASKING}: configured remote ids: '${EXPECTED}'`);
      expect(expectRefused(attempt(evil, { claim: EXPECTED }))).toContain(`is not confirmed by certificate "${printed}"`);
    }
  });

  it("a certificate whose CN is literally '*' does not act as a wildcard", () => {
    const star = host('C=CH, O=example, CN=*');
    expect(expectRefused(attempt(star))).toBe(`no matching peer config found for 'C=CH, O=example, CN=*' ${ASKING}: configured remote ids: '${EXPECTED}'`);
  });

  it('a configured wildcard CN=* still refuses the two-RDN impostor', () => {
    const evil = host([[s(OID.C, 'CH')], [s(OID.O, 'example, CN=gw.example')]]);
    expectRefused(attempt(evil, { expected: 'C=CH, O=example, CN=*' }));
  });
});

describe('cygnet initiating to an impostor responder', () => {
  /** A initiates expecting EXPECTED; B answers with `responder`'s certificate (IDr = `claim` or its subject). */
  function toResponder(responder: Host, claim?: string) {
    const p = makePair(
      {
        connections: [
          connection({
            name: 'gw', remoteAddrs: ['192.0.2.2'], sendCert: 'always',
            local: { auth: 'pubkey', certs: [hq.cert] },
            remote: { auth: 'pubkey', id: EXPECTED },
            children: [child('net', { localTs: ['10.0.0.0/8'], remoteTs: ['10.1.0.0/16'] })],
          }),
        ],
        credentials: creds(hq),
      },
      {
        connections: [
          connection({
            name: 'gw', remoteAddrs: ['%any'], sendCert: 'always',
            local: { auth: 'pubkey', ...(claim ? { id: claim } : {}), certs: [responder.cert] },
            remote: { auth: 'pubkey' },
            children: [child('net', { localTs: ['10.1.0.0/16'], remoteTs: ['10.0.0.0/8'] })],
          }),
        ],
        credentials: creds(responder),
      },
      { settings: { epochOffsetMs: NOW } },
    );
    p.a.ep.initiate('gw', 0);
    p.sim.runUntil(() => of(p.a, 'child-install').length > 0 || of(p.a, 'ike-down').length > 0, { maxTime: 60_000 });
    return p;
  }
  it('a responder holding the two-RDN impostor certificate is not the IDr we ask for', () => {
    // A sends IDr = EXPECTED (RFC 7296 2.15); B's own identity (its subject) does not match it structurally.
    const p = toResponder(host([[s(OID.C, 'CH')], [s(OID.O, 'example, CN=gw.example')]]));
    expect(of(p.a, 'ike-up')).toHaveLength(0);
    expect(of(p.b, 'auth-failed').map((e) => e.message)).toEqual([`no matching peer config found for 'C=CH, O=example, CN=hq' (asking for us as '${EXPECTED}'): configured remote ids: '%any'`]);
    expect(of(p.a, 'auth-failed').map((e) => e.message).join('\n')).toMatch(/rejected our authentication \(AUTHENTICATION_FAILED\)/);
  });
  it('refuses a responder claiming the expected DN with a multi-valued RDN certificate', () => {
    const p = toResponder(host([[s(OID.C, 'CH')], [s(OID.O, 'example'), s(OID.CN, 'gw.example')]]), EXPECTED);
    expect(of(p.a, 'ike-up')).toHaveLength(0);
    expect(of(p.a, 'auth-failed').map((e) => e.message).join('\n')).toContain(`is not confirmed by certificate "C=CH, O=example+CN=gw.example"`);
  });
  it('accepts the genuine responder', () => {
    const p = toResponder(host(EXPECTED));
    expect(of(p.a, 'ike-up')).toHaveLength(1);
    expect(of(p.a, 'auth-failed')).toHaveLength(0);
  });
});

describe('impostor IDs (PSK): IDi that prints like the expected DN is another name', () => {
  const SECRET = 'impostor-test-psk-0123456789abcdef';
  /** A authenticates with a PSK it shares with B for any ID, claiming `claim` as IDi; B expects EXPECTED. */
  function pskAttempt(claim: string) {
    const psk = pskCredentials([{ ids: [], secret: SECRET }]);
    const p = makePair(
      {
        connections: [connection({ name: 'gw', remoteAddrs: ['192.0.2.2'], local: { auth: 'psk', id: claim }, remote: { auth: 'psk', id: 'C=CH, O=example, CN=hq' }, children: [child('net', { localTs: ['10.1.0.0/16'], remoteTs: ['10.0.0.0/8'] })] })],
        credentials: psk,
      },
      {
        connections: [connection({ name: 'gw', remoteAddrs: ['%any'], local: { auth: 'psk', id: 'C=CH, O=example, CN=hq' }, remote: { auth: 'psk', id: EXPECTED }, children: [child('net', { localTs: ['10.0.0.0/8'], remoteTs: ['10.1.0.0/16'] })] })],
        credentials: psk,
      },
      { settings: { epochOffsetMs: NOW } },
    );
    p.a.ep.initiate('gw', 0);
    p.sim.runUntil(() => (of(p.a, 'child-install').length > 0 && of(p.b, 'child-install').length > 0) || of(p.a, 'ike-down').length > 0, { maxTime: 60_000 });
    return p;
  }
  // Each claim is an RFC 4514 string for a DN that differs from EXPECTED; naive printing makes it look the same.
  it.each([
    ['escaped comma (two RDNs)', 'C=CH, O=example\\, CN=gw.example'],
    ['multi-valued RDN O+CN', 'C=CH, O=example+CN=gw.example'],
    ['other attribute order', 'CN=gw.example, O=example, C=CH'],
    ['escaped comma with trailing spaces', 'C=CH, O=example \\, CN=gw.example\\ '],
    ['embedded = in the first value', 'C=CH\\, O\\=example, CN=gw.example'],
  ])('%s: %s is refused, naming both identities', (_what, claim) => {
    const p = pskAttempt(claim);
    const why = expectRefused(p);
    expect(why).toMatch(/^no matching peer config found for '.*' \(asking for us as 'C=CH, O=example, CN=hq'\): configured remote ids: 'C=CH, O=example, CN=gw\.example'$/);
    expect(why).not.toContain(`for '${EXPECTED}'`);
  });
  it('the expected DN in another case and with insignificant spaces (RFC 4518 2.6.1) is the same name', () => {
    expectEstablished(pskAttempt('C=ch, O=EXAMPLE, CN=gw.example\\ '));
    expectEstablished(pskAttempt(EXPECTED));
  });
});

describe('genuine certificates still establish', () => {
  it('the expected subject, sent as IDi by default', () => {
    const p = attempt(host(EXPECTED));
    expectEstablished(p);
    expect(of(p.b, 'ike-up')[0]!.sa.remoteId).toBe(EXPECTED);
  });
  it('the same DN with leading and trailing spaces in a value (insignificant, RFC 4518 2.6.1)', () => {
    const p = attempt(host([[s(OID.C, 'CH')], [s(OID.O, ' example')], [typed(OID.CN, Tag.UTF8String, 'gw.example  ')]]));
    expectEstablished(p);
  });
  it('the same DN in other string types and case (RFC 5280 7.1)', () => {
    const p = attempt(host([[typed(OID.C, Tag.PrintableString, 'ch')], [typed(OID.O, Tag.BMPString, 'Example')], [typed(OID.CN, Tag.UTF8String, 'GW.example')]]));
    expectEstablished(p);
  });
  it('claiming the configured text while the subject is the same DN in other string types', () => {
    const p = attempt(host([[typed(OID.C, Tag.UTF8String, 'CH')], [typed(OID.O, Tag.T61String, 'example')], [typed(OID.CN, Tag.BMPString, 'gw.example')]]), { claim: EXPECTED });
    expectEstablished(p);
  });
  it('a configured wildcard CN=* accepts the genuine DN', () => {
    expectEstablished(attempt(host(EXPECTED), { expected: 'C=CH, O=example, CN=*' }));
  });
  it('an identity bound by a directoryName SAN', () => {
    expectEstablished(attempt(host('C=CH, O=example, CN=other', [EXPECTED]), { claim: EXPECTED }));
  });
});

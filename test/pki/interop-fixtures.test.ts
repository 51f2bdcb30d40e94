import { describe, expect, it } from 'vitest';
import { loadCertificate } from '../../src/pki/certificate.js';
import { loadCrl } from '../../src/pki/crl.js';
import { loadPrivateKey, publicKeyOf } from '../../src/pki/keys.js';
import { certMatchesId, TrustStore, validateChain } from '../../src/pki/validate.js';
import { parseIdentity } from '../../src/ike/identity.js';
import { fixture } from './helpers.js';

describe('test/fixtures/pki/interop', () => {
  const ca = loadCertificate(fixture('interop/ca.pem'));
  const crl = loadCrl(fixture('interop/ca.crl'));
  const store = new TrustStore([ca], [crl]);
  const now = ca.notBefore + 86400_000;
  it.each(['moon-ecdsa', 'moon-rsa', 'sun-ecdsa', 'sun-rsa', 'carol-ecdsa', 'dave-ecdsa'])('%s: key matches certificate', (name) => {
    const cert = loadCertificate(fixture(`interop/${name}.pem`));
    expect(publicKeyOf(loadPrivateKey(fixture(`interop/${name}.key`))).spki).toEqual(cert.publicKey.spki);
  });
  it('moon and sun validate; carol is revoked; dave lacks the FQDN', () => {
    for (const n of ['moon-ecdsa', 'moon-rsa', 'sun-ecdsa', 'sun-rsa', 'dave-ecdsa']) expect(validateChain(loadCertificate(fixture(`interop/${n}.pem`)), [], store, now).ok).toBe(true);
    expect(validateChain(loadCertificate(fixture('interop/carol-ecdsa.pem')), [], store, now)).toMatchObject({ ok: false, code: 'REVOKED' });
    const dave = loadCertificate(fixture('interop/dave-ecdsa.pem'));
    expect(certMatchesId(dave, parseIdentity('dave.cygnet.test'))).toMatchObject({ ok: false, code: 'ID_NOT_IN_CERT' });
    expect(certMatchesId(dave, parseIdentity('C=CH, O=cygnet test, CN=dave.cygnet.test')).ok).toBe(true);
  });
});

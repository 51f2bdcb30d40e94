import { describe, expect, it } from 'vitest';
import { eapSecretLookup, eapSecretProblem } from './secrets.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('EAP secrets (swanctl eap- and ntlm- sections)', () => {
  const lookup = eapSecretLookup([
    { ids: ['alice'], kind: 'password', secret: enc('wonderland') },
    { ids: ['alice', 'vpn.example.org'], kind: 'password', secret: enc('for-vpn') },
    { ids: ['carol'], kind: 'nthash', secret: new Uint8Array(16).fill(7) },
    { ids: ['bad'], kind: 'nthash', secret: new Uint8Array(3) },
  ]);
  it('finds a user, preferring the secret that also names us', () => {
    expect(lookup('alice', 'other.example.org')).toEqual({ kind: 'password', password: 'wonderland' });
    expect(lookup('alice', 'vpn.example.org')).toEqual({ kind: 'password', password: 'for-vpn' });
  });
  it('returns NT hashes as such', () => {
    expect(lookup('carol', 'vpn.example.org')).toEqual({ kind: 'nthash', hash: new Uint8Array(16).fill(7) });
  });
  it('an unknown user has no secret, and a secret naming only our id is not a user secret', () => {
    expect(lookup('mallory', 'vpn.example.org')).toBeUndefined();
  });
  it('an NT hash of the wrong length is refused with a reason', () => {
    expect(eapSecretProblem({ ids: ['bad'], kind: 'nthash', secret: new Uint8Array(3) })).toMatch(/NT hash is 16 bytes .* this one is 3/);
    expect(lookup('bad', 'x')).toBeUndefined();
  });
  it('a secret without ids is for anyone', () => {
    expect(eapSecretLookup([{ ids: [], kind: 'password', secret: enc('x') }])('anyone', 'vpn')).toEqual({ kind: 'password', password: 'x' });
  });
});

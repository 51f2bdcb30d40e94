/**
 * Apple configuration profile (.mobileconfig) for iOS, iPadOS and macOS: one top-level `Configuration` payload
 * holding the CA as a `com.apple.security.root` payload, the user's PKCS#12 as `com.apple.security.pkcs12` (for
 * certificate users) and a `com.apple.vpn.managed` payload with VPNType IKEv2. Key names and value ranges are
 * Apple's device-management schema (mdm/profiles/com.apple.vpn.managed.yaml, TopLevel.yaml,
 * com.apple.security.root.yaml, com.apple.security.pkcs12.yaml in github.com/apple/device-management).
 *
 * The profile is unsigned; iOS shows it as "Not Verified" until it is signed (e.g. `openssl smime -sign`).
 */
import { appleEsp, appleIke, describeProposal, pickProposal, type Skipped } from './algorithms.js';
import { ProfileError } from './errors.js';
import type { ClientProfileInput, ProfileOutput } from './input.js';
import { writePlist, type PlistDict } from './plist.js';
import { uuidV4, type RandomBytes } from './uuid.js';

/** Apple's LifeTimeInMinutes range (the same for IKE and CHILD SAs). */
const LIFETIME_MIN = 10;
const LIFETIME_MAX = 1440;

/**
 * Apple's DeadPeerDetectionRate is a keepalive interval class: None, Low (30 min), Medium (10 min), High (1 min).
 * The client checks at least as often as the gateway's dpd_delay, so neither side's view of the other goes stale
 * for longer than the gateway tolerates; no DPD on the gateway means no keepalive traffic from the device either.
 */
export function deadPeerDetectionRate(dpdDelayMs: number): 'None' | 'Low' | 'Medium' | 'High' {
  if (dpdDelayMs <= 0) return 'None';
  if (dpdDelayMs < 10 * 60_000) return 'High';
  if (dpdDelayMs < 30 * 60_000) return 'Medium';
  return 'Low';
}

function lifetimeMinutes(ms: number, what: string, notes: string[]): number | undefined {
  if (ms <= 0) return undefined;
  const min = Math.round(ms / 60_000);
  const clamped = Math.min(LIFETIME_MAX, Math.max(LIFETIME_MIN, min));
  if (clamped !== min) notes.push(`${what}: the gateway's ${min} minutes is outside Apple's ${LIFETIME_MIN}-${LIFETIME_MAX}; the profile says ${clamped}`);
  return clamped;
}

function skippedNotes(kind: string, skipped: readonly Skipped[]): string[] {
  return skipped.map((s) => `${kind} ${describeProposal(s.entry)} cannot be expressed in an Apple profile: ${s.why}`);
}

/** A reverse-DNS PayloadIdentifier prefix from the server's name (Apple uses it to replace older versions). */
export function payloadIdentifier(server: string, connection: string): string {
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
  const isName = /[a-z]/i.test(server) && !server.includes(':');
  const host = isName ? server.split('.').filter((l) => l !== '').reverse().map(clean).join('.') : clean(server);
  return `${host}.cygnet.${clean(connection)}`;
}

export function buildMobileconfig(input: ClientProfileInput, random: RandomBytes): ProfileOutput {
  const notes: string[] = [];
  const ike = pickProposal(input.ikeProposals, appleIke);
  if ('none' in ike) {
    throw new ProfileError('NO_PROPOSAL', `no IKE proposal of connection '${input.connection}' can be expressed in an Apple profile: ${ike.none.map((s) => `${describeProposal(s.entry)}: ${s.why}`).join('; ')}`);
  }
  const esp = pickProposal(input.espProposals, appleEsp);
  if ('none' in esp) {
    throw new ProfileError('NO_PROPOSAL', `no ESP proposal of connection '${input.connection}' can be expressed in an Apple profile: ${esp.none.map((s) => `${describeProposal(s.entry)}: ${s.why}`).join('; ')}`);
  }
  notes.push(...skippedNotes('IKE', ike.skipped), ...skippedNotes('ESP', esp.skipped));
  if (input.port !== 500) notes.push(`the gateway listens on port ${input.port}; Apple's IKEv2 client always uses 500/4500`);
  if (input.user === undefined) {
    throw new ProfileError('NO_USER', `an Apple profile names the client's identity (LocalIdentifier): pass --user NAME (the EAP user name)`);
  }

  const base = payloadIdentifier(input.server, input.connection);
  const rootUuid = uuidV4(random);
  const ikeLife = lifetimeMinutes(input.ikeRekeyMs, 'IKE SA lifetime', notes);
  const childLife = lifetimeMinutes(input.childRekeyMs, 'CHILD SA lifetime', notes);
  const ikeParams: PlistDict = { ...ike.value, ...(ikeLife !== undefined ? { LifeTimeInMinutes: ikeLife } : {}) };
  // Without PFS Apple ignores the child's group; naming the IKE SA's keeps a rekey with KE acceptable to the gateway.
  const childParams: PlistDict = {
    ...esp.value.params,
    DiffieHellmanGroup: esp.value.params.DiffieHellmanGroup ?? ike.value.DiffieHellmanGroup,
    ...(childLife !== undefined ? { LifeTimeInMinutes: childLife } : {}),
  };

  const content: PlistDict[] = [
    {
      PayloadType: 'com.apple.security.root',
      PayloadVersion: 1,
      PayloadIdentifier: `${base}.ca`,
      PayloadUUID: rootUuid,
      PayloadDisplayName: input.ca.commonName ?? input.ca.subject,
      PayloadCertificateFileName: 'ca.cer',
      PayloadContent: input.ca.der,
    },
  ];
  let p12Uuid: string | undefined;
  if (input.pkcs12 !== undefined && input.auth.kind !== 'eap') {
    p12Uuid = uuidV4(random);
    content.push({
      PayloadType: 'com.apple.security.pkcs12',
      PayloadVersion: 1,
      PayloadIdentifier: `${base}.identity`,
      PayloadUUID: p12Uuid,
      PayloadDisplayName: input.user,
      PayloadCertificateFileName: 'identity.p12',
      PayloadContent: input.pkcs12.der,
      ...(input.pkcs12.password !== undefined ? { Password: input.pkcs12.password } : {}),
    });
    if (input.pkcs12.password !== undefined) notes.push('the profile carries the PKCS#12 password: hand it to the user as privately as the PKCS#12 itself');
  }

  const ikev2: PlistDict = {
    RemoteAddress: input.server,
    RemoteIdentifier: input.serverId,
    LocalIdentifier: input.user,
    // EAP (RFC 7296 2.16): AuthenticationMethod None with ExtendedAuthEnabled is Apple's "EAP only"; the gateway
    // still proves itself with its certificate, checked against the root payload above.
    AuthenticationMethod: input.auth.kind === 'pubkey' ? 'Certificate' : 'None',
    ...(input.auth.kind !== 'pubkey' ? { ExtendedAuthEnabled: 1 } : {}),
    ...(input.auth.kind === 'eap' ? { AuthName: input.user } : {}),
    ...(p12Uuid !== undefined ? { PayloadCertificateUUID: p12Uuid } : {}),
    ...(input.auth.kind === 'pubkey' && input.pkcs12?.keyType !== undefined && input.pkcs12.keyType !== 'RSA'
      ? // CertificateType other than the default RSA needs ServerCertificateIssuerCommonName (Apple's schema).
        { CertificateType: input.pkcs12.keyType }
      : {}),
    ...(input.ca.commonName !== undefined ? { ServerCertificateIssuerCommonName: input.ca.commonName } : {}),
    DeadPeerDetectionRate: deadPeerDetectionRate(input.dpdDelayMs),
    ...(esp.value.pfs ? { EnablePFS: 1 } : {}),
    IKESecurityAssociationParameters: ikeParams,
    ChildSecurityAssociationParameters: childParams,
  };
  if (input.auth.kind === 'pubkey' && input.pkcs12?.keyType !== undefined && input.pkcs12.keyType !== 'RSA' && input.ca.commonName === undefined) {
    notes.push(`the CA has no commonName, so Apple's ServerCertificateIssuerCommonName (required with CertificateType ${input.pkcs12.keyType}) is missing`);
  }
  content.push({
    PayloadType: 'com.apple.vpn.managed',
    PayloadVersion: 1,
    PayloadIdentifier: `${base}.vpn`,
    PayloadUUID: uuidV4(random),
    PayloadDisplayName: `VPN ${input.displayName}`,
    UserDefinedName: input.displayName,
    VPNType: 'IKEv2',
    IKEv2: ikev2,
  });
  const root: PlistDict = {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: base,
    PayloadUUID: uuidV4(random),
    PayloadDisplayName: `VPN ${input.displayName}`,
    PayloadDescription: `IKEv2 VPN to ${input.server} (gateway connection '${input.connection}'), written by cygnet client-profile`,
    PayloadContent: content,
  };
  return { text: writePlist(root), notes };
}

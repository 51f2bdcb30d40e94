/**
 * A PowerShell script for the built-in IKEv2 client of Windows 10 and 11: installs the CA (and the user's
 * PKCS#12 for certificate users), creates the connection with Add-VpnConnection and pins its algorithms with
 * Set-VpnConnectionIPsecConfiguration to the gateway's first proposal Windows can do. Without that last step
 * Windows offers only MODP-1024 (3DES/AES with SHA1/SHA2 and modp1024, docs/ROAD-WARRIORS.md), which
 * strongSwan's and cygnet's default proposals refuse.
 *
 * Cmdlets and parameter values are those of the VpnClient and PKI modules (Add-VpnConnection,
 * New-EapConfiguration, Set-VpnConnectionIPsecConfiguration, Add-VpnConnectionRoute, Import-Certificate,
 * Import-PfxCertificate). Every value is a single-quoted PowerShell string (a ' inside is doubled), so nothing
 * in a name can expand or run.
 */
import { describeProposal, pickProposal, windowsEsp, windowsIke } from './algorithms.js';
import { ProfileError } from './errors.js';
import type { ClientProfileInput, ProfileOutput } from './input.js';

/** A PowerShell verbatim string: single quotes, a quote inside doubled (about_Quoting_Rules). */
export function psQuote(s: string): string {
  // PowerShell also treats the typographic single quotes U+2018/U+2019/U+201A/U+201B as quotes.
  if (/[\r\n\u0000]/.test(s)) throw new RangeError(`a PowerShell argument cannot hold a line break or NUL: '${s.slice(0, 40)}'`);
  return `'${s.replace(/['\u2018\u2019\u201a\u201b]/g, (q) => q + q)}'`;
}

function base64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

export function buildWindowsScript(input: ClientProfileInput): ProfileOutput {
  const ike = pickProposal(input.ikeProposals, windowsIke);
  if ('none' in ike) {
    throw new ProfileError(
      'NO_PROPOSAL',
      `no IKE proposal of connection '${input.connection}' is one Windows can do: ${ike.none.map((s) => `${describeProposal(s.entry)}: ${s.why}`).join('; ')}`,
    );
  }
  const esp = pickProposal(input.espProposals, windowsEsp);
  if ('none' in esp) {
    throw new ProfileError(
      'NO_PROPOSAL',
      `no ESP proposal of connection '${input.connection}' is one Windows can do: ${esp.none.map((s) => `${describeProposal(s.entry)}: ${s.why}`).join('; ')}`,
    );
  }
  const notes = [
    ...ike.skipped.map((s) => `IKE ${describeProposal(s.entry)} cannot be used by Windows: ${s.why}`),
    ...esp.skipped.map((s) => `ESP ${describeProposal(s.entry)} cannot be used by Windows: ${s.why}`),
  ];
  if (input.port !== 500) notes.push(`the gateway listens on port ${input.port}; the Windows client always uses 500/4500`);

  const L: string[] = [];
  L.push(
    `# IKEv2 VPN to ${input.server} (gateway connection '${input.connection}'), written by cygnet client-profile.`,
    '# Run it in an elevated PowerShell (it installs the CA into the computer store):',
    '#   powershell.exe -ExecutionPolicy Bypass -File .\\this-script.ps1',
    `# Algorithms: IKE ${describeProposal(ike.entry)}, ESP ${describeProposal(esp.entry)} of the gateway.`,
    "$ErrorActionPreference = 'Stop'",
    'if (-not ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {',
    "  throw 'Run this script in an elevated PowerShell (Run as administrator): it installs the CA into the computer store.'",
    '}',
    `$Name = ${psQuote(input.displayName)}`,
    `$Server = ${psQuote(input.server)}`,
    '',
    `# The CA that issued the gateway's certificate (${input.ca.subject}): Windows checks the gateway's`,
    '# certificate against it, and that the certificate names $Server.',
    "$CaFile = Join-Path $env:TEMP 'cygnet-vpn-ca.cer'",
    `[System.IO.File]::WriteAllBytes($CaFile, [System.Convert]::FromBase64String(${psQuote(base64(input.ca.der))}))`,
    "Import-Certificate -FilePath $CaFile -CertStoreLocation 'Cert:\\LocalMachine\\Root' | Out-Null",
    'Remove-Item -LiteralPath $CaFile',
  );
  if (input.pkcs12 !== undefined && input.auth.kind !== 'eap') {
    // IKE certificate authentication uses the computer's store (MachineCertificate); EAP-TLS the user's.
    const store = input.auth.kind === 'pubkey' ? 'Cert:\\LocalMachine\\My' : 'Cert:\\CurrentUser\\My';
    L.push(
      '',
      `# The user's certificate and key (${input.pkcs12.subject}); the password is asked for, never stored here.`,
      "$P12File = Join-Path $env:TEMP 'cygnet-vpn-identity.p12'",
      `[System.IO.File]::WriteAllBytes($P12File, [System.Convert]::FromBase64String(${psQuote(base64(input.pkcs12.der))}))`,
      "$P12Password = Read-Host -AsSecureString -Prompt 'Password of the VPN certificate (PKCS#12)'",
      `Import-PfxCertificate -FilePath $P12File -CertStoreLocation ${psQuote(store)} -Password $P12Password | Out-Null`,
      'Remove-Item -LiteralPath $P12File',
    );
  }
  L.push('');
  const split = !input.fullTunnel.v4;
  const common = `-Name $Name -ServerAddress $Server -TunnelType Ikev2 -EncryptionLevel Required${split ? ' -SplitTunneling' : ''} -Force`;
  if (input.auth.kind === 'pubkey') {
    L.push('# IKE authentication with the computer certificate (RFC 7296 2.15).', `Add-VpnConnection ${common} -AuthenticationMethod MachineCertificate`);
  } else {
    if (input.auth.kind === 'eap-tls') {
      L.push('# EAP-TLS (RFC 5216) with the user certificate.', '$Eap = New-EapConfiguration -Tls -UserCertificate');
    } else {
      // New-EapConfiguration without a method switch is EAP-MSCHAPv2, the only password method Windows' IKEv2 offers.
      L.push('# EAP-MSCHAPv2: Windows asks for the user name and password when connecting.', '$Eap = New-EapConfiguration');
    }
    L.push(`Add-VpnConnection ${common} -AuthenticationMethod Eap -EapConfigXmlStream $Eap.EapConfigXmlStream -RememberCredential`);
  }
  L.push(
    '',
    "# The gateway's algorithms; Windows' own defaults offer only MODP-1024 (docs/ROAD-WARRIORS.md in cygnet).",
    'Set-VpnConnectionIPsecConfiguration -ConnectionName $Name' +
      ` -AuthenticationTransformConstants ${esp.value.AuthenticationTransformConstants}` +
      ` -CipherTransformConstants ${esp.value.CipherTransformConstants}` +
      ` -EncryptionMethod ${ike.value.EncryptionMethod}` +
      ` -IntegrityCheckMethod ${ike.value.IntegrityCheckMethod}` +
      ` -DHGroup ${ike.value.DHGroup}` +
      ` -PfsGroup ${esp.value.PfsGroup}` +
      ' -Force',
  );
  if (split) {
    const routes = input.subnets.filter((s) => s.includes('/'));
    for (const r of input.subnets.filter((s) => !s.includes('/'))) notes.push(`local_ts range ${r} has no route prefix form for Add-VpnConnectionRoute; add its subnets by hand`);
    if (routes.length > 0) L.push('', "# Split tunnel: only the gateway's local_ts go through the VPN.");
    for (const r of routes) L.push(`Add-VpnConnectionRoute -ConnectionName $Name -DestinationPrefix ${psQuote(r)}`);
  }
  L.push('', "Write-Host \"VPN connection '$Name' created; connect from the network menu.\"", '');
  return { text: L.join('\r\n'), notes };
}

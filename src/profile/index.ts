/**
 * `cygnet client-profile`: what a user imports on a device to reach a road-warrior connection of the gateway
 * (issue 14): an Apple .mobileconfig, a Windows PowerShell script, a strongSwan Android .sswan. Pure functions
 * from the configuration and credential bytes to text; src/cli/client-profile.ts reads and writes the files.
 */
export { ProfileError, type ProfileErrorCode } from './errors.js';
export type { ClientAuth, ClientCa, ClientPkcs12, ClientProfileInput, ProfileOutput } from './input.js';
export { buildForProfile, profileInput, type CredentialBytes, type ProfileOptions, type ProfileSourceConfig } from './from-config.js';
export { buildMobileconfig, deadPeerDetectionRate } from './mobileconfig.js';
export { buildWindowsScript, psQuote } from './windows.js';
export { buildSswan, sswanType } from './sswan.js';
export { uuidV4, type RandomBytes } from './uuid.js';

export const PROFILE_FORMATS = ['mobileconfig', 'windows', 'sswan'] as const;
export type ProfileFormat = (typeof PROFILE_FORMATS)[number];

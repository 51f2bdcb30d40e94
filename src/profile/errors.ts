/**
 * Why a client profile cannot be written: each code names one thing the administrator must fix (pass --server,
 * --ca, the PKCS#12's password...), and the message says which connection, file or proposal it is about.
 */
import { CodedError } from '../util/coded-error.js';

export type ProfileErrorCode =
  /** the connection named is not in the configuration */
  | 'NO_CONNECTION'
  /** the connection is not one a road-warrior client can use (no children, several auth rounds, psk...) */
  | 'UNSUITABLE'
  /** no address or name for the client to connect to */
  | 'NO_SERVER'
  /** no CA certificate to trust the gateway with */
  | 'NO_CA'
  /** a certificate or PKCS#12 that cannot be read (malformed, wrong password) */
  | 'BAD_CREDENTIAL'
  /** certificate authentication without the user's PKCS#12 */
  | 'NO_PKCS12'
  /** the format names the client's identity and none was given or found */
  | 'NO_USER'
  /** none of the gateway's proposals can be expressed in the client's format */
  | 'NO_PROPOSAL';

export class ProfileError extends CodedError<ProfileErrorCode> {}

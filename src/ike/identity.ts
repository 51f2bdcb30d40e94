/**
 * IKEv2 identities (RFC 7296 3.5) for the IKE code: parsing, printing and matching live in src/identity (one
 * module for IKE IDs, certificate subjects and subjectAltNames); this file keeps the names src/ike imports.
 */
export {
  ANY_IDENTITY,
  formatIdentity,
  identitiesEqual,
  IdentityError,
  identityMatch,
  identityMatches,
  IdMatch,
  IdType,
  parseIdentity,
  type Identity,
  type IdTypeNumber,
} from '../identity/index.js';
import { identitiesEqual, type Identity } from '../identity/index.js';

/** Same peer (unique ids, duplicate detection): structural equality, e.g. one DN in two string encodings. */
export function identityEquals(a: Identity, b: Identity): boolean {
  return identitiesEqual(a, b);
}

/**
 * src/identity: the one place identities are parsed, printed and compared, for IKE IDs (src/ike), certificate
 * subjects and subjectAltNames (src/pki) and the pki tool. Depends on nothing above it (src/net for addresses).
 */
export { IdType, type IdTypeNumber } from './id-type.js';
export { IdentityError, type IdentityErrorCode } from './errors.js';
export { attributeName, attributeOid, ignoresCase, OID, Tag } from './attributes.js';
export {
  avaFromValueDer,
  decodeDn,
  dnDerToText,
  dnTextToDer,
  encodeDn,
  escapeValue,
  formatDn,
  parseDn,
  stringAva,
  type Ava,
  type Dn,
  type Rdn,
} from './dn.js';
export { avaEquals, dnEquals, dnMatch, prepareValue } from './dn-match.js';
export {
  ANY_IDENTITY,
  formatIdentity,
  identitiesEqual,
  identityMatch,
  identityMatches,
  IdMatch,
  parseIdentity,
  type Identity,
} from './identity.js';

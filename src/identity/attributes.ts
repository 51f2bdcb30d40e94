/**
 * Directory attribute types used in distinguished names: the keywords strongSwan's identification.c accepts
 * (its x501rdns table, plus a few long forms and the aliases cygnet accepted before), the name each prints as
 * (strongSwan's oid.txt), the string type a text value is encoded as, and whether the attribute's equality rule
 * ignores case (RFC 4519 2.x, RFC 4524, PKCS#9 / RFC 2985: caseIgnoreMatch, caseIgnoreIA5Match).
 */

/** ASN.1 universal tags of the directory string types (X.680; RFC 5280 4.1.2.4 DirectoryString and friends). */
export const Tag = {
  UTF8String: 0x0c,
  NumericString: 0x12,
  PrintableString: 0x13,
  T61String: 0x14,
  IA5String: 0x16,
  VisibleString: 0x1a,
  UniversalString: 0x1c,
  BMPString: 0x1e,
} as const;

interface AttributeInfo {
  /** How the attribute prints (strongSwan's name). */
  readonly name: string;
  /** Encoding for values parsed from text: PrintableString when the value allows it, else UTF8String. */
  readonly ia5?: boolean;
  /** Equality ignores case (caseIgnoreMatch / caseIgnoreIA5Match); otherwise caseExactMatch. */
  readonly caseIgnore: boolean;
}

export const OID = {
  CN: '2.5.4.3',
  SN: '2.5.4.4',
  SERIAL_NUMBER: '2.5.4.5',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  STREET: '2.5.4.9',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  T: '2.5.4.12',
  D: '2.5.4.13',
  POSTAL_ADDRESS: '2.5.4.16',
  POSTAL_CODE: '2.5.4.17',
  N: '2.5.4.41',
  G: '2.5.4.42',
  I: '2.5.4.43',
  GENERATION_QUALIFIER: '2.5.4.44',
  ID: '2.5.4.45',
  DN_QUALIFIER: '2.5.4.46',
  DMD_NAME: '2.5.4.54',
  PSEUDONYM: '2.5.4.65',
  ROLE: '2.5.4.72',
  ORGANIZATION_ID: '2.5.4.97',
  UID: '0.9.2342.19200300.100.1.1',
  DC: '0.9.2342.19200300.100.1.25',
  E: '1.2.840.113549.1.9.1',
  UNSTRUCTURED_NAME: '1.2.840.113549.1.9.2',
  UNSTRUCTURED_ADDRESS: '1.2.840.113549.1.9.8',
  ND: '0.2.262.1.10.7.20',
  EMPLOYEE_NUMBER: '2.16.840.1.113730.3.1.3',
} as const;

const INFO: Record<string, AttributeInfo> = {
  [OID.CN]: { name: 'CN', caseIgnore: true },
  [OID.SN]: { name: 'SN', caseIgnore: true },
  [OID.SERIAL_NUMBER]: { name: 'serialNumber', caseIgnore: true },
  [OID.C]: { name: 'C', caseIgnore: true },
  [OID.L]: { name: 'L', caseIgnore: true },
  [OID.ST]: { name: 'ST', caseIgnore: true },
  [OID.STREET]: { name: 'STREET', caseIgnore: true },
  [OID.O]: { name: 'O', caseIgnore: true },
  [OID.OU]: { name: 'OU', caseIgnore: true },
  [OID.T]: { name: 'T', caseIgnore: true },
  [OID.D]: { name: 'D', caseIgnore: true },
  [OID.POSTAL_ADDRESS]: { name: 'postalAddress', caseIgnore: true },
  [OID.POSTAL_CODE]: { name: 'postalCode', caseIgnore: true },
  [OID.N]: { name: 'N', caseIgnore: true },
  [OID.G]: { name: 'G', caseIgnore: true },
  [OID.I]: { name: 'I', caseIgnore: true },
  [OID.GENERATION_QUALIFIER]: { name: 'generationQualifier', caseIgnore: true },
  // uniqueIdentifier is a BIT STRING (bitStringMatch): compared as bytes whatever this says.
  [OID.ID]: { name: 'ID', caseIgnore: false },
  [OID.DN_QUALIFIER]: { name: 'dnQualifier', caseIgnore: true },
  [OID.DMD_NAME]: { name: 'dmdName', caseIgnore: true },
  [OID.PSEUDONYM]: { name: 'pseudonym', caseIgnore: true },
  [OID.ROLE]: { name: 'role', caseIgnore: true },
  [OID.ORGANIZATION_ID]: { name: 'organizationIdentifier', caseIgnore: true },
  [OID.UID]: { name: 'UID', caseIgnore: true },
  [OID.DC]: { name: 'DC', caseIgnore: true },
  [OID.E]: { name: 'E', ia5: true, caseIgnore: true },
  [OID.UNSTRUCTURED_NAME]: { name: 'unstructuredName', ia5: true, caseIgnore: true },
  [OID.UNSTRUCTURED_ADDRESS]: { name: 'unstructuredAddress', caseIgnore: true },
  [OID.ND]: { name: 'ND', caseIgnore: false },
  [OID.EMPLOYEE_NUMBER]: { name: 'employeeNumber', caseIgnore: true },
};

/**
 * Keywords accepted in text, upper-cased. strongSwan's table (identification.c x501rdns; note SN is surname
 * there, serialNumber is spelled out), RFC 4514 3 long forms, and cygnet's earlier aliases S, TITLE, GN, DNQ.
 */
const KEYWORDS: Record<string, string> = {
  ND: OID.ND,
  UID: OID.UID,
  DC: OID.DC,
  CN: OID.CN,
  SN: OID.SN,
  SURNAME: OID.SN,
  SERIALNUMBER: OID.SERIAL_NUMBER,
  C: OID.C,
  L: OID.L,
  ST: OID.ST,
  S: OID.ST,
  STREET: OID.STREET,
  O: OID.O,
  OU: OID.OU,
  ORGANIZATIONIDENTIFIER: OID.ORGANIZATION_ID,
  T: OID.T,
  TITLE: OID.T,
  D: OID.D,
  DESCRIPTION: OID.D,
  POSTALADDRESS: OID.POSTAL_ADDRESS,
  POSTALCODE: OID.POSTAL_CODE,
  N: OID.N,
  G: OID.G,
  GN: OID.G,
  GIVENNAME: OID.G,
  I: OID.I,
  INITIALS: OID.I,
  GENERATIONQUALIFIER: OID.GENERATION_QUALIFIER,
  DNQUALIFIER: OID.DN_QUALIFIER,
  DNQ: OID.DN_QUALIFIER,
  DMDNAME: OID.DMD_NAME,
  PSEUDONYM: OID.PSEUDONYM,
  ROLE: OID.ROLE,
  ID: OID.ID,
  EN: OID.EMPLOYEE_NUMBER,
  EMPLOYEENUMBER: OID.EMPLOYEE_NUMBER,
  E: OID.E,
  EMAIL: OID.E,
  EMAILADDRESS: OID.E,
  UN: OID.UNSTRUCTURED_NAME,
  UNSTRUCTUREDNAME: OID.UNSTRUCTURED_NAME,
  UA: OID.UNSTRUCTURED_ADDRESS,
  UNSTRUCTUREDADDRESS: OID.UNSTRUCTURED_ADDRESS,
};

/** The OID for a keyword (case-insensitive) or undefined. */
export function attributeOid(keyword: string): string | undefined {
  return KEYWORDS[keyword.toUpperCase()];
}

/** The name an OID prints as: strongSwan's, else the dotted OID (RFC 4514 2.3). */
export function attributeName(oid: string): string {
  return INFO[oid]?.name ?? oid;
}

/** Whether values of this attribute compare ignoring case. Unknown attributes: exact case (strict). */
export function ignoresCase(oid: string): boolean {
  return INFO[oid]?.caseIgnore ?? false;
}

/** Whether values parsed from text are IA5String for this attribute (e-mail, unstructuredName), as strongSwan. */
export function prefersIa5(oid: string): boolean {
  return INFO[oid]?.ia5 ?? false;
}

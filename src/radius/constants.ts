/**
 * RADIUS numbers: packet codes (RFC 2865 3, RFC 2866 3), attribute types (RFC 2865 5, RFC 2866 5, RFC 2869 5,
 * RFC 3162, RFC 3579 3) and the Microsoft vendor attributes (RFC 2548 2.4) cygnet uses. Names as FreeRADIUS'
 * dictionaries and strongSwan's radius_message.c print them.
 */

export const RadiusCode = {
  ACCESS_REQUEST: 1,
  ACCESS_ACCEPT: 2,
  ACCESS_REJECT: 3,
  ACCOUNTING_REQUEST: 4,
  ACCOUNTING_RESPONSE: 5,
  ACCESS_CHALLENGE: 11,
  DISCONNECT_REQUEST: 40,
  COA_REQUEST: 43,
} as const;

const CODE_NAMES: Record<number, string> = {
  1: 'Access-Request',
  2: 'Access-Accept',
  3: 'Access-Reject',
  4: 'Accounting-Request',
  5: 'Accounting-Response',
  11: 'Access-Challenge',
  40: 'Disconnect-Request',
  41: 'Disconnect-ACK',
  42: 'Disconnect-NAK',
  43: 'CoA-Request',
  44: 'CoA-ACK',
  45: 'CoA-NAK',
};

export function codeName(code: number): string {
  return CODE_NAMES[code] ?? `code ${code}`;
}

export const Attr = {
  USER_NAME: 1,
  USER_PASSWORD: 2,
  NAS_IP_ADDRESS: 4,
  NAS_PORT: 5,
  SERVICE_TYPE: 6,
  FRAMED_PROTOCOL: 7,
  FRAMED_IP_ADDRESS: 8,
  FRAMED_IP_NETMASK: 9,
  FILTER_ID: 11,
  FRAMED_MTU: 12,
  LOGIN_IP_HOST: 14,
  LOGIN_SERVICE: 15,
  REPLY_MESSAGE: 18,
  STATE: 24,
  CLASS: 25,
  VENDOR_SPECIFIC: 26,
  SESSION_TIMEOUT: 27,
  IDLE_TIMEOUT: 28,
  CALLED_STATION_ID: 30,
  CALLING_STATION_ID: 31,
  NAS_IDENTIFIER: 32,
  PROXY_STATE: 33,
  ACCT_STATUS_TYPE: 40,
  ACCT_DELAY_TIME: 41,
  ACCT_INPUT_OCTETS: 42,
  ACCT_OUTPUT_OCTETS: 43,
  ACCT_SESSION_ID: 44,
  ACCT_SESSION_TIME: 46,
  ACCT_INPUT_PACKETS: 47,
  ACCT_OUTPUT_PACKETS: 48,
  ACCT_TERMINATE_CAUSE: 49,
  ACCT_INPUT_GIGAWORDS: 52,
  ACCT_OUTPUT_GIGAWORDS: 53,
  EVENT_TIMESTAMP: 55,
  NAS_PORT_TYPE: 61,
  TUNNEL_TYPE: 64,
  EAP_MESSAGE: 79,
  MESSAGE_AUTHENTICATOR: 80,
  ACCT_INTERIM_INTERVAL: 85,
  NAS_PORT_ID: 87,
  NAS_IPV6_ADDRESS: 95,
  FRAMED_IPV6_ADDRESS: 168,
} as const;

const ATTR_NAMES: Record<number, string> = {
  [Attr.USER_NAME]: 'User-Name',
  [Attr.USER_PASSWORD]: 'User-Password',
  [Attr.NAS_IP_ADDRESS]: 'NAS-IP-Address',
  [Attr.NAS_PORT]: 'NAS-Port',
  [Attr.SERVICE_TYPE]: 'Service-Type',
  [Attr.FRAMED_PROTOCOL]: 'Framed-Protocol',
  [Attr.FRAMED_IP_ADDRESS]: 'Framed-IP-Address',
  [Attr.FRAMED_IP_NETMASK]: 'Framed-IP-Netmask',
  [Attr.FILTER_ID]: 'Filter-Id',
  [Attr.FRAMED_MTU]: 'Framed-MTU',
  [Attr.LOGIN_IP_HOST]: 'Login-IP-Host',
  [Attr.LOGIN_SERVICE]: 'Login-Service',
  [Attr.REPLY_MESSAGE]: 'Reply-Message',
  [Attr.STATE]: 'State',
  [Attr.CLASS]: 'Class',
  [Attr.VENDOR_SPECIFIC]: 'Vendor-Specific',
  [Attr.SESSION_TIMEOUT]: 'Session-Timeout',
  [Attr.IDLE_TIMEOUT]: 'Idle-Timeout',
  [Attr.CALLED_STATION_ID]: 'Called-Station-Id',
  [Attr.CALLING_STATION_ID]: 'Calling-Station-Id',
  [Attr.NAS_IDENTIFIER]: 'NAS-Identifier',
  [Attr.PROXY_STATE]: 'Proxy-State',
  [Attr.ACCT_STATUS_TYPE]: 'Acct-Status-Type',
  [Attr.ACCT_DELAY_TIME]: 'Acct-Delay-Time',
  [Attr.ACCT_INPUT_OCTETS]: 'Acct-Input-Octets',
  [Attr.ACCT_OUTPUT_OCTETS]: 'Acct-Output-Octets',
  [Attr.ACCT_SESSION_ID]: 'Acct-Session-Id',
  [Attr.ACCT_SESSION_TIME]: 'Acct-Session-Time',
  [Attr.ACCT_INPUT_PACKETS]: 'Acct-Input-Packets',
  [Attr.ACCT_OUTPUT_PACKETS]: 'Acct-Output-Packets',
  [Attr.ACCT_TERMINATE_CAUSE]: 'Acct-Terminate-Cause',
  [Attr.ACCT_INPUT_GIGAWORDS]: 'Acct-Input-Gigawords',
  [Attr.ACCT_OUTPUT_GIGAWORDS]: 'Acct-Output-Gigawords',
  [Attr.EVENT_TIMESTAMP]: 'Event-Timestamp',
  [Attr.NAS_PORT_TYPE]: 'NAS-Port-Type',
  [Attr.TUNNEL_TYPE]: 'Tunnel-Type',
  [Attr.EAP_MESSAGE]: 'EAP-Message',
  [Attr.MESSAGE_AUTHENTICATOR]: 'Message-Authenticator',
  [Attr.ACCT_INTERIM_INTERVAL]: 'Acct-Interim-Interval',
  [Attr.NAS_PORT_ID]: 'NAS-Port-Id',
  [Attr.NAS_IPV6_ADDRESS]: 'NAS-IPv6-Address',
  [Attr.FRAMED_IPV6_ADDRESS]: 'Framed-IPv6-Address',
};

export function attrName(type: number): string {
  return ATTR_NAMES[type] ?? `attribute ${type}`;
}

/** RFC 2865 5.41: NAS-Port-Type Virtual, what strongSwan sends for an IKE SA. */
export const NAS_PORT_TYPE_VIRTUAL = 5;
/** RFC 2865 5.6: Service-Type Framed. */
export const SERVICE_TYPE_FRAMED = 2;

/** RFC 2866 5.1 Acct-Status-Type values. */
export const AcctStatus = { START: 1, STOP: 2, INTERIM_UPDATE: 3, ACCOUNTING_ON: 7, ACCOUNTING_OFF: 8 } as const;

/** RFC 2866 5.10 Acct-Terminate-Cause values (strongSwan's eap_radius_accounting.c uses these). */
export const TerminateCause = {
  USER_REQUEST: 1,
  LOST_CARRIER: 2,
  LOST_SERVICE: 3,
  IDLE_TIMEOUT: 4,
  SESSION_TIMEOUT: 5,
  ADMIN_RESET: 6,
  ADMIN_REBOOT: 7,
  PORT_ERROR: 8,
  NAS_ERROR: 9,
  NAS_REQUEST: 10,
  NAS_REBOOT: 11,
  PORT_UNNEEDED: 12,
  PORT_PREEMPTED: 13,
  PORT_SUSPENDED: 14,
  SERVICE_UNAVAILABLE: 15,
  CALLBACK: 16,
  USER_ERROR: 17,
  HOST_REQUEST: 18,
} as const;

/** IANA private enterprise number of Microsoft (RFC 2548 2). */
export const VENDOR_MICROSOFT = 311;
/** RFC 2548 2.4.2 / 2.4.3. */
export const MS_MPPE_SEND_KEY = 16;
export const MS_MPPE_RECV_KEY = 17;

/** RFC 2865 3: the largest RADIUS packet. */
export const MAX_PACKET = 4096;
/** RFC 2865 5: an attribute's value holds at most 253 octets (Length is one octet and counts Type and itself). */
export const MAX_ATTRIBUTE_VALUE = 253;
/** Default ports (RFC 2865 3, RFC 2866 3). */
export const AUTH_PORT = 1812;
export const ACCT_PORT = 1813;

/** EAP-TLS (RFC 5216, RFC 9190) over node:tls, plugged into src/eap's sessions with eapTlsPlugin(). */
export { eapTlsPlugin, eapTlsMsk, EapTlsPeer, EapTlsServer, type EapTlsOptions, type TlsVersion } from './method.js';
export { buildTlsFrame, DEFAULT_FRAGMENT_SIZE, DEFAULT_MAX_MESSAGE_COUNT, Fragmenter, MAX_TLS_MESSAGE, parseTlsFrame, Reassembler, TlsFlag, type TlsFrame } from './framing.js';

/**
 * The EAP-TLS peer's check of the server's certificate while the handshake is still open (RFC 5216 2.1.3: "If the
 * EAP peer fails to authenticate the EAP server, it SHOULD send an EAP-Response/EAP-TLS containing a TLS Alert").
 *
 * node:tls verifies a server certificate only after the handshake completed (its client runs OpenSSL with
 * SSL_VERIFY_NONE and reads the verdict afterwards), and then has no way to send an alert: the EAP server would
 * be left waiting for an answer that never comes. In TLS 1.2 the server's Certificate message travels in clear
 * in its first flight (RFC 5246 7.4.2), so the peer reads it from that flight before handing it to OpenSSL and,
 * if the certificate is not acceptable, answers with a plaintext fatal alert instead of its own flight. In TLS
 * 1.3 the certificate is encrypted (RFC 8446 4.4.2) and the check after the handshake remains the only one.
 */

/** TLS record content types and handshake types used here (RFC 5246 6.2.1, 7.4). */
const CONTENT_HANDSHAKE = 22;
const HANDSHAKE_CERTIFICATE = 11;

/** AlertDescription values (RFC 5246 7.2) the peer sends for a refused server certificate. */
export const TlsAlert = {
  BadCertificate: 42,
  CertificateRevoked: 44,
  CertificateExpired: 45,
  CertificateUnknown: 46,
  UnknownCa: 48,
} as const;

/**
 * The DER certificates of the server's Certificate message (leaf first) found in clear handshake records of
 * `flight` (one reassembled EAP-TLS message); undefined if the flight holds none (TLS 1.3, a resumed session, or
 * records after ChangeCipherSpec). Records and handshake messages may each span the other's boundaries.
 */
export function serverCertificates(flight: Uint8Array): Uint8Array[] | undefined {
  // the handshake layer's bytes: the fragments of the leading run of handshake records
  const parts: Uint8Array[] = [];
  for (let off = 0; off + 5 <= flight.length; ) {
    const type = flight[off] ?? 0;
    const len = ((flight[off + 3] ?? 0) << 8) | (flight[off + 4] ?? 0);
    if (type !== CONTENT_HANDSHAKE || off + 5 + len > flight.length) break;
    parts.push(flight.subarray(off + 5, off + 5 + len));
    off += 5 + len;
  }
  const hs = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    hs.set(p, at);
    at += p.length;
  }
  const u24 = (i: number): number => ((hs[i] ?? 0) << 16) | ((hs[i + 1] ?? 0) << 8) | (hs[i + 2] ?? 0);
  for (let off = 0; off + 4 <= hs.length; ) {
    const type = hs[off] ?? 0;
    const len = u24(off + 1);
    const end = off + 4 + len;
    if (end > hs.length) return undefined;
    if (type === HANDSHAKE_CERTIFICATE) {
      // opaque ASN.1Cert<1..2^24-1>; ASN.1Cert certificate_list<0..2^24-1> (RFC 5246 7.4.2)
      const certs: Uint8Array[] = [];
      const listEnd = off + 7 + u24(off + 4);
      if (listEnd > end) return undefined;
      for (let c = off + 7; c + 3 <= listEnd; ) {
        const n = u24(c);
        if (c + 3 + n > listEnd) return undefined;
        certs.push(hs.slice(c + 3, c + 3 + n));
        c += 3 + n;
      }
      return certs;
    }
    off = end;
  }
  return undefined;
}

/** A plaintext fatal alert record (RFC 5246 7.2), as sent before ChangeCipherSpec. */
export function fatalAlertRecord(description: number): Uint8Array {
  return Uint8Array.of(21, 3, 3, 0, 2, 2, description);
}

/**
 * Response headers every console answer carries. The CSP allows only the console's own script and stylesheet
 * (no inline script or style, no eval, nothing from another origin: the page works offline and an injected
 * string can never run), images from itself or data: URLs (QR codes), and requests back to itself.
 */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function securityHeaders(tls: boolean): Record<string, string> {
  const h: Record<string, string> = {
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
  };
  if (tls) h['Strict-Transport-Security'] = 'max-age=31536000';
  return h;
}

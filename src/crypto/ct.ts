/**
 * Constant-time comparison for ICV and AUTH checks: the time taken depends only on the lengths, never on where
 * the first differing byte is (RFC 4303 section 3.4.4.1 asks the ICV check to resist timing attacks).
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * Simulation kit: virtual clock, in-memory datagram network with impairments and NAT, and the loop that pumps
 * sans-IO endpoints in virtual time. Part of the library (not only of cygnet's tests) so that users can script
 * their own IKE/ESP scenarios; it does no I/O and reads no clock.
 */
export * from './errors.js';
export * from './clock.js';
export * from './address.js';
export * from './nat.js';
export * from './network.js';
export * from './runner.js';
export * from './ike-host.js';

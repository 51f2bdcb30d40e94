/** The ESP data plane (RFC 4303 tunnel mode, RFC 3948 UDP encapsulation), sans-IO. */
export * from './constants.js';
export * from './errors.js';
export * from './replay.js';
export * from './selector.js';
export * from './transform.js';
export * from './packet.js';
export * from './sa.js';
export * from './engine.js';
export * from './open-one.js';

/** Public library surface of cygnet: the sans-IO cores and their building blocks. */
export * from './crypto/errors.js';
export * from './crypto/types.js';
export * from './crypto/random.js';
export * from './crypto/ct.js';

/** The crypto layer: contract, backends, provider, IANA transforms, proposals, PRFs, key derivation, suites. */
export * from './errors.js';
export * from './types.js';
export * from './random.js';
export * from './ct.js';
export * from './provider.js';
export * from './backends/index.js';
export * from './transforms.js';
export * from './mlkem.js';
export * from './kem.js';
export * from './proposals.js';
export * from './prf.js';
export * from './kdf.js';
export * as suite from './suite.js';

/** The sans-IO gateway core (issue 12): see gateway.ts. */
export * from './gateway.js';
export * from './reqids.js';
export * from './child-installer.js';

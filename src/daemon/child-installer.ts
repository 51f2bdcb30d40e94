/** Moved to src/gateway/child-installer.ts (the gateway core owns SA installation); kept for existing importers. */
export * from '../gateway/child-installer.js';

/** TUN devices: the interface, the Linux device (koffi), the in-memory device, and interface configuration. */
export * from './types.js';
export * from './memory.js';
export * from './linux.js';
export * from './linux-net.js';
export * from '../net/esp-mtu.js';

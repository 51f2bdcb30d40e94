/**
 * Test helpers (DESIGN.md section 5): one import for a simulation test.
 *   import { VirtualClock, SimNetwork, Simulation, seededRandom, createMemoryTun, buildIpv4 } from '../helpers/index.js';
 * The clock, network and loop live in src/sim (library code users may script with); the in-memory TUN lives in
 * src/tun; this module re-exports them with the seeded random source and the packet builders.
 */
export * from '../../src/sim/index.js';
export { seededRandom, systemRandom, randomBytes, type RandomSource } from '../../src/crypto/random.js';
export { createMemoryTun, createMemoryTunPair, MemoryTun, type TunHost } from '../../src/tun/memory.js';
export * from './packets.js';

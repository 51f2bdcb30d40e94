/** The ESP engine's (engine.ts) public types: packet references, buffer room, policies, events and options. */
import type { RandomSource } from '../crypto/random.js';
import type { CryptoBackend } from '../crypto/types.js';
import { ESP_HEADER_BYTES, UDP_HEADER_BYTES } from './constants.js';
import type { SaDirection } from './sa.js';
import type { EspSelector, PacketSelector } from './selector.js';

/** A packet or datagram in a caller's buffer: bytes [offset, offset + length). */
export interface PacketRef {
  buffer: Uint8Array;
  offset: number;
  length: number;
}

/**
 * Headroom that lets every suite seal in place: UDP header (8) + ESP header (8) + the largest IV (16, CBC).
 * A driver reading the TUN device at this offset never has its packets copied.
 */
export const ESP_HEADROOM = UDP_HEADER_BYTES + ESP_HEADER_BYTES + 16;
/** Tailroom that lets every suite seal in place without TFC padding: padding (<= 15) + trailer (2) + ICV (<= 32). */
export const ESP_TAILROOM = 15 + 2 + 32;

export type PolicyAction = 'protect' | 'bypass' | 'discard';

export interface PolicyParams {
  /** Source side of outbound packets (our subnets). */
  readonly local: readonly EspSelector[];
  /** Destination side of outbound packets (the peer's subnets). */
  readonly remote: readonly EspSelector[];
  /** Default 'protect'. */
  readonly action?: PolicyAction;
  /** `protect`: the outbound SA with this reqid carries the traffic. Default 0. */
  readonly reqid?: number;
  /** Lower runs first; equal priorities keep install order. Default 0. */
  readonly priority?: number;
}

export type ExpireCause = 'bytes' | 'packets' | 'sequence';

/** What `Acquire` asks IKE for: an SA for the policy `policyId` (reqid `reqid`), triggered by `packet`. */
export interface AcquireRequest {
  readonly policyId: number;
  readonly reqid: number;
  /** The triggering packet's selector (RFC 7296 section 2.9: sent as the first TSi/TSr). */
  readonly packet: PacketSelector;
}

export type EspEvent =
  /** Soft lifetime reached: IKE should rekey (RFC 7296 section 2.8). */
  | { readonly type: 'soft-expire'; readonly spi: number; readonly direction: SaDirection; readonly cause: ExpireCause }
  /** Hard lifetime reached: the SA drops everything from now on; IKE should delete it. */
  | { readonly type: 'hard-expire'; readonly spi: number; readonly direction: SaDirection; readonly cause: ExpireCause }
  /** An inbound SA retired by `retireInbound` reached the end of its grace period and was removed. */
  | { readonly type: 'removed'; readonly spi: number; readonly direction: SaDirection };

export interface EspEngineOptions {
  /** Crypto backend; default createProvider(): the fastest available backend per algorithm. */
  readonly backend?: CryptoBackend;
  /** Randomness for CBC IVs. */
  readonly random: RandomSource;
  /** Output buffers in the pool (used when a packet lacks headroom/tailroom). Default 1024. */
  readonly poolBuffers?: number;
  /** Size of each pool buffer. Default 2048 (an MTU-sized packet plus every overhead). */
  readonly poolBufferBytes?: number;
  /** Least time between two ACQUIREs for one policy, ms. Default 1000. */
  readonly acquireIntervalMs?: number;
  /**
   * Where drop reports go ('esp' log group, level and message): the first drop of each reason on an SA (or, for
   * packets without one, in the engine) is logged at level 1 with the reason and the fix, then at most one summary
   * per `dropLogIntervalMs` while drops continue. Without it drops are only counted.
   */
  readonly log?: (level: number, message: string) => void;
  /** Least time between two drop reports of one reason on one SA, ms. Default 60000. */
  readonly dropLogIntervalMs?: number;
  /**
   * This engine's non-zero mark in the per-SA seal locks of shared outbound SAs (EspSa.seqLock): a thread number,
   * unique among the engines sharing SAs. Default 1.
   */
  readonly sealLockOwner?: number;
}

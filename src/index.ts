/**
 * Public library surface of cygnet. The entry points most programs need are exported directly; every module is
 * also available as a namespace (`import { esp, ike, pki } from 'cygnet'`), which keeps names from colliding.
 */
// The base of every typed error: a stable `code` beside the message; `instanceof CodedError` catches any of them.
export { CodedError } from './util/coded-error.js';

// Crypto: the backend contract, the provider that picks the fastest backend per algorithm, randomness.
export * from './crypto/errors.js';
export * from './crypto/types.js';
export * from './crypto/random.js';
export * from './crypto/ct.js';
export { createProvider, defaultProvider } from './crypto/provider.js';
export { availableBackends, backendUnavailableReasons } from './crypto/backends/index.js';
export { parseProposals, formatProposalsString, type Proposal } from './crypto/proposals.js';
export { additionalKeName, isAdditionalKeType } from './crypto/addke.js';

// IKE: the sans-IO endpoint, its configuration and events.
export { IkeEndpoint, type IkeEndpointOptions } from './ike/endpoint.js';
export * from './ike/config.js';
export { connection, child, pskCredentials, type ConnectionOptions, type ChildOptions } from './ike/config-builder.js';
export * from './ike/events.js';
export { parseIdentity, formatIdentity, type Identity } from './ike/identity.js';
export { parseTrafficSelector, formatTrafficSelector, type TrafficSelector } from './ike/traffic-selector.js';
export { parsePool, AddressPool, type AddressPoolConfig } from './ike/pool.js';

// ESP: the sans-IO data plane, and the glue from IKE events to it.
export { EspEngine, EncapStatus, DecapStatus, type EspEngineOptions, type PacketRef } from './esp/index.js';
export { ChildSaInstaller } from './gateway/child-installer.js';
/**
 * The gateway core: IKE + ESP + SA installation + traps, sans-IO. Drive it with datagrams, TUN batches and time:
 * `const gw = new Gateway({ config, crypto: createProvider(), random: systemRandom, net, log, tun });`
 * `gw.start(now); gw.receiveDatagram(data, local, remote, now); gw.processEsp(now); gw.tunPackets(batch, now);`
 * then `gw.pollEvent()` until undefined and call `gw.handleTimeout(t)` at `gw.nextTimeout()`.
 */
export { Gateway, ReqidAllocator, type GatewayOptions, type GatewayConfig, type GatewayNet, type GatewayTun, type GatewayRoutes, type GatewayEvent } from './gateway/index.js';

// Reading captures: open one ESP packet or decrypt one IKE message with given keys (no SA state), IP headers.
export { openEspPacket, createEspOpener, espTransformName, type EspPacketKeys, type EspPacketOpener, type OpenedEspPacket, type EspOpenError } from './esp/open-one.js';
export { decryptIkeMessage, joinFragments, type IkeMessageKeys, type DecryptedIkeMessage, type IkeOpenError } from './ike/codec/open-one.js';
export { parseIpHeader, IpPacketError, type IpHeader } from './net/ip-packet.js';
export { formatIp, parseIp } from './net/ip-address.js';
// RFC 9329 TCP encapsulation's byte stream: the "IKETCP" prefix and the Length-framed messages (cygnet inspect reads captured streams with it).
export { TcpDeframer, TcpEncapError, IKETCP_PREFIX, type TcpDeframerOptions, type TcpEncapErrorCode } from './net/tcp-encap.js';

// Modules as namespaces.
export * as crypto from './crypto/index.js';
export * as codec from './ike/codec/index.js';
export * as ike from './ike/index.js';
export * as esp from './esp/index.js';
export * as pki from './pki/index.js';
export * as config from './config/index.js';
export * as sim from './sim/index.js';
export * as tun from './tun/index.js';
export * as vici from './vici/index.js';

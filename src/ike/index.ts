/**
 * The IKE namespace of the public API (`import { ike } from 'cygnet'`): the sans-IO endpoint, its configuration,
 * events, identities, traffic selectors, address pools and the message codec.
 */
export { IkeEndpoint, type IkeEndpointOptions } from './endpoint.js';
export * from './config.js';
export { connection, child, pskCredentials, type ConnectionOptions, type ChildOptions } from './config-builder.js';
export * from './events.js';
export { parseIdentity, formatIdentity, identityMatches, type Identity } from './identity.js';
export { parseTrafficSelector, formatTrafficSelector, type TrafficSelector } from './traffic-selector.js';
export { parsePool, AddressPool, type AddressPoolConfig } from './pool.js';
export * as codec from './codec/index.js';

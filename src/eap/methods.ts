/** The methods cygnet knows by name: built in (sans-IO) or supplied as plugins (EAP-TLS from src/eap-tls). */
import { Md5Peer, Md5Server } from './md5.js';
import { MsChapV2Peer, MsChapV2Server } from './mschapv2.js';
import { EapType } from './packet.js';
import type { EapMethodName, EapMethodPeer, EapMethodPlugin, EapMethodServer, EapPeerOptions, EapServerOptions } from './types.js';

const BUILTIN_TYPES: Readonly<Record<string, number>> = { md5: EapType.Md5Challenge, mschapv2: EapType.MsChapV2, tls: EapType.Tls };

/** The EAP Type of a method name, from the plugins first, or undefined for a name cygnet does not know. */
export function methodType(name: EapMethodName, plugins: readonly EapMethodPlugin[] = []): number | undefined {
  return plugins.find((p) => p.name === name)?.type ?? BUILTIN_TYPES[name];
}

/** The method name of an EAP Type among `names`. */
export function methodName(type: number, names: readonly EapMethodName[], plugins: readonly EapMethodPlugin[] = []): EapMethodName | undefined {
  return names.find((n) => methodType(n, plugins) === type);
}

/** Why `name` cannot run here, or undefined when it can. */
export function methodProblem(name: EapMethodName, o: { readonly allowMd5?: boolean; readonly plugins?: readonly EapMethodPlugin[] }, side: 'server' | 'peer'): string | undefined {
  const plugin = o.plugins?.find((p) => p.name === name);
  if (plugin !== undefined) return plugin[side] === undefined ? `EAP method '${name}' has no ${side} side` : undefined;
  if (name === 'md5') return o.allowMd5 === true ? undefined : 'EAP-MD5 is refused (no mutual authentication, no MSK); it is enabled for tests only';
  if (name === 'mschapv2') return undefined;
  if (name === 'tls') return 'EAP-TLS needs the src/eap-tls plugin (eapTlsPlugin) in the options';
  return `EAP method '${name}' is not supported`;
}

export function createServerMethod(name: EapMethodName, identity: string, o: EapServerOptions): EapMethodServer {
  const plugin = o.plugins?.find((p) => p.name === name);
  if (plugin?.server !== undefined) return plugin.server(identity, o.ownIdentity);
  const common = { identity, ownIdentity: o.ownIdentity, random: o.random, ...(o.secrets !== undefined ? { secrets: o.secrets } : {}) };
  if (name === 'mschapv2') return new MsChapV2Server(common);
  if (name === 'md5') return new Md5Server(common);
  throw new Error(methodProblem(name, o, 'server') ?? `EAP method '${name}' is not supported`);
}

export function createPeerMethod(name: EapMethodName, o: EapPeerOptions): EapMethodPeer {
  const plugin = o.plugins?.find((p) => p.name === name);
  if (plugin?.peer !== undefined) return plugin.peer(o.identity, o.serverIdentity);
  const secrets = o.secrets !== undefined ? { secrets: o.secrets } : {};
  if (name === 'mschapv2') return new MsChapV2Peer({ identity: o.identity, serverIdentity: o.serverIdentity, random: o.random, ...secrets });
  if (name === 'md5') return new Md5Peer({ identity: o.identity, serverIdentity: o.serverIdentity, ...secrets });
  throw new Error(methodProblem(name, o, 'peer') ?? `EAP method '${name}' is not supported`);
}

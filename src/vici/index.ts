/**
 * strongSwan's vici control protocol for cygnet (issue 7 "Control"): codec, framing, server, charon-compatible
 * commands over a ViciBackend, client, and the `cygnet status|list-sas|list-conns|up|down|rekey|reload|stats|version`
 * commands. Wire format: strongSwan src/libcharon/plugins/vici/README.md.
 */
export { ViciError, isViciError, type ViciErrorCode } from './errors.js';
export { encodeMessage, decodeMessage, findStr, findValue, section, str, strList, toPlainTree, type PlainTree, type ViciMessage, type ViciValue, type ViciInput, type ViciInputValue } from './message.js';
export { encodePacket, decodePacket, FrameDecoder, ViciStream, PacketType, VICI_MESSAGE_SIZE_MAX, type ViciPacket, type ViciOutPacket } from './transport.js';
export { ViciServer, DEFAULT_VICI_SOCKET, type CommandContext, type CommandHandler, type ViciServerOptions } from './server.js';
export { registerViciCommands, listSaEvent, listConnEvent, ikeSaBody, childSaBody, controlLogEvent, logEvent, ikeUpdownEvent, childUpdownEvent, ikeRekeyEvent, childRekeyEvent, VICI_EVENTS, type ViciCommandOptions } from './commands.js';
export type * from './backend.js';
export { ViciClient, type ViciConnectOptions, type EventListener } from './client.js';
export { runViciCli, VICI_CLI_COMMANDS, VICI_CLI_USAGE, type ViciCliIo, type ViciCliCommand } from './cli.js';
export { formatListSa, formatListConn, formatStats, formatVersion, formatControlLog } from './format.js';
export { viciIkeSa, viciChildSa, viciConn, parseSuite, formatConfiguredTs, type IkeSaExtras, type ChildSaExtras, type SuiteNames } from './adapt.js';
export { IkeViciBackend, type IkeControl, type IkeViciBackendOptions } from './ike-backend.js';

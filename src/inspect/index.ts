/**
 * `cygnet inspect`: read pcap/pcapng captures, find IKE and ESP, decrypt with key logs (cygnet's --key-log,
 * Wireshark's ikev2_decryption_table and esp_sa), print text or JSON lines. Built on the public library API only.
 */
export { readCapture, CaptureFormatError, LinkType, type CaptureFile, type CaptureFrame } from './capture-file.js';
export { DatagramReader, networkPacket, type Datagram } from './datagrams.js';
export { parseKeyLog, mergeKeyLogs, splitUatLine, type KeyLog, type KeyLogError, type IkeKeyEntry, type EspKeyEntry } from './key-log.js';
export { describePayload, describeProposal, type PayloadSummary } from './describe-ike.js';
export { inspectFrames, type InspectRecord, type IkeRecord, type EspRecord, type InspectResult, type InspectOptions } from './inspect.js';
export { formatJson, formatText, formatRecordText } from './format.js';

import { describe, expect, it } from 'vitest';
import { keyLogLines } from '../daemon/key-log.js';
import type { IkeEvent } from '../ike/events.js';
import { parseKeyLog, splitUatLine } from './key-log.js';

const h = (s: string): number[] => [...Buffer.from(s, 'hex')];

describe('cygnet key log (JSON lines)', () => {
  it('reads what the daemon writes: IKE keys and both ESP SAs', () => {
    // The daemon's own writer (src/daemon/key-log.ts) on hand-made events.
    const ikeKeys = {
      type: 'ike-keys', sa: { spiI: '0011223344556677', spiR: '8899aabbccddeeff' }, encrId: 12, encrKeyBits: 256, integId: 12,
      SK_ei: new Uint8Array(32).fill(1), SK_er: new Uint8Array(32).fill(2), SK_ai: new Uint8Array(32).fill(3), SK_ar: new Uint8Array(32).fill(4),
    } as unknown as IkeEvent;
    const child = {
      type: 'child-install',
      child: { encrId: 20, integId: 0, local: { address: '192.0.2.1' }, remote: { address: '192.0.2.2' } },
      inbound: { spi: 0xc1000001, encrKey: new Uint8Array(20).fill(5), integKey: new Uint8Array(0) },
      outbound: { spi: 0xc2000002, encrKey: new Uint8Array(20).fill(6), integKey: new Uint8Array(0) },
    } as unknown as IkeEvent;
    // keyLogLines hex-encodes the SPIs of the event's IkeSaInfo: give it bytes.
    (ikeKeys as { sa: { spiI: unknown; spiR: unknown } }).sa = { spiI: Uint8Array.from(h('0011223344556677')), spiR: Uint8Array.from(h('8899aabbccddeeff')) };
    const text = [...keyLogLines(ikeKeys), ...keyLogLines(child)].join('\n');
    const log = parseKeyLog(text, 'cyg.keys');
    expect(log.errors).toEqual([]);
    expect(log.ike).toHaveLength(1);
    expect(log.ike[0]).toMatchObject({ spiI: '0011223344556677', spiR: '8899aabbccddeeff', encr: 12, encrName: 'AES_CBC', encrKeyBits: 256, integ: 12, source: 'cyg.keys:1' });
    expect([...log.ike[0]!.skAr!]).toEqual(new Array(32).fill(4));
    expect(log.esp.map((e) => [e.spi.toString(16), e.src, e.dst, e.encr, e.integ, e.encrKey.length, e.source])).toEqual([
      ['c1000001', '192.0.2.2', '192.0.2.1', [20], 0, 20, 'cyg.keys:2'],
      ['c2000002', '192.0.2.1', '192.0.2.2', [20], 0, 20, 'cyg.keys:3'],
    ]);
  });

  it('keeps an unsupported transform by name and reports bad lines with file:line', () => {
    const text = [
      '{"type":"esp","src":"a","dst":"b","spi":"00001234","encr":"CAMELLIA_CBC","encrKey":"00112233"}',
      '{"type":"ike","spiI":"00","spiR":"8899aabbccddeeff","encr":"AES_CBC","skEi":"00","skEr":"00"}',
      'not json {',
      '{"type":"ah"}',
    ].join('\n');
    const log = parseKeyLog(text, 'k');
    expect(log.esp[0]).toMatchObject({ spi: 0x1234, encr: [], encrName: 'CAMELLIA_CBC' });
    expect(log.errors.map((e) => e.source)).toEqual(['k:2', 'k:3', 'k:4']);
    expect(log.errors[0]!.message).toContain('16 hex digits');
    // 'not json {' is read as a UAT line: the wrong number of fields
    expect(log.errors[1]!.message).toMatch(/1 fields: neither an ikev2_decryption_table record/);
    expect(log.errors[2]!.message).toContain('"ah"');
  });
});

describe('Wireshark UAT files', () => {
  it('reads strongSwan save-keys ikev2_decryption_table lines', () => {
    // save_keys_listener.c: SPIs as 16 hex digits, keys as bare hex, labels quoted.
    const line = `0011223344556677,8899aabbccddeeff,${'11'.repeat(36)},${'22'.repeat(36)},"AES-GCM-256 with 16 octet ICV [RFC5282]",,,"NONE [RFC4306]"`;
    const cbc = `a1a2a3a4a5a6a7a8,b1b2b3b4b5b6b7b8,${'33'.repeat(16)},${'44'.repeat(16)},"AES-CBC-128 [RFC3602]",${'55'.repeat(32)},${'66'.repeat(32)},"HMAC_SHA2_256_128 [RFC4868]"`;
    const log = parseKeyLog(`# comment\n${line}\n${cbc}\n`, 'ikev2_decryption_table');
    expect(log.errors).toEqual([]);
    expect(log.ike.map((k) => [k.spiI, k.encr, k.encrKeyBits, k.integ, k.skEi.length, k.skAi?.length, k.source])).toEqual([
      ['0011223344556677', 20, 256, 0, 36, undefined, 'ikev2_decryption_table:2'],
      ['a1a2a3a4a5a6a7a8', 12, 128, 12, 16, 32, 'ikev2_decryption_table:3'],
    ]);
    const md5 = parseKeyLog(`0011223344556677,8899aabbccddeeff,00,00,"AES-CBC-128 [RFC3602]",00,00,"HMAC_MD5_96 [RFC2403]"`, 't');
    expect(md5.ike[0]).toMatchObject({ integ: undefined, integName: 'HMAC_MD5_96 [RFC2403]' });
  });

  it('reads esp_sa lines of Wireshark 4 and of strongSwan save-keys', () => {
    const text = [
      `"IPv4","192.0.2.1","192.0.2.2","0xc1000001","AES-GCM with 16 octet ICV [RFC4106]","0x${'77'.repeat(20)}","NULL",""`,
      `"IPv4","192.0.2.2","192.0.2.1","0xc2000002","AES-CBC [RFC3602]","0x${'88'.repeat(32)}","HMAC-SHA-256-128 [RFC4868]","0x${'99'.repeat(32)}"`,
      `"IPv6","2001:db8::1","2001:db8::2","0x00000300","AES-GCM [RFC4106]","0x${'aa'.repeat(36)}","ANY 128 bit authentication [no checking]","0x"`,
      `"IPv4","*","*","0x00000400","TripleDES-CBC [RFC2451]","0x${'bb'.repeat(24)}","HMAC-SHA-1-96 [RFC2404]","0x${'cc'.repeat(20)}"`,
      `"IPv4","192.0.2.1","192.0.2.2","0xzz","NULL","","NULL",""`,
      `"IPv4","192.0.2.1","192.0.2.2"`,
    ].join('\n');
    const log = parseKeyLog(text, 'esp_sa');
    expect(log.esp.map((e) => [e.spi.toString(16), e.src ?? '*', e.encr, e.integ, e.encrKey.length, e.integKey?.length])).toEqual([
      ['c1000001', '192.0.2.1', [20], 0, 20, undefined],
      ['c2000002', '192.0.2.2', [12], 12, 32, 32],
      ['300', '2001:db8::1', [20, 19, 18], 0, 36, undefined],
      ['400', '*', [3], 2, 24, 20],
    ]);
    expect(log.errors.map((e) => [e.source, e.message])).toEqual([
      ['esp_sa:5', "esp_sa SPI '0xzz' is not hex (0x12345678)"],
      ['esp_sa:6', 'esp_sa record has 3 fields, expected at least 8'],
    ]);
  });

  it('splits quoted and bare fields with escapes', () => {
    expect(splitUatLine(`"a\\"b",0011, "c\\x2cd" ,`)).toEqual(['a"b', '0011', 'c,d', '']);
    expect(splitUatLine(`"open`)).toBeUndefined();
    expect(splitUatLine(`"a"x`)).toBeUndefined();
  });
});

/**
 * The index's doc promises every module as a namespace (`import { esp, ike, pki } from 'cygnet'`): each one named
 * there exists and carries its module's main entry points (issue 13: `ike` was documented but not exported).
 */
import { describe, expect, it } from 'vitest';
import * as cygnet from '../../src/index.js';

describe('public namespaces', () => {
  it('ike, esp, pki, crypto, codec, config, sim, tun, vici are exported', () => {
    expect(typeof cygnet.ike.IkeEndpoint).toBe('function');
    expect(typeof cygnet.ike.parseIdentity).toBe('function');
    expect(typeof cygnet.ike.codec).toBe('object');
    expect(typeof cygnet.esp.EspEngine).toBe('function');
    expect(typeof cygnet.pki).toBe('object');
    for (const ns of ['crypto', 'codec', 'config', 'sim', 'tun', 'vici'] as const) expect(typeof cygnet[ns], ns).toBe('object');
  });
});

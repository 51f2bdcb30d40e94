/**
 * vici log and control-log events carry peer-controlled text (IDs, certificate subjects) that swanctl prints as it
 * comes: control characters are escaped as in the text logs, so a peer cannot forge lines in `swanctl --log` or in
 * what `swanctl --initiate` prints (issue 11).
 */
import { describe, expect, it } from 'vitest';
import { controlLogEvent, logEvent } from '../../src/vici/commands.js';

describe('vici log events escape peer-controlled text', () => {
  const forged = "authentication of 'evil\n12[IKE] IKE_SA gw[1] established\u001b[2J' failed";
  it.each([
    ['log', logEvent],
    ['control-log', controlLogEvent],
  ])('%s', (_name, make) => {
    const m = make({ group: 'ike', level: 1, message: forged });
    expect(m.msg).toBe("authentication of 'evil\\n12[IKE] IKE_SA gw[1] established\\x1b[2J' failed");
    expect(String(m.msg)).not.toMatch(/[\n\u001b]/);
    // Plain text passes unchanged.
    expect(make({ group: 'cfg', level: 1, message: 'loaded 2 connections' }).msg).toBe('loaded 2 connections');
  });
});

import { describe, expect, it } from 'vitest';
import { LinuxTun, linuxTunUnavailableReason } from './linux.js';

const skip = linuxTunUnavailableReason() ?? (process.getuid?.() !== 0 ? 'not root' : undefined);

describe.skipIf(skip !== undefined)('multi-queue TUN (IFF_MULTI_QUEUE, issue 17 worker threads)', () => {
  it('a second queue attaches to the device, the first detaches and re-attaches, a bad name is refused', async () => {
    const first = await LinuxTun.open({ name: 'cygmq%d', multiQueue: true, offload: true, up: false });
    try {
      expect(first.name).toMatch(/^cygmq\d+$/);
      const second = await LinuxTun.open({ name: first.name, attach: true, offload: true, mtu: first.mtu });
      try {
        expect(second.name).toBe(first.name);
        expect(second.offload).toBe(first.offload);
        first.setQueueEnabled(false);
        first.setQueueEnabled(true);
        // Attaching to a name that is no device of ours creates nothing silently wrong: it is a fresh device then.
        await expect(LinuxTun.open({ name: 'x'.repeat(20), attach: true })).rejects.toThrow(/longer than 15 bytes/);
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
    }
  });
});

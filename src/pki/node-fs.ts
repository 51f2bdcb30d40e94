/** node:fs binding of CredentialFs for the daemon and CLI (kept out of the sans-IO modules). */
import { readdirSync, readFileSync } from 'node:fs';
import type { CredentialFs } from './credentials.js';

export const nodeCredentialFs: CredentialFs = {
  readFile: (path) => new Uint8Array(readFileSync(path)),
  readdir: (path) => {
    try {
      return readdirSync(path, { withFileTypes: true })
        .filter((d) => d.isFile() || d.isSymbolicLink())
        .map((d) => d.name);
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return undefined;
      throw e;
    }
  },
};

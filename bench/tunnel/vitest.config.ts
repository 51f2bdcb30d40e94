// The root vitest.config.ts only includes src/ and test/; this runs the bench helpers' own tests:
//   npx vitest run --config bench/tunnel/vitest.config.ts
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { root: new URL('../..', import.meta.url).pathname, include: ['bench/**/*.test.ts'], pool: 'forks' },
});

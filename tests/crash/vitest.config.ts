import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The crash suite on its own (`npm run test:crash`): it starts, kills and restarts real server
 * processes, so it runs apart from `npm test`, alone, with no other test file competing for the CPU.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['tests/crash/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});

import { defineConfig } from 'vitest/config';

// Browser tests (npm run test:browser): a real server process and Debian's Chromium, one file at a
// time, so two cores are enough. `npm test` leaves them out.
export default defineConfig({
  test: {
    include: ['tests/browser/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    // A test that fails is run once more, and its first failure stays in the output to be read.
    retry: 1,
    maxWorkers: 1,
    // Pages settle in well under a second, but a busy two-core machine can take several.
    expect: { poll: { timeout: 15_000, interval: 100 } },
  },
});

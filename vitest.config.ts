import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file boots real server processes on free ports; two cores run two files at a time.
    fileParallelism: true,
    maxWorkers: 2,
  },
});

import { defineConfig } from 'vitest/config';

/**
 * The suite runs twice: once on the embedded SQLite, once on PostgreSQL (TEST_DATABASE_URL,
 * default the local server's `test` database, one fresh schema per store process).
 */
// Suites that run once: the gateway keeps its own embedded database; dialects.test.ts starts both itself.
/** Where global-setup.ts compiles src/ for the servers the tests start. */
const TEST_BUILD_DIR = '.test-build';

const runOnce = ['test/gateway*.test.ts', 'test/dialects.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['test/global-setup.ts'],
    // Each file boots real server processes on free ports; two cores run two files at a time.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'], env: { TEST_DIALECT: 'sqlite', TEST_BUILD_DIR } } },
      {
        extends: true,
        test: { name: 'postgres', include: ['test/**/*.test.ts'], exclude: runOnce, env: { TEST_DIALECT: 'postgres', TEST_BUILD_DIR } },
      },
    ],
  },
});

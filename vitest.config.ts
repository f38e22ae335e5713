import pg from 'pg';
import { defineConfig } from 'vitest/config';

/**
 * The suite runs twice: once on the embedded SQLite, once on PostgreSQL (TEST_DATABASE_URL,
 * default the local server's `test` database, one fresh schema per store process).
 */
/** Where global-setup.ts compiles src/ for the servers the tests start. */
const TEST_BUILD_DIR = '.test-build';
const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

// Suites that run once: the gateway keeps its own embedded database; dialects.test.ts starts both itself;
// the dashboard's browser test checks the page, the MCP tools call the HTTP routes (tested on both
// dialects elsewhere) and the access rules decide before any query: the same on both dialects.
const runOnce = [
  'test/gateway*.test.ts', 'test/dialects.test.ts', 'test/openapi-documents.test.ts', 'test/first-hour.test.ts', 'test/stopping.test.ts', 'test/llms-txt.test.ts', 'test/dashboard.test.ts',
  'test/mcp.test.ts', 'test/sandbox-access.test.ts', 'test/fresh-read.test.ts', 'test/write-mark.test.ts',
];

/**
 * Without a reachable PostgreSQL a local run keeps its SQLite half and says, in one line, how to
 * get the other. On CI (CI=true) the postgres project stays, and global-setup.ts fails the run.
 */
async function postgresReachable(): Promise<boolean> {
  if (process.env.CI === 'true') return true;
  // vitest evaluates this file more than once per run: probe (and say so) once.
  if (process.env.TEST_POSTGRES_REACHABLE !== undefined) return process.env.TEST_POSTGRES_REACHABLE === 'true';
  const reachable = await probe();
  process.env.TEST_POSTGRES_REACHABLE = String(reachable);
  return reachable;
}

async function probe(): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch (error) {
    console.warn(
      `PostgreSQL tests skipped: ${TEST_DATABASE_URL} is unreachable (${(error as Error).message}). ` +
        'Start PostgreSQL there or set TEST_DATABASE_URL to run them; CI=true makes this an error.',
    );
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const withPostgres = await postgresReachable();

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['test/global-setup.ts'],
    // Each file boots real server processes on free ports and spends much of its time waiting for
    // them (callbacks, retries, timers): four files at a time keep two cores busy.
    maxWorkers: 4,
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'], env: { TEST_DIALECT: 'sqlite', TEST_BUILD_DIR } } },
      ...(withPostgres
        ? [{
          extends: true as const,
          test: { name: 'postgres', include: ['test/**/*.test.ts'], exclude: runOnce, env: { TEST_DIALECT: 'postgres', TEST_BUILD_DIR } },
        }]
        : []),
    ],
  },
});

import { randomBytes } from 'node:crypto';
import { build } from 'esbuild';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    schemaPrefix: string;
  }
}

const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Every store a postgres-project test starts gets its own schema `t_<run>_<random>`; this run's
 * schemas are dropped when the run ends. An unreachable PostgreSQL fails the run: it is not a skip.
 */
export default async function setup(project: TestProject) {
  // Compile src/ once for the servers the tests start (see test/helpers/spawn.ts).
  const root = new URL('..', import.meta.url).pathname;
  await build({
    entryPoints: [`${root}src/**/*.ts`],
    outdir: `${root}${process.env.TEST_BUILD_DIR ?? '.test-build'}`,
    outbase: `${root}src`,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'warning',
  });

  const prefix = `t_${randomBytes(4).toString('hex')}_`;
  project.provide('schemaPrefix', prefix);
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`PostgreSQL at ${url} is unreachable (set TEST_DATABASE_URL): ${(error as Error).message}`);
  }
  await client.end();

  return async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const { rows } = await admin.query<{ nspname: string }>('select nspname from pg_namespace where starts_with(nspname, $1)', [prefix]);
    for (const { nspname } of rows) await admin.query(`drop schema if exists "${nspname}" cascade`);
    await admin.end();
  };
}

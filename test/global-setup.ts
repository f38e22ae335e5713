import { randomBytes } from 'node:crypto';
import { build } from 'esbuild';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    schemaPrefix: string;
    /** Whether TEST_DATABASE_URL answers (tests that need both dialects run only then). */
    postgresAvailable: boolean;
  }
}

const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Every store a postgres-project test starts gets its own schema `t_<run>_<random>`; this run's
 * schemas are dropped when the run ends. An unreachable PostgreSQL fails the postgres project: it
 * is not a skip (vitest.config.ts leaves that project out, with one line, on a local run without it).
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
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    project.provide('postgresAvailable', true);
  } catch (error) {
    if (project.name === 'postgres') throw new Error(`PostgreSQL at ${url} is unreachable (set TEST_DATABASE_URL): ${(error as Error).message}`);
    project.provide('postgresAvailable', false);
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }

  return async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const { rows } = await admin.query<{ nspname: string }>('select nspname from pg_namespace where starts_with(nspname, $1)', [prefix]);
    for (const { nspname } of rows) await admin.query(`drop schema if exists "${nspname}" cascade`);
    await admin.end();
  };
}

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import { freePort, spawnServer, tempDir, type ServerProcess } from './spawn.js';

export { freePort, spawnServer, tempDir, type ServerProcess };

/** PostgreSQL server the postgres project runs against (CI: the local server's `test` database). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The dialect of the project this test file runs in (vitest.config.ts runs the suite once per dialect). */
export const testDialect = (): 'sqlite' | 'postgres' => (process.env.TEST_DIALECT === 'postgres' ? 'postgres' : 'sqlite');

/**
 * A new, empty store database of the current dialect: a SQLite file in a temporary directory, or a
 * PostgreSQL schema named after this test run (global-setup.ts drops the run's schemas at the end).
 */
export function freshDatabaseUrl(dialect = testDialect()): string {
  if (dialect === 'sqlite') return `sqlite:${join(tempDir(), 'store.db')}`;
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('schema', `${inject('schemaPrefix')}${randomBytes(6).toString('hex')}`);
  return url.toString();
}

export interface StoreOptions {
  /** Defaults to freshDatabaseUrl(). */
  databaseUrl?: string;
  port?: number;
  env?: Record<string, string>;
}

export async function startStore(options: StoreOptions = {}): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const databaseUrl = options.databaseUrl ?? freshDatabaseUrl();
  return spawnServer('src/store-main.ts', { PORT: String(port), DATABASE_URL: databaseUrl, ...options.env }, port, '/healthz');
}

export interface GatewayOptions {
  storeUrl: string;
  databaseUrl?: string;
  port?: number;
  env?: Record<string, string>;
}

export async function startGateway(options: GatewayOptions): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const databaseUrl = options.databaseUrl ?? `sqlite:${join(tempDir('gateway-test-'), 'payments.db')}`;
  return spawnServer(
    'src/gateway/main.ts',
    { PAYMENTS_PORT: String(port), PAYMENTS_DATABASE_URL: databaseUrl, STORE_URL: options.storeUrl, ...options.env },
    port,
    '/balance',
  );
}

/** fetch + JSON, returning status, parsed body and headers. */
export async function call(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/**
 * One store process for the enclosing describe block: started before its tests, stopped after.
 * `req(method, path, ...)` calls it; `url()` is its base URL.
 */
export function useStore(options: StoreOptions = {}) {
  let store: ServerProcess | undefined;
  beforeAll(async () => {
    store = await startStore(options);
  });
  afterAll(async () => {
    await store?.stop();
  });
  const url = (): string => {
    if (!store) throw new Error('the store is not started yet');
    return store.url;
  };
  return {
    url,
    req: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => call(method, `${url()}${path}`, body, headers),
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit: a crash, nothing flushed. */
  kill(): Promise<void>;
}

export function tempDir(prefix = 'store-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess, output: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before it was ready:\n${output()}`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${url}:\n${output()}`);
}

/** Spawns `node --import tsx <entry>` from the project root with the given environment and waits until readyPath answers. */
export async function spawnServer(entry: string, env: Record<string, string>, port: number, readyPath: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', LOG_FORMAT: 'json', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  try {
    await waitForHttp(url + readyPath, child, () => output);
  } catch (error) {
    await signal('SIGKILL');
    throw error;
  }
  return { url, port, child, output: () => output, stop: () => signal('SIGTERM'), kill: () => signal('SIGKILL') };
}

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

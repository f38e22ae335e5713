import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, spawnServer, type ServerProcess } from '../test/helpers/spawn.js';

/** This checkout of the project. */
export const ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
export const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A checkout whose servers are measured: this tree, or a commit built in a temporary worktree. */
export interface Tree {
  label: string;
  root: string;
}

/**
 * Checks `ref` out in a detached temporary git worktree that borrows this tree's node_modules (a
 * superset of what an older commit needs, unless it added a dependency since removed).
 */
export function checkoutTree(ref: string, dir: string): Tree {
  const root = join(dir, 'against');
  execFileSync('git', ['worktree', 'add', '--detach', root, ref], { cwd: ROOT, stdio: 'pipe' });
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
  return { label: `${ref} (${commit})`, root };
}

export function removeTree(tree: Tree): void {
  execFileSync('git', ['worktree', 'remove', '--force', tree.root], { cwd: ROOT, stdio: 'pipe' });
}

/**
 * Servers on CPU 0, this process (the load generator, and the client processes it starts) on CPU
 * 1, when `taskset` exists and there are two CPUs: the two then do not compete for one core.
 */
export function pinning(enabled: boolean): string[] {
  if (!enabled || cpus().length < 2 || !existsSync('/usr/bin/taskset')) return [];
  execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'pipe' });
  return ['taskset', '-c', '0'];
}

export function databaseUrl(kind: string, dir: string, tag: string): string {
  if (kind === 'sqlite') return `sqlite:${join(dir, `${tag}.db`)}`;
  const url = new URL(PG_URL);
  url.searchParams.set('schema', `bench_${tag}`);
  return url.toString();
}

/** Drops the PostgreSQL schema a tagged bench database lives in (nothing to do for SQLite files). */
export async function dropDatabase(kind: string, tag: string): Promise<void> {
  if (kind !== 'postgres') return;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`drop schema if exists "bench_${tag}" cascade`);
  await client.end();
}

/** The seed catalog with stock that never runs out, plus a one-cent product for purchases. */
export function benchSeed(dir: string): { file: string; tokenId: number } {
  const catalog = JSON.parse(readFileSync(join(ROOT, 'seed/catalog.json'), 'utf8'));
  const tokenId = 1000;
  for (const p of catalog.products) p.stock = 1_000_000_000;
  catalog.products.push({ id: tokenId, name: 'Benchmark Token', price: 0.01, category_id: 1, brand: 'Bench', rating: 5, stock: 1_000_000_000, description: 'One cent.' });
  const file = join(dir, 'bench-catalog.json');
  writeFileSync(file, JSON.stringify(catalog));
  return { file, tokenId };
}

export async function startStore(tree: Tree, url: string, prefix: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  const port = await freePort();
  return spawnServer('src/store-main.ts', { PORT: String(port), DATABASE_URL: url, ...env }, port, '/healthz', { root: tree.root, prefix });
}

export async function startGateway(tree: Tree, dir: string, storeUrl: string, prefix: string[]): Promise<ServerProcess> {
  const port = await freePort();
  const env = { PAYMENTS_PORT: String(port), PAYMENTS_DATABASE_URL: `sqlite:${join(dir, `payments-${port}.db`)}`, STORE_URL: storeUrl };
  return spawnServer('src/gateway/main.ts', env, port, '/balance', { root: tree.root, prefix });
}

/** Seeds `products` generated products into `url` with the tree's own `db:seed`. */
export function seedLarge(tree: Tree, url: string, products: number): void {
  execFileSync(process.execPath, ['--import', 'tsx', 'src/db/cli.ts', 'seed', '--products', String(products)], {
    cwd: tree.root,
    env: { ...process.env, DATABASE_URL: url },
    stdio: 'inherit',
  });
}

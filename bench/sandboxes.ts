import { join } from 'node:path';
import { freePort, spawnServer } from '../test/helpers/spawn.js';
import type { Measurement } from './load.js';
import type { Row } from './report.js';
import type { Tree } from './servers.js';

/** Sandbox operations timed here, each this many times (p50 and p99 over them). */
const OPS_RUNS = 40;
/** Live sandboxes for the catalog-read figure (the MAX_SANDBOXES default). */
const LIVE = 1000;

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

async function timed(method: string, url: string, body?: unknown): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  await res.text();
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status}`);
  return performance.now() - started;
}

const summary = (times: number[]): Measurement => {
  const sorted = [...times].sort((a, b) => a - b);
  const p50 = percentile(sorted, 0.5);
  return { rps: 1000 / p50, p50, p99: percentile(sorted, 0.99) };
};

/**
 * Issue 9's targets, through both real servers over HTTP (so each figure includes the store's
 * call to the gateway): create, reset, snapshot restore and fork of a default-catalog sandbox
 * (p50 over OPS_RUNS each), then LIVE live sandboxes each answering catalog reads.
 */
export async function sandboxBench(kind: string, tree: Tree, storeDb: string, dir: string, prefix: string[], baseline: number, duration: number): Promise<Row[]> {
  const [storePort, gatewayPort] = [await freePort(), await freePort()];
  const store = await spawnServer(
    'src/store-main.ts',
    { PORT: String(storePort), DATABASE_URL: storeDb, PAYMENTS_URL: `http://127.0.0.1:${gatewayPort}`, MAX_SANDBOXES: String(LIVE + OPS_RUNS * 3) },
    storePort, '/healthz', { root: tree.root, prefix },
  );
  const gateway = await spawnServer(
    'src/gateway/main.ts',
    { PAYMENTS_PORT: String(gatewayPort), PAYMENTS_DATABASE_URL: `sqlite:${join(dir, `payments-sbx-${gatewayPort}.db`)}`, STORE_URL: store.url },
    gatewayPort, '/balance', { root: tree.root, prefix },
  );
  const rows: Row[] = [];
  const record = (name: string, m: Measurement, unit?: string) => {
    rows.push({ database: kind, name, tree: tree.label, baseline, unit, ...m });
    console.log(`${kind.padEnd(9)} ${tree.label.padEnd(24)} ${name.padEnd(76)} p50 ${m.p50.toFixed(1)}  p99 ${m.p99.toFixed(1)} ms`);
  };
  try {
    const api = (path: string) => `${store.url}${path}`;
    const create: number[] = [];
    const reset: number[] = [];
    const restore: number[] = [];
    const fork: number[] = [];
    for (let i = 0; i < OPS_RUNS; i++) {
      const id = `ops-${i}`;
      create.push(await timed('POST', api('/sandboxes'), { sandbox_id: id }));
      await timed('POST', api(`/sandboxes/${id}/cart`));
      reset.push(await timed('POST', api(`/sandboxes/${id}/reset`)));
      await timed('POST', api(`/sandboxes/${id}/snapshots`), { name: 's' });
      restore.push(await timed('POST', api(`/sandboxes/${id}/snapshots/s/restore`)));
      fork.push(await timed('POST', api('/sandboxes'), { sandbox_id: `fork-${i}`, from: { sandbox_id: id, snapshot: 's' } }));
    }
    record('sandbox create (default catalog, both servers)', summary(create), 'ops');
    record('sandbox reset', summary(reset), 'ops');
    record('sandbox snapshot restore', summary(restore), 'ops');
    record('sandbox fork (create from a snapshot)', summary(fork), 'ops');

    for (let i = 0; i < LIVE; i++) await timed('POST', api('/sandboxes'), { sandbox_id: `live-${i}` });
    // Reads spread over every live sandbox, 8 loops at a time, for `duration` seconds.
    const times: number[] = [];
    const deadline = performance.now() + duration * 1000;
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (performance.now() < deadline) times.push(await timed('GET', api(`/sandboxes/live-${next++ % LIVE}/products?page_size=5`)));
    }));
    const m = summary(times);
    record(`${LIVE} live sandboxes: GET /sandboxes/{id}/products, round robin, 8 connections`, { ...m, rps: times.length / duration });
  } finally {
    await Promise.all([store.stop(), gateway.stop()]);
  }
  return rows;
}

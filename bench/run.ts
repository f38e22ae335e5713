import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { freePort, spawnServer, tempDir, type ServerProcess } from '../test/helpers/spawn.js';
import { measureGet, measurePurchases, timeOnce, type Measurement } from './load.js';
import { CATALOG_MIX, LARGE_MIX } from './mix.js';
import { benchOptions } from './options.js';
import { markdown, type Row } from './report.js';
import { sandboxBench } from './sandboxes.js';
import { eventsBench } from './events.js';
import {
  ROOT, benchSeed, checkoutTree, databaseUrl, dropDatabase, pinning, removeTree, seedLarge, startGateway, startStore, type Tree,
} from './servers.js';

/**
 * `npm run bench` (options: `npm run bench -- --help`): loopback-only, bounded runs of the issue-12
 * table on each database, with a bare Fastify baseline measured in the same run, and optionally
 * another commit (`--against`) measured alternately with this tree.
 */
const options = benchOptions(process.argv.slice(2));
const dir = tempDir('store-bench-');
const pin = pinning(options.pin);
const trees: Tree[] = [{ label: 'this tree', root: ROOT }];
const rows: Row[] = [];
const baselines: Record<string, number> = {};

const mean = (ms: Measurement[]): Measurement => ({
  rps: ms.reduce((s, m) => s + m.rps, 0) / ms.length,
  p50: ms.reduce((s, m) => s + m.p50, 0) / ms.length,
  p99: ms.reduce((s, m) => s + m.p99, 0) / ms.length,
});

/**
 * Runs `measure` rounds times per tree, alternating which tree goes first, and records the means.
 * With `base` (the baseline's request), each round measures the baseline too, just before the
 * trees, and the row's ratio is to the mean of those: the machine's speed drifts by ±20% within a
 * run, so a baseline measured minutes earlier would move every ratio by as much.
 */
async function alternate(
  database: string,
  name: string,
  measure: (tree: number) => Promise<Measurement>,
  { unit, base }: { unit?: string; base?: () => Promise<Measurement> } = {},
): Promise<void> {
  const results: Measurement[][] = trees.map(() => []);
  const bases: Measurement[] = [];
  for (let round = 0; round < options.rounds; round++) {
    if (base) bases.push(await base());
    const order = trees.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) results[i]!.push(await measure(i));
  }
  const baseline = bases.length > 0 ? mean(bases).rps : baselines[database]!;
  trees.forEach((tree, i) => {
    const m = mean(results[i]!);
    rows.push({ database, name, tree: tree.label, unit, baseline, ...m });
    console.log(`${database.padEnd(9)} ${tree.label.padEnd(24)} ${name.padEnd(76)} ${m.rps.toFixed(0).padStart(6)}/s  p50 ${m.p50.toFixed(1)}  p99 ${m.p99.toFixed(1)} ms`);
  });
}

/** Starts the baseline server, measures it once (the figure of the section's other rows) and returns it running. */
async function baseline(database: string): Promise<ServerProcess> {
  const port = await freePort();
  const base = await spawnServer('bench/baseline.ts', { PORT: String(port) }, port, '/categories', { prefix: pin });
  const m = await measureGet(`${base.url}/categories`, options.connections, options.duration);
  baselines[database] = m.rps;
  rows.push({ database, name: 'baseline: bare Fastify, categories from memory', tree: '—', baseline: m.rps, ...m });
  console.log(`${database.padEnd(9)} baseline ${m.rps.toFixed(0)} req/s`);
  return base;
}

async function catalogAndPurchases(kind: string, base: ServerProcess): Promise<void> {
  const seed = benchSeed(dir);
  const running: { store: ServerProcess; gateway: ServerProcess }[] = [];
  try {
    for (const [i, tree] of trees.entries()) {
      await dropDatabase(kind, `t${i}`);
      const store = await startStore(tree, databaseUrl(kind, dir, `t${i}`), pin, { SEED_FILE: seed.file });
      running.push({ store, gateway: await startGateway(tree, dir, store.url, pin) });
    }
    for (const path of options.only.includes('catalog') ? CATALOG_MIX : []) {
      await alternate(kind, `GET ${path}`, (i) => measureGet(running[i]!.store.url + path, options.connections, options.duration), {
        base: () => measureGet(`${base.url}/categories`, options.connections, options.duration),
      });
    }
    if (options.only.includes('purchases')) await alternate(
      kind,
      `full purchases (cart, add, checkout, pay + callback), ${options.connections} loops in ${options.clients} client processes`,
      (i) => measurePurchases(running[i]!.store.url, running[i]!.gateway.url, seed.tokenId, options.connections, options.clients, options.duration),
      { unit: 'purchases' },
    );
  } finally {
    await Promise.all(running.flatMap((r) => [r.store.stop(), r.gateway.stop()]));
    for (const i of trees.keys()) await dropDatabase(kind, `t${i}`);
  }
}

/** The million-product queries, one request at a time: the first (cold) request, then p50 over `duration`. */
async function largeCatalog(kind: string): Promise<void> {
  for (const [i, tree] of trees.entries()) {
    const tag = `large${i}`;
    await dropDatabase(kind, tag);
    const url = databaseUrl(kind, dir, tag);
    const seeded = Date.now();
    seedLarge(tree, url, options.large);
    console.log(`${kind}: ${tree.label}: seeded ${options.large} products in ${((Date.now() - seeded) / 1000).toFixed(0)} s`);
    const store = await startStore(tree, url, pin);
    try {
      for (const path of LARGE_MIX) {
        const cold = await timeOnce(store.url + path);
        const m = await measureGet(store.url + path, 1, options.duration);
        const name = `${options.large.toLocaleString('en')} products, 1 connection: GET ${path}`;
        rows.push({ database: kind, name, tree: tree.label, baseline: baselines[kind]!, cold, ...m });
        console.log(`${kind.padEnd(9)} ${tree.label.padEnd(24)} ${name.padEnd(90)} first ${cold.toFixed(1)} ms  p50 ${m.p50.toFixed(1)} ms`);
      }
    } finally {
      await store.stop();
      await dropDatabase(kind, tag);
    }
  }
}

async function main(): Promise<void> {
  if (options.against) trees.push(checkoutTree(options.against, dir));
  try {
    for (const kind of options.databases) {
      const base = await baseline(kind);
      try {
        await catalogAndPurchases(kind, base);
      } finally {
        await base.stop();
      }
      // Sandboxes exist in this tree only: an --against tree may predate them.
      if (options.only.includes('sandboxes')) {
        await dropDatabase(kind, 'sbx');
        rows.push(...(await sandboxBench(kind, trees[0]!, databaseUrl(kind, dir, 'sbx'), dir, pin, baselines[kind]!, options.duration)));
        await dropDatabase(kind, 'sbx');
      }
      if (options.only.includes('events')) rows.push(...(await eventsBench(kind, trees[0]!, dir, pin, baselines[kind]!, options)));
      if (options.large > 0) await largeCatalog(kind);
    }
  } finally {
    if (trees[1]) removeTree(trees[1]);
    // SQLite files of a million products are large: leave nothing behind.
    rmSync(dir, { recursive: true, force: true });
  }
  // npm runs scripts from the project root: a relative --out is relative to it, an absolute one stays.
  const out = resolve(ROOT, options.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, markdown(rows, trees.map((t) => t.label), options, pin.length > 0));
  console.log(`\nwritten to ${options.out}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

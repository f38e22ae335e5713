import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { freePort, spawnServer, tempDir, type ServerProcess } from '../test/helpers/spawn.js';

/**
 * `npm run bench`: loopback-only, bounded runs. Starts a bare Fastify baseline and the store (plus
 * the gateway, for purchases) on each database, measures requests/s and latency with autocannon,
 * and reports every figure also as a ratio to the baseline measured in the same run.
 *   --duration 5  --connections 32  --databases sqlite,postgres  --large 1000000 (0 skips)
 */
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
    databases: { type: 'string', default: 'sqlite,postgres' },
    large: { type: 'string', default: '0' },
    out: { type: 'string', default: 'bench/results.md' },
  },
});
const DURATION = Number(values.duration);
const CONNECTIONS = Number(values.connections);
const LARGE = Number(values.large);
const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const root = new URL('..', import.meta.url).pathname;

interface Row {
  database: string;
  name: string;
  rps: number;
  p50: number;
  p99: number;
  unit?: string;
}
const rows: Row[] = [];
let baseline = 0;

async function measure(url: string, connections = CONNECTIONS): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  // A short unrecorded run first: the JIT and SQLite's page cache warm up before the measured one.
  await autocannon({ url, connections, duration: 1, pipelining: 1 });
  const result = await autocannon({ url, connections, duration: DURATION, pipelining: 1 });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

async function record(database: string, name: string, url: string, connections = CONNECTIONS): Promise<void> {
  const m = await measure(url, connections);
  if (m.errors) throw new Error(`${name} on ${database}: ${m.errors} errors, timeouts or non-2xx answers`);
  rows.push({ database, name: connections === CONNECTIONS ? name : `${name} (${connections} connection)`, rps: m.rps, p50: m.p50, p99: m.p99 });
  console.log(`${database.padEnd(10)} ${name.padEnd(70)} ${m.rps.toFixed(0).padStart(7)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms`);
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are read field by field
function post(url: string, body?: unknown): Promise<{ status: number; json: Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url, { method: 'POST', agent, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Full purchases (cart, add, checkout, pay through the gateway, which calls the store back) per second. */
async function purchases(database: string, store: string, gateway: string, productId: number): Promise<void> {
  const deadline = Date.now() + DURATION * 1000;
  const latencies: number[] = [];
  const worker = async () => {
    while (Date.now() < deadline) {
      const started = performance.now();
      const cart = await post(`${store}/cart`);
      await post(`${store}/cart/${cart.json.cart_id}/items`, { product_id: productId, quantity: 1 });
      const order = await post(`${store}/cart/${cart.json.cart_id}/checkout`);
      const paid = await post(`${gateway}/payments/orders`, { order_id: order.json.order_id, amount: order.json.total });
      if (paid.status !== 200 || paid.json.shop_notified !== true) throw new Error(`purchase failed: ${JSON.stringify(paid.json)}`);
      latencies.push(performance.now() - started);
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const seconds = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!);
  rows.push({ database, name: 'full purchase (cart, add, checkout, pay + callback)', rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), unit: 'purchases/s' });
  console.log(`${database.padEnd(10)} full purchases: ${(latencies.length / seconds).toFixed(0)}/s  p50 ${at(0.5)} ms  p99 ${at(0.99)} ms`);
}

/** A seed with unlimited stock and a 0.01 product, so that purchases run out of neither stock nor balance. */
function benchSeed(dir: string): { file: string; tokenId: number } {
  const catalog = JSON.parse(readFileSync(join(root, 'seed/catalog.json'), 'utf8'));
  const tokenId = 1000;
  for (const p of catalog.products) p.stock = 1_000_000_000;
  catalog.products.push({ id: tokenId, name: 'Benchmark Token', price: 0.01, category_id: 1, brand: 'Bench', rating: 5, stock: 1_000_000_000, description: 'One cent.' });
  const file = join(dir, 'bench-catalog.json');
  writeFileSync(file, JSON.stringify(catalog));
  return { file, tokenId };
}

function databaseUrl(kind: string, dir: string, tag: string): string {
  if (kind === 'sqlite') return `sqlite:${join(dir, `${tag}.db`)}`;
  const url = new URL(PG_URL);
  url.searchParams.set('schema', `bench_${tag}`);
  return url.toString();
}

async function dropSchema(tag: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`drop schema if exists "bench_${tag}" cascade`);
  await client.end();
}

async function startStore(url: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const port = await freePort();
  return spawnServer('src/store-main.ts', { PORT: String(port), DATABASE_URL: url, ...env }, port, '/healthz');
}

async function catalogAndCarts(kind: string, dir: string): Promise<void> {
  if (kind === 'postgres') await dropSchema('main');
  const seed = benchSeed(dir);
  const store = await startStore(databaseUrl(kind, dir, 'main'), { SEED_FILE: seed.file });
  const gatewayPort = await freePort();
  const gateway = await spawnServer(
    'src/gateway/main.ts',
    { PAYMENTS_PORT: String(gatewayPort), PAYMENTS_DATABASE_URL: `sqlite:${join(dir, `payments-${kind}.db`)}`, STORE_URL: store.url },
    gatewayPort,
    '/balance',
  );
  try {
    const cart = await post(`${store.url}/cart`);
    for (const product_id of [1, 3, 5]) await post(`${store.url}/cart/${cart.json.cart_id}/items`, { product_id, quantity: 2 });
    await record(kind, 'GET /categories', `${store.url}/categories`);
    await record(kind, 'GET /products?search=keyboard', `${store.url}/products?search=keyboard`);
    await record(kind, 'GET /products?min_price=20&max_price=100&min_rating=4&sort_by=price&order=asc', `${store.url}/products?min_price=20&max_price=100&min_rating=4&sort_by=price&order=asc`);
    await record(kind, 'GET /products/3', `${store.url}/products/3`);
    await record(kind, 'GET /cart/{id} (3 lines)', `${store.url}/cart/${cart.json.cart_id}`);
    await purchases(kind, store.url, gateway.url, seed.tokenId);
  } finally {
    await Promise.all([store.stop(), gateway.stop()]);
    if (kind === 'postgres') await dropSchema('main');
  }
}

const LARGE_QUERIES = [
  '/products?search=keyboard',
  '/products?search=steel&page=3',
  '/products?min_price=20&max_price=100&min_rating=4&sort_by=price&order=asc',
  '/products?category_id=2&sort_by=rating&order=desc&page=5',
  '/products?brand=soundmax&in_stock=true&sort_by=name',
  '/products?sort_by=price&order=desc&page=1000',
  '/products/987654',
];

async function largeCatalog(kind: string, dir: string): Promise<void> {
  const url = databaseUrl(kind, dir, 'large');
  if (kind === 'postgres') await dropSchema('large');
  const started = Date.now();
  execFileSync(process.execPath, ['--import', 'tsx', 'src/db/cli.ts', 'seed', '--products', String(LARGE)], { cwd: root, env: { ...process.env, DATABASE_URL: url }, stdio: 'inherit' });
  console.log(`${kind}: seeded ${LARGE} products in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const bootStarted = Date.now();
  const store = await startStore(url);
  const boot = Date.now() - bootStarted;
  const rss = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(store.child.pid)]).toString().trim()) / 1024;
  console.log(`${kind}: store ready in ${boot} ms, RSS ${rss.toFixed(0)} MiB`);
  rows.push({ database: kind, name: `start-up with ${LARGE.toLocaleString('en')} products: ${boot} ms, RSS ${rss.toFixed(0)} MiB`, rps: NaN, p50: NaN, p99: NaN });
  try {
    // One connection: p50 is the time one query takes, not the time it waits behind 31 others.
    for (const path of LARGE_QUERIES) await record(`${kind} ${LARGE.toLocaleString('en')}`, `GET ${path}`, store.url + path, 1);
  } finally {
    await store.stop();
    if (kind === 'postgres') await dropSchema('large');
  }
}

function markdown(): string {
  const fmt = (n: number) => (Number.isNaN(n) ? '' : n.toFixed(0));
  const lines = [
    '# Benchmark results',
    '',
    `Generated by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${DURATION} s per run, ${CONNECTIONS} connections, loopback, one store process, Node ${process.version}.`,
    `Baseline: a bare Fastify route answering the categories JSON from memory, **${baseline.toFixed(0)} req/s** in this run. Ratios are to it.`,
    '',
    '| database | request | per second | × baseline | p50 ms | p99 ms |',
    '|---|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.database} | ${r.name} | ${fmt(r.rps)}${r.unit ? ` ${r.unit}` : ''} | ${Number.isNaN(r.rps) ? '' : (r.rps / baseline).toFixed(2)} | ${fmt(r.p50)} | ${fmt(r.p99)} |`),
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const dir = tempDir('store-bench-');
  const port = await freePort();
  const base = await spawnServer('bench/baseline.ts', { PORT: String(port) }, port, '/categories');
  try {
    const m = await measure(`${base.url}/categories`);
    baseline = m.rps;
    rows.push({ database: '—', name: 'baseline: bare Fastify, categories from memory', rps: m.rps, p50: m.p50, p99: m.p99 });
    console.log(`baseline ${m.rps.toFixed(0)} req/s`);
  } finally {
    await base.stop();
  }
  const databases = values.databases.split(',').filter(Boolean);
  for (const kind of databases) await catalogAndCarts(kind, dir);
  if (LARGE > 0) for (const kind of databases) await largeCatalog(kind, dir);
  mkdirSync(join(root, 'bench'), { recursive: true });
  writeFileSync(join(root, values.out), markdown());
  console.log(`\nwritten to ${values.out}`);
  agent.destroy();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

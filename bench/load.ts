import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { ROOT } from './servers.js';

/** One measured figure: throughput (requests or purchases per second) and latency in ms. */
export interface Measurement {
  rps: number;
  p50: number;
  p99: number;
}

/** Requests/s and latency of GETs on one URL, after a 1 s unrecorded warm-up (JIT, page cache). */
export async function measureGet(url: string, connections: number, duration: number): Promise<Measurement> {
  await autocannon({ url, connections, duration: 1 });
  const result = await autocannon({ url, connections, duration });
  const errors = result.errors + result.timeouts + result.non2xx;
  if (errors) throw new Error(`${url}: ${errors} errors, timeouts or non-2xx answers`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

/** Milliseconds one GET takes, measured once: the first request of a query, before any cache has it. */
export async function timeOnce(url: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url);
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
  return performance.now() - started;
}

function runClient(args: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/purchase-client.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`purchase client failed (${code}): ${err}`));
      resolve((JSON.parse(out) as { latencies: number[] }).latencies);
    });
  });
}

/**
 * Full purchases per second with `loops` concurrent purchase loops spread over `clients` client
 * processes. The gateway's balance is reset first, so that it never runs out during a run.
 */
export async function measurePurchases(
  store: string,
  gateway: string,
  productId: number,
  loops: number,
  clients: number,
  duration: number,
): Promise<Measurement> {
  const reset = await fetch(`${gateway}/reset`, { method: 'POST' });
  if (reset.status !== 200) throw new Error(`gateway reset answered ${reset.status}`);
  const processes = Math.min(clients, loops);
  const shares = Array.from({ length: processes }, (_, i) => Math.floor(loops / processes) + (i < loops % processes ? 1 : 0));
  // Each client runs its loops for `duration` from its own start (starting under tsx takes a moment).
  const all = (await Promise.all(shares.map((n) => runClient([store, gateway, String(productId), String(n), String(duration * 1000)])))).flat();
  all.sort((a, b) => a - b);
  const at = (q: number) => all[Math.min(all.length - 1, Math.floor(q * all.length))] ?? NaN;
  return { rps: all.length / duration, p50: at(0.5), p99: at(0.99) };
}

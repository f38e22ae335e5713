import { measureGet, type Measurement } from './load.js';
import { CATALOG_MIX } from './mix.js';
import type { BenchOptions } from './options.js';
import type { Row } from './report.js';
import { databaseUrl, dropDatabase, startStore, type Tree } from './servers.js';

/**
 * The cost of the event timeline on the hot path (issue 10): the root catalog reads of the mix on
 * two stores, one with ROOT_EVENTS=off (the default: nothing is recorded at the root) and
 * one with ROOT_EVENTS=all (a `request` event per read, written after the answer), measured alternately
 * `rounds` times. Each "on" row's name carries its ratio to the "off" figure.
 */
export async function eventsBench(kind: string, tree: Tree, dir: string, prefix: string[], baseline: number, options: BenchOptions): Promise<Row[]> {
  const settings = [
    { label: 'ROOT_EVENTS=off (default)', tag: 'evoff', env: { ROOT_EVENTS: 'off' } },
    { label: 'ROOT_EVENTS=all', tag: 'evon', env: { ROOT_EVENTS: 'all' } },
  ];
  const stores = [];
  try {
    for (const s of settings) {
      await dropDatabase(kind, s.tag);
      stores.push(await startStore(tree, databaseUrl(kind, dir, s.tag), prefix, s.env));
    }
    const rows: Row[] = [];
    for (const path of CATALOG_MIX) {
      const results: Measurement[][] = settings.map(() => []);
      for (let round = 0; round < options.rounds; round++) {
        const order = round % 2 === 0 ? [0, 1] : [1, 0];
        for (const i of order) results[i]!.push(await measureGet(stores[i]!.url + path, options.connections, options.duration));
      }
      const means = results.map((ms) => ({
        rps: ms.reduce((s, m) => s + m.rps, 0) / ms.length,
        p50: ms.reduce((s, m) => s + m.p50, 0) / ms.length,
        p99: ms.reduce((s, m) => s + m.p99, 0) / ms.length,
      }));
      settings.forEach((s, i) => {
        const ratio = i === 0 ? '' : ` (${((means[i]!.rps / means[0]!.rps) * 100).toFixed(0)}% of off)`;
        const name = `events: GET ${path}, ${s.label}${ratio}`;
        rows.push({ database: kind, name, tree: tree.label, baseline, ...means[i]! });
        console.log(`${kind.padEnd(9)} ${name.padEnd(100)} ${means[i]!.rps.toFixed(0).padStart(6)}/s  p50 ${means[i]!.p50.toFixed(1)}  p99 ${means[i]!.p99.toFixed(1)} ms`);
      });
    }
    return rows;
  } finally {
    await Promise.all(stores.map((s) => s.stop()));
    for (const s of settings) await dropDatabase(kind, s.tag);
  }
}

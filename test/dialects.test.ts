import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, freshDatabaseUrl, startStore, testDialect, type ServerProcess } from './helpers/processes.js';

const root = new URL('..', import.meta.url).pathname;
const QUERIES = [
  '', 'keyboard', 'KEYBOARD', 'Key', 'e', 'ar', 'pro 1', '%', '_', '50%', 'a_b', '\\', "'", '"', "o'", 'é', '—', 'ü', '日本',
  'wireless', 'steel', 'with', ' ', '  ', 'usb-c', 'headphones 12', 'mini', 'zzz', '100', '.', 'cherry mx', '4k', 'T-SHIRT',
];
const VARIANTS = ['', '&sort_by=name', '&sort_by=price&order=desc', '&sort_by=rating&in_stock=true', '&category_id=2&min_rating=3'];

function seedGenerated(databaseUrl: string, products: number): void {
  execFileSync(process.execPath, ['--import', 'tsx', 'src/db/cli.ts', 'seed', '--products', String(products)], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: 'pipe',
  });
}

/** Serves the catalog from SQL whatever its size, so that the SQL plans are what is compared. */
const SQL_ONLY = { CATALOG_MEMORY_PRODUCTS: '0' };

/**
 * SQLite (FTS5 trigram + LIKE), PostgreSQL (pg_trgm + LIKE) and the in-memory copy a small
 * catalog is served from must answer every search identically.
 */
describe.runIf(testDialect() === 'sqlite' && inject('postgresAvailable'))('search gives identical results on SQLite, PostgreSQL and from memory', () => {
  const pairs: { name: string; sqlite: ServerProcess; postgres: ServerProcess; memory: ServerProcess }[] = [];

  beforeAll(async () => {
    const urls = { seed: [freshDatabaseUrl('sqlite'), freshDatabaseUrl('postgres')], generated: [freshDatabaseUrl('sqlite'), freshDatabaseUrl('postgres')] };
    for (const url of urls.generated) seedGenerated(url, 3000);
    for (const [name, [sqliteUrl, postgresUrl]] of Object.entries(urls)) {
      const [sqlite, postgres, memory] = await Promise.all([
        startStore({ databaseUrl: sqliteUrl, env: SQL_ONLY }),
        startStore({ databaseUrl: postgresUrl, env: SQL_ONLY }),
        startStore({ databaseUrl: postgresUrl }),
      ]);
      pairs.push({ name, sqlite, postgres, memory });
    }
  });
  afterAll(async () => {
    await Promise.all(pairs.flatMap((p) => [p.sqlite.stop(), p.postgres.stop(), p.memory.stop()]));
  });

  it('for every query and sort, on the seed catalog and on 3000 generated products', async () => {
    expect(pairs).toHaveLength(2);
    for (const { name, sqlite, postgres, memory } of pairs) {
      let compared = 0;
      for (const search of QUERIES) {
        for (const variant of VARIANTS) {
          const path = `/products?search=${encodeURIComponent(search)}&page_size=100${variant}`;
          const [left, right, fromMemory] = await Promise.all([sqlite, postgres, memory].map((s) => call('GET', s.url + path)));
          expect(left!.status, `${name} ${path}`).toBe(200);
          expect(right!.body, `${name} ${path}`).toEqual(left!.body);
          expect(fromMemory!.body, `${name} ${path}`).toEqual(left!.body);
          compared += left!.body.products.length;
        }
      }
      expect(compared, name).toBeGreaterThan(name === 'seed' ? 100 : 1000);
    }
  });
});

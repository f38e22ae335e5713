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

/** SQLite (FTS5 trigram + LIKE) and PostgreSQL (pg_trgm + LIKE) must answer every search identically. */
describe.runIf(testDialect() === 'sqlite' && inject('postgresAvailable'))('search gives identical results on SQLite and PostgreSQL', () => {
  const pairs: { name: string; sqlite: ServerProcess; postgres: ServerProcess }[] = [];

  beforeAll(async () => {
    const urls = { seed: [freshDatabaseUrl('sqlite'), freshDatabaseUrl('postgres')], generated: [freshDatabaseUrl('sqlite'), freshDatabaseUrl('postgres')] };
    for (const url of urls.generated) seedGenerated(url, 3000);
    for (const [name, [sqliteUrl, postgresUrl]] of Object.entries(urls)) {
      const [sqlite, postgres] = await Promise.all([startStore({ databaseUrl: sqliteUrl }), startStore({ databaseUrl: postgresUrl })]);
      pairs.push({ name, sqlite, postgres });
    }
  });
  afterAll(async () => {
    await Promise.all(pairs.flatMap((p) => [p.sqlite.stop(), p.postgres.stop()]));
  });

  it('for every query and sort, on the seed catalog and on 3000 generated products', async () => {
    expect(pairs).toHaveLength(2);
    for (const { name, sqlite, postgres } of pairs) {
      let compared = 0;
      for (const search of QUERIES) {
        for (const variant of VARIANTS) {
          const path = `/products?search=${encodeURIComponent(search)}&page_size=100${variant}`;
          const [left, right] = await Promise.all([call('GET', sqlite.url + path), call('GET', postgres.url + path)]);
          expect(left.status, `${name} ${path}`).toBe(200);
          expect(right.body, `${name} ${path}`).toEqual(left.body);
          compared += left.body.products.length;
        }
      }
      expect(compared, name).toBeGreaterThan(name === 'seed' ? 100 : 1000);
    }
  });
});

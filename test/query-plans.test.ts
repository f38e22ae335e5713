import { readFileSync } from 'node:fs';
import type { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG_MIX, LARGE_MIX } from '../bench/mix.js';
import type { ProductQuery } from '../src/catalog/model.js';
import { CatalogRepository } from '../src/catalog/repository.js';
import { generateProducts } from '../src/db/generate.js';
import type { Database } from '../src/db/database.js';
import type { StoreSchema } from '../src/db/schema.js';
import { resetStore, type SeedCatalog } from '../src/db/seed.js';
import { explainPlan, openRecordingStore } from './helpers/plans.js';

/**
 * Every statement the benchmark's catalog requests issue when a catalog is served from SQL (the
 * million-product case) is EXPLAINed on the project's database; a full scan of the products table
 * fails. PostgreSQL is asked with enable_seqscan off: a Seq Scan then means no index can serve
 * the statement at all, whatever the table's size. (Loading a small catalog into memory reads the
 * whole table by design and is not part of this.)
 */
const seed = JSON.parse(readFileSync(new URL('../seed/catalog.json', import.meta.url), 'utf8')) as SeedCatalog;
const NUMBERS = new Set(['category_id', 'min_price', 'max_price', 'min_rating', 'page', 'page_size']);

function productQuery(search: string): ProductQuery {
  const query: Record<string, unknown> = { page: 1, page_size: 10 };
  for (const [name, value] of new URLSearchParams(search)) {
    query[name] = NUMBERS.has(name) ? Number(value) : name === 'in_stock' ? value === 'true' : value;
  }
  return query as unknown as ProductQuery;
}

describe('query plans of the benchmark mix', () => {
  let database: Database<StoreSchema>;
  let repo: CatalogRepository;
  let issued: CompiledQuery[] = [];

  beforeAll(async () => {
    ({ database, issued } = await openRecordingStore());
    await resetStore(database, seed.categories, generateProducts(12_000, seed.categories));
    repo = new CatalogRepository(database.db, database.dialect);
  });
  afterAll(async () => {
    await database?.close();
  });

  /** The statements one request of the mix issues, through the repository as the SQL-served catalog runs them. */
  async function statementsOf(path: string): Promise<CompiledQuery[]> {
    issued.length = 0;
    await repo.state();
    const [route, search = ''] = path.split('?');
    const detail = /^\/products\/(\d+)$/.exec(route!);
    if (route === '/categories') await repo.categories();
    else if (detail) await repo.productWithCategory(Number(detail[1]));
    else await repo.products(productQuery(search));
    return [...issued];
  }

  const plan = (query: CompiledQuery) => explainPlan(database, query);

  const fullScan = (text: string): boolean => /^SCAN (products|p)$/m.test(text) || /Seq Scan on products/.test(text);

  it.each([...new Set([...CATALOG_MIX, ...LARGE_MIX])])('%s reads products through an index', async (path) => {
    const statements = await statementsOf(path);
    expect(statements.length).toBeGreaterThan(1);
    for (const statement of statements) {
      const text = await plan(statement);
      expect(fullScan(text), `${statement.sql}\n${text}`).toBe(false);
    }
  });
});

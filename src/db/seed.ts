import { readFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import { matchKeys, type Product } from '../catalog/model.js';
import { MAX_AMOUNT, MAX_INT32 } from '../http/schemas.js';
import { toCents } from '../shared/money.js';
import { ok } from '../shared/result.js';
import type { Database } from './database.js';
import type { CategoryRow, ProductRow, StoreSchema } from './schema.js';

/** The seed file format: the same as the old servers' catalog.json. */
export interface SeedCatalog {
  categories: CategoryRow[];
  products: Product[];
}

const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isText = (v: unknown): v is string => typeof v === 'string';

/**
 * Reads and checks a seed file (format: README, "Catalog file"); a bad one fails with the file
 * name and the first offending field, e.g. `products[3].price must be a number from 0 to ...`.
 */
export function readSeedFile(path: string): SeedCatalog {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read seed file ${path}: ${(error as Error).message}`);
  }
  const seed = data as SeedCatalog;
  if (!Array.isArray(seed?.categories) || !Array.isArray(seed?.products)) {
    throw new Error(`Seed file ${path} must be an object with "categories" and "products" arrays`);
  }
  const fail = (where: string, problem: string): never => {
    throw new Error(`Seed file ${path}: ${where} ${problem}`);
  };
  const categoryIds = new Set<number>();
  seed.categories.forEach((c, i) => {
    const at = `categories[${i}]`;
    if (c === null || typeof c !== 'object') fail(at, 'must be an object {id, name, slug}');
    if (!isInt(c.id)) fail(`${at}.id`, `must be a whole number, got ${JSON.stringify(c.id)}`);
    if (!isText(c.name)) fail(`${at}.name`, 'must be a string');
    if (!isText(c.slug)) fail(`${at}.slug`, 'must be a string');
    categoryIds.add(c.id);
  });
  seed.products.forEach((p, i) => {
    const at = `products[${i}]`;
    if (p === null || typeof p !== 'object') fail(at, 'must be an object {id, name, price, category_id, brand, rating, stock, description}');
    if (!isInt(p.id)) fail(`${at}.id`, `must be a whole number, got ${JSON.stringify(p.id)}`);
    for (const field of ['name', 'brand', 'description'] as const) if (!isText(p[field])) fail(`${at}.${field}`, 'must be a string');
    const price = p.price;
    if (typeof price !== 'number' || price < 0 || price > MAX_AMOUNT || Math.abs(price * 100 - toCents(price)) >= 1e-6) {
      fail(`${at}.price`, `must be a number from 0 to ${MAX_AMOUNT} with at most two decimals, got ${JSON.stringify(price)}`);
    }
    if (typeof p.rating !== 'number' || p.rating < 0 || p.rating > 5) fail(`${at}.rating`, `must be a number from 0 to 5, got ${JSON.stringify(p.rating)}`);
    if (!isInt(p.stock) || p.stock < 0 || p.stock > MAX_INT32) fail(`${at}.stock`, `must be a whole number from 0 to ${MAX_INT32}, got ${JSON.stringify(p.stock)}`);
    if (!categoryIds.has(p.category_id)) fail(`${at}.category_id`, `must be the id of a category in the file, got ${JSON.stringify(p.category_id)}`);
  });
  return seed;
}

type SeedProduct = SeedCatalog['products'][number];

const toRow = (p: SeedProduct): ProductRow => ({
  id: p.id,
  name: p.name,
  price_cents: toCents(p.price),
  category_id: p.category_id,
  brand: p.brand,
  rating: p.rating,
  stock: p.stock,
  description: p.description,
  ...matchKeys(p),
});

const BATCH = 500;

/** Inserts products in batches (both dialects cap the number of bound parameters per statement). */
async function insertCatalog(db: Kysely<StoreSchema>, categories: CategoryRow[], products: Iterable<SeedProduct>): Promise<number> {
  await db.insertInto('categories').values(categories).onConflict((oc) => oc.column('id').doNothing()).execute();
  let batch: ProductRow[] = [];
  let count = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await db.insertInto('products').values(batch).onConflict((oc) => oc.column('id').doNothing()).execute();
    count += batch.length;
    batch = [];
  };
  for (const product of products) {
    batch.push(toRow(product));
    if (batch.length === BATCH) await flush();
  }
  await flush();
  return count;
}

/** Seeds an empty catalog; does nothing when the catalog already has categories. Safe to race. */
export async function seedIfEmpty(database: Database<StoreSchema>, seed: () => SeedCatalog): Promise<boolean> {
  const existing = await database.db.selectFrom('categories').select('id').limit(1).executeTakeFirst();
  if (existing) return false;
  const catalog = seed();
  const result = await database.transact(async (trx) => {
    const again = await trx.selectFrom('categories').select('id').limit(1).executeTakeFirst();
    if (again) return ok(false);
    await insertCatalog(trx, catalog.categories, catalog.products);
    return ok(true);
  });
  return result.ok && result.value;
}

/** Empties every table of the store (orders, carts, catalog) and loads the given catalog, in one transaction. */
export async function resetStore(database: Database<StoreSchema>, categories: CategoryRow[], products: Iterable<SeedProduct>): Promise<number> {
  const result = await database.transact(async (trx) => {
    for (const table of ['idempotency_keys', 'order_items', 'orders', 'cart_items', 'carts', 'products', 'categories'] as const) {
      await trx.deleteFrom(table).execute();
    }
    return ok(await insertCatalog(trx, categories, products));
  });
  return result.ok ? result.value : 0;
}

import { readFileSync } from 'node:fs';
import { matchKeys, type Product } from '../catalog/model.js';
import { MAX_AMOUNT, MAX_INT32 } from '../http/schemas.js';
import type { ShopDb } from '../sandboxes/shop.js';
import { toCents } from '../shared/money.js';
import { ok } from '../shared/result.js';
import type { Database } from './database.js';
import type { CategoryRow, Keyed, ProductRow, StoreSchema } from './schema.js';

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
  const problem = catalogProblem(data);
  if (problem) throw new Error(`Seed file ${path}${problem.startsWith('must') ? ' ' : ': '}${problem}`);
  return data as SeedCatalog;
}

/**
 * The first thing wrong with a catalog in the seed file format (undefined: none), naming the
 * field: `products[3].price must be a number from 0 to ...`. Ids must be unique, and at most
 * `maxProducts` products are taken. Used for seed files and for catalogs sent to the API.
 */
export function catalogProblem(data: unknown, maxProducts = Number.MAX_SAFE_INTEGER): string | undefined {
  const seed = data as SeedCatalog;
  if (seed === null || typeof seed !== 'object' || !Array.isArray(seed.categories) || !Array.isArray(seed.products)) {
    return 'must be an object with "categories" and "products" arrays';
  }
  if (seed.products.length > maxProducts) return `has ${seed.products.length} products, more than the limit of ${maxProducts}`;
  const categoryIds = new Set<number>();
  const slugs = new Set<string>();
  for (const [i, c] of seed.categories.entries()) {
    const at = `categories[${i}]`;
    if (c === null || typeof c !== 'object') return `${at} must be an object {id, name, slug}`;
    if (!isInt(c.id) || c.id < -MAX_INT32 - 1 || c.id > MAX_INT32) return `${at}.id must be a whole number, got ${JSON.stringify(c.id)}`;
    if (categoryIds.has(c.id)) return `${at}.id ${c.id} appears twice`;
    if (!isText(c.name)) return `${at}.name must be a string`;
    if (!isText(c.slug)) return `${at}.slug must be a string`;
    if (slugs.has(c.slug)) return `${at}.slug '${c.slug}' appears twice`;
    categoryIds.add(c.id);
    slugs.add(c.slug);
  }
  const productIds = new Set<number>();
  for (const [i, p] of seed.products.entries()) {
    const problem = productProblem(p, categoryIds);
    if (problem) return `products[${i}]${problem}`;
    if (productIds.has(p.id)) return `products[${i}].id ${p.id} appears twice`;
    productIds.add(p.id);
  }
  return undefined;
}

/** The problem of a catalog sent to the API, worded from its field: `catalog.products[3].price must be ...`. */
export function apiCatalogProblem(data: unknown, maxProducts: number): string | undefined {
  const problem = catalogProblem(data, maxProducts);
  if (problem === undefined) return undefined;
  return /^(must|has) /.test(problem) ? `catalog ${problem}` : `catalog.${problem}`;
}

/** What is wrong with one product of a catalog (`.price must be ...`), or undefined. */
function productProblem(p: Product, categoryIds: Set<number>): string | undefined {
  if (p === null || typeof p !== 'object') return ' must be an object {id, name, price, category_id, brand, rating, stock, description}';
  if (!isInt(p.id) || p.id < -MAX_INT32 - 1 || p.id > MAX_INT32) return `.id must be a whole number, got ${JSON.stringify(p.id)}`;
  for (const field of ['name', 'brand', 'description'] as const) if (!isText(p[field])) return `.${field} must be a string`;
  const price = p.price;
  if (typeof price !== 'number' || price < 0 || price > MAX_AMOUNT || Math.abs(price * 100 - toCents(price)) >= 1e-6) {
    return `.price must be a number from 0 to ${MAX_AMOUNT} with at most two decimals, got ${JSON.stringify(price)}`;
  }
  if (typeof p.rating !== 'number' || p.rating < 0 || p.rating > 5) return `.rating must be a number from 0 to 5, got ${JSON.stringify(p.rating)}`;
  if (!isInt(p.stock) || p.stock < 0 || p.stock > MAX_INT32) return `.stock must be a whole number from 0 to ${MAX_INT32}, got ${JSON.stringify(p.stock)}`;
  if (!categoryIds.has(p.category_id)) return `.category_id must be the id of a category in the file, got ${JSON.stringify(p.category_id)}`;
  return undefined;
}

type SeedProduct = SeedCatalog['products'][number];

/** A catalog product as stored (cents, match keys). */
export const toRow = (p: SeedProduct): ProductRow => ({
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

/** Inserts a catalog into a sandbox, products in batches (both dialects cap the bound parameters per statement). */
export async function insertCatalog(db: ShopDb, categories: CategoryRow[], products: Iterable<SeedProduct>): Promise<number> {
  const sandbox = db.key;
  if (categories.length > 0) {
    await db.q
      .insertInto('categories')
      .values(categories.map((c) => ({ sandbox, id: c.id, name: c.name, slug: c.slug })))
      .onConflict((oc) => oc.columns(['sandbox', 'id']).doNothing())
      .execute();
  }
  let batch: Keyed<ProductRow>[] = [];
  let count = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await db.q.insertInto('products').values(batch).onConflict((oc) => oc.columns(['sandbox', 'id']).doNothing()).execute();
    count += batch.length;
    batch = [];
  };
  for (const product of products) {
    batch.push({ sandbox, ...toRow(product) });
    if (batch.length === BATCH) await flush();
  }
  await flush();
  return count;
}

/** Removes a sandbox's catalog (products, then categories). */
export async function deleteCatalog(db: ShopDb): Promise<void> {
  await db.q.deleteFrom('products').where('sandbox', '=', db.key).execute();
  await db.q.deleteFrom('categories').where('sandbox', '=', db.key).execute();
}

/**
 * First start: seeds the root shop's empty catalog, and creates the template that new
 * default-catalog sandboxes (and the root's reset) copy from, both from the seed file. Does
 * nothing that is already done; safe to race. Returns whether the root was seeded.
 */
export async function seedIfEmpty(database: Database<StoreSchema>, seed: () => SeedCatalog): Promise<boolean> {
  const root = await database.db.selectFrom('categories').select('id').where('sandbox', '=', 0).limit(1).executeTakeFirst();
  const template = await database.db.selectFrom('sandboxes').select('sandbox').where('kind', '=', 'template').executeTakeFirst();
  if (root && template) return false;
  const catalog = seed();
  const result = await database.transact(async (trx) => {
    let seeded = false;
    if (!(await trx.selectFrom('categories').select('id').where('sandbox', '=', 0).limit(1).executeTakeFirst())) {
      await insertCatalog({ q: trx, key: 0 }, catalog.categories, catalog.products);
      seeded = true;
    }
    if (!(await trx.selectFrom('sandboxes').select('sandbox').where('kind', '=', 'template').executeTakeFirst())) {
      const now = Date.now();
      const row = await trx
        .insertInto('sandboxes')
        .values({ kind: 'template', created_at: now, last_used_at: now })
        .returning('sandbox')
        .executeTakeFirstOrThrow();
      await trx.insertInto('catalog_version').values({ sandbox: row.sandbox, version: 0 }).execute();
      await insertCatalog({ q: trx, key: row.sandbox }, catalog.categories, catalog.products);
      await trx.updateTable('sandboxes').set({ origin: row.sandbox }).where('sandbox', '=', 0).execute();
    }
    return ok(seeded);
  });
  return result.ok && result.value;
}

/** The root shop's tables, children first. */
const ROOT_TABLES = ['idempotency_keys', 'refunded_payments', 'order_items', 'orders', 'cart_items', 'carts', 'products', 'categories'] as const;

/**
 * Empties the root shop (orders, carts, catalog) and loads the given catalog, in one
 * transaction. Sandboxes other than the root are left as they are.
 */
export async function resetStore(database: Database<StoreSchema>, categories: CategoryRow[], products: Iterable<SeedProduct>): Promise<number> {
  const result = await database.transact(async (trx) => {
    for (const table of ROOT_TABLES) await trx.deleteFrom(table).where('sandbox', '=', 0).execute();
    return ok(await insertCatalog({ q: trx, key: 0 }, categories, products));
  });
  return result.ok ? result.value : 0;
}

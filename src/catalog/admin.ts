import type { Category, Product } from './model.js';
import { toProduct } from './model.js';
import { apiCatalogProblem, deleteCatalog, insertCatalog, toRow, type SeedCatalog } from '../db/seed.js';
import type { Shop, ShopDb } from '../sandboxes/shop.js';
import { toCents } from '../shared/money.js';
import { fail, ok, type Result } from '../shared/result.js';
import { PRODUCT_COLUMNS } from './model.js';

export type ProductChanges = Partial<Omit<Product, 'id'>>;
export type CategoryChanges = Partial<Omit<Category, 'id'>>;

const productNotFound = () => fail('not_found', 'Product not found');
const badPrice = (price: number | undefined): boolean => price !== undefined && Math.abs(price * 100 - toCents(price)) >= 1e-6;
const BAD_PRICE = 'price must have at most two decimals';
const categoryNotFound = () => fail('not_found', 'Category not found');

async function findProduct(db: ShopDb, id: number): Promise<Product | undefined> {
  const row = await db.q.selectFrom('products').select(PRODUCT_COLUMNS).where('sandbox', '=', db.key).where('id', '=', id).executeTakeFirst();
  return row && toProduct(row);
}

async function findCategory(db: ShopDb, id: number): Promise<Category | undefined> {
  return db.q.selectFrom('categories').select(['id', 'name', 'slug']).where('sandbox', '=', db.key).where('id', '=', id).executeTakeFirst();
}

async function slugTaken(db: ShopDb, slug: string, except?: number): Promise<boolean> {
  let query = db.q.selectFrom('categories').select('id').where('sandbox', '=', db.key).where('slug', '=', slug);
  if (except !== undefined) query = query.where('id', '<>', except);
  return (await query.executeTakeFirst()) !== undefined;
}

/**
 * Catalog administration of one shop (spec/sandboxes.md section 1): products and categories
 * added, changed and removed, or the whole catalog replaced, each in one transaction. Stock set
 * here is what can still be sold; holds of pending orders stay as they are. A product removed
 * while in carts or pending orders: see README "Sandboxes", deletion.
 */
export class CatalogAdmin {
  constructor(private readonly shop: Shop) {}

  addProduct(product: Product): Promise<Result<Product>> {
    if (badPrice(product.price)) return Promise.resolve(fail('invalid', BAD_PRICE));
    return this.shop.transact(async ({ db }) => {
      if (await findProduct(db, product.id)) return fail('exists', 'Product already exists');
      if (!(await findCategory(db, product.category_id))) return fail('invalid', `category_id ${product.category_id} is not a category of this catalog`);
      await insertCatalog(db, [], [product]);
      return ok((await findProduct(db, product.id))!);
    });
  }

  changeProduct(id: number, changes: ProductChanges): Promise<Result<Product>> {
    if (badPrice(changes.price)) return Promise.resolve(fail('invalid', BAD_PRICE));
    return this.shop.transact(async ({ db }) => {
      const current = await findProduct(db, id);
      if (!current) return productNotFound();
      const next = { ...current, ...changes };
      if (changes.category_id !== undefined && !(await findCategory(db, changes.category_id))) {
        return fail('invalid', `category_id ${changes.category_id} is not a category of this catalog`);
      }
      const { id: _id, ...row } = toRow(next);
      await db.q.updateTable('products').set(row).where('sandbox', '=', db.key).where('id', '=', id).execute();
      return ok((await findProduct(db, id))!);
    });
  }

  deleteProduct(id: number): Promise<Result<void>> {
    return this.shop.transact(async ({ db }) => {
      const result = await db.q.deleteFrom('products').where('sandbox', '=', db.key).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1 ? ok(undefined) : productNotFound();
    });
  }

  addCategory(category: Category): Promise<Result<Category>> {
    return this.shop.transact(async ({ db }) => {
      if (await findCategory(db, category.id)) return fail('exists', 'Category already exists');
      if (await slugTaken(db, category.slug)) return fail('exists', `Slug '${category.slug}' is taken`);
      await insertCatalog(db, [category], []);
      return ok(category);
    });
  }

  changeCategory(id: number, changes: CategoryChanges): Promise<Result<Category>> {
    return this.shop.transact(async ({ db }) => {
      const current = await findCategory(db, id);
      if (!current) return categoryNotFound();
      if (changes.slug !== undefined && (await slugTaken(db, changes.slug, id))) return fail('exists', `Slug '${changes.slug}' is taken`);
      const next = { ...current, ...changes };
      await db.q.updateTable('categories').set({ name: next.name, slug: next.slug }).where('sandbox', '=', db.key).where('id', '=', id).execute();
      return ok(next);
    });
  }

  deleteCategory(id: number): Promise<Result<void>> {
    return this.shop.transact(async ({ db }) => {
      if (!(await findCategory(db, id))) return categoryNotFound();
      const product = await db.q.selectFrom('products').select('id').where('sandbox', '=', db.key).where('category_id', '=', id).executeTakeFirst();
      if (product) return fail('exists', 'Category has products: move or delete them first');
      await db.q.deleteFrom('categories').where('sandbox', '=', db.key).where('id', '=', id).execute();
      return ok(undefined);
    });
  }

  /** Replaces the whole catalog (validated as a seed file is); carts and orders stay. */
  replaceCatalog(catalog: unknown, maxProducts: number): Promise<Result<{ categories: number; products: number }>> {
    const problem = apiCatalogProblem(catalog, maxProducts);
    if (problem) return Promise.resolve(fail('invalid', problem));
    const { categories, products } = catalog as SeedCatalog;
    return this.shop.transact(async ({ db }) => {
      await deleteCatalog(db);
      const count = await insertCatalog(db, categories, products);
      return ok({ categories: categories.length, products: count });
    });
  }
}

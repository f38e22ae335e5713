import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { StoreSchema } from '../db/schema.js';
import { centsAtLeast, centsAtMost } from '../shared/money.js';
import { PRODUCT_COLUMNS, isStorableId, type Category, type ProductColumns, type ProductQuery } from './model.js';

type ProductsQuery = SelectQueryBuilder<StoreSchema, 'products', object>;

/** `%` and `_` are ordinary characters in a search: escape them (and the escape character) for LIKE. */
const likeContains = (term: string): string => `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const SORT_COLUMN = { price: 'price_cents', rating: 'rating', name: 'name' } as const;

/** Catalog reads. Every query here is plain SQL that PostgreSQL and SQLite evaluate identically. */
export class CatalogRepository {
  constructor(
    private readonly db: Kysely<StoreSchema>,
    private readonly dialect: Dialect,
  ) {}

  categories(): Promise<Category[]> {
    return this.db.selectFrom('categories').select(['id', 'name', 'slug']).orderBy('id').execute();
  }

  category(id: number): Promise<Category | undefined> {
    if (!isStorableId(id)) return Promise.resolve(undefined);
    return this.db.selectFrom('categories').select(['id', 'name', 'slug']).where('id', '=', id).executeTakeFirst();
  }

  product(id: number): Promise<ProductColumns | undefined> {
    if (!isStorableId(id)) return Promise.resolve(undefined);
    return this.db.selectFrom('products').select(PRODUCT_COLUMNS).where('id', '=', id).executeTakeFirst();
  }

  related(product: ProductColumns, limit: number): Promise<ProductColumns[]> {
    return this.db
      .selectFrom('products')
      .select(PRODUCT_COLUMNS)
      .where('category_id', '=', product.category_id)
      .where('id', '!=', product.id)
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  async brands(categoryId: number | undefined): Promise<string[]> {
    let query = this.db.selectFrom('products').select('brand').distinct();
    if (categoryId !== undefined) query = query.where('category_id', '=', isStorableId(categoryId) ? categoryId : 0);
    const rows = await query.orderBy('brand').execute();
    return rows.map((r) => r.brand);
  }

  private filtered(q: ProductQuery): ProductsQuery {
    let query: ProductsQuery = this.db.selectFrom('products');
    if (q.category_id !== undefined) query = query.where('category_id', '=', isStorableId(q.category_id) ? q.category_id : 0);
    if (q.brand !== undefined) query = query.where('brand_lc', '=', q.brand.toLowerCase());
    if (q.min_price !== undefined) query = query.where('price_cents', '>=', centsAtLeast(q.min_price));
    if (q.max_price !== undefined) query = query.where('price_cents', '<=', centsAtMost(q.max_price));
    if (q.min_rating !== undefined) query = query.where('rating', '>=', q.min_rating);
    if (q.in_stock === true) query = query.where('stock', '>', 0);
    if (q.search) {
      const term = q.search.toLowerCase();
      const pattern = likeContains(term);
      // On SQLite the trigram FTS index narrows the rows first (it needs 3+ characters); on
      // PostgreSQL the trigram GIN indexes serve the LIKE itself. The LIKE decides on both.
      if (this.dialect === 'sqlite' && [...term].length >= 3) {
        const phrase = `"${term.replace(/"/g, '""')}"`;
        query = query.where(sql<boolean>`id in (select rowid from products_fts where products_fts match ${phrase})`);
      }
      query = query.where((eb) =>
        eb.or([
          eb(sql`name_lc`, 'like', sql`${pattern} escape '\\'`),
          eb(sql`description_lc`, 'like', sql`${pattern} escape '\\'`),
        ]),
      );
    }
    return query;
  }

  async products(q: ProductQuery): Promise<{ total: number; rows: ProductColumns[] }> {
    const filtered = this.filtered(q);
    const counted = await filtered.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
    const total = Number(counted.total);
    const offset = (q.page - 1) * q.page_size;
    if (offset >= total) return { total, rows: [] };
    let page = filtered.select(PRODUCT_COLUMNS);
    // Ties keep id order in both directions: desc is not "asc reversed".
    if (q.sort_by) page = page.orderBy(SORT_COLUMN[q.sort_by], q.order ?? 'asc');
    const rows = await page.orderBy('id').limit(q.page_size).offset(offset).execute();
    return { total, rows };
  }
}

import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Dialect } from '../db/database.js';
import { prepare } from '../db/prepared.js';
import type { StoreSchema } from '../db/schema.js';
import { centsAtLeast, centsAtMost } from '../shared/money.js';
import type { CatalogRow } from './snapshot.js';
import { PRODUCT_COLUMNS, isStorableId, type Category, type ProductColumns, type ProductQuery } from './model.js';

/** `%` and `_` are ordinary characters in a search: escape them (and the escape character) for LIKE. */
const likeContains = (term: string): string => `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const PRODUCT = sql.raw(PRODUCT_COLUMNS.join(', '));
const SORT_COLUMN = { price: sql.raw('price_cents'), rating: sql.raw('rating'), name: sql.raw('name') } as const;
const DIRECTION = { asc: sql.raw('asc'), desc: sql.raw('desc') } as const;

export interface CatalogState {
  version: number;
  next_deadline: number | null;
}

/** The state statement, compiled once for every sandbox (db/prepared.ts): it runs before every catalog read. */
const stateStatement = prepare((_db: Kysely<StoreSchema>, p: { key: number }) =>
  sql<CatalogState>`select version, (select min(expires_at) from orders
    where sandbox = ${p.key} and status = 'pending_payment') as next_deadline from catalog_version where sandbox = ${p.key}`);

/**
 * Catalog reads: the hottest paths of the store. They are written as SQL templates rather than
 * with the query builder because building and compiling a query costs several times more than
 * SQLite takes to run it; the SQL is plain and evaluates identically on PostgreSQL and SQLite.
 * Every statement is about one sandbox: `sandbox = <key>` is its first condition.
 */
export class CatalogRepository {
  constructor(
    private readonly db: Kysely<StoreSchema>,
    private readonly dialect: Dialect,
    /** The sandbox read (0: the root shop). */
    private readonly key = 0,
  ) {}

  private async all<T>(query: RawBuilder<T>): Promise<T[]> {
    return (await query.execute(this.db)).rows;
  }

  /**
   * What every catalog read checks first, in one statement: the catalog version (moves with any
   * change to products or categories, in any process) and the earliest deadline of an order
   * still holding stock (epoch ms, null when none is pending).
   */
  async state(): Promise<CatalogState> {
    const row = await stateStatement.first(this.db, { key: this.key });
    return { version: Number(row?.version ?? 0), next_deadline: row?.next_deadline === null || row?.next_deadline === undefined ? null : Number(row.next_deadline) };
  }

  /** Up to `limit` products in id order, with their match keys: the copy a small catalog is served from. */
  catalogRows(limit: number): Promise<CatalogRow[]> {
    return this.all(sql<CatalogRow>`select ${PRODUCT}, brand_lc, name_lc, description_lc from products where sandbox = ${this.key} order by id limit ${limit}`);
  }

  categories(): Promise<Category[]> {
    return this.all(sql<Category>`select id, name, slug from categories where sandbox = ${this.key} order by id`);
  }

  async category(id: number): Promise<Category | undefined> {
    if (!isStorableId(id)) return undefined;
    return (await this.all(sql<Category>`select id, name, slug from categories where sandbox = ${this.key} and id = ${id}`))[0];
  }

  async product(id: number): Promise<ProductColumns | undefined> {
    if (!isStorableId(id)) return undefined;
    return (await this.all(sql<ProductColumns>`select ${PRODUCT} from products where sandbox = ${this.key} and id = ${id}`))[0];
  }

  /** The product and its category in one round trip (the detail page is read far more than written). */
  async productWithCategory(id: number): Promise<(ProductColumns & { category: Category }) | undefined> {
    if (!isStorableId(id)) return undefined;
    const [row] = await this.all(sql<ProductColumns & { c_name: string; c_slug: string }>`
      select p.id, p.name, p.price_cents, p.category_id, p.brand, p.rating, p.stock, p.description, c.name as c_name, c.slug as c_slug
      from products p join categories c on c.sandbox = p.sandbox and c.id = p.category_id where p.sandbox = ${this.key} and p.id = ${id}`);
    if (!row) return undefined;
    const { c_name, c_slug, ...product } = row;
    return { ...product, category: { id: product.category_id, name: c_name, slug: c_slug } };
  }

  related(product: ProductColumns, limit: number): Promise<ProductColumns[]> {
    return this.all(sql<ProductColumns>`select ${PRODUCT} from products
      where sandbox = ${this.key} and category_id = ${product.category_id} and id <> ${product.id} order by id limit ${limit}`);
  }

  async brands(categoryId: number | undefined): Promise<string[]> {
    const where = categoryId === undefined ? sql`` : sql`and category_id = ${isStorableId(categoryId) ? categoryId : 0}`;
    const rows = await this.all(sql<{ brand: string }>`select distinct brand from products where sandbox = ${this.key} ${where} order by brand`);
    return rows.map((r) => r.brand);
  }

  private async count(where: RawBuilder<unknown>): Promise<number> {
    const [counted] = await this.all(sql<{ total: number }>`select count(*) as total from products ${where}`);
    return Number(counted?.total ?? 0);
  }

  private conditions(q: ProductQuery, outOfStock: ReadonlySet<number> | undefined): RawBuilder<unknown> {
    const parts: RawBuilder<unknown>[] = [sql`sandbox = ${this.key}`];
    if (q.category_id !== undefined) parts.push(sql`category_id = ${isStorableId(q.category_id) ? q.category_id : 0}`);
    if (q.brand !== undefined) parts.push(sql`brand_lc = ${q.brand.toLowerCase()}`);
    if (q.min_price !== undefined) parts.push(sql`price_cents >= ${centsAtLeast(q.min_price)}`);
    if (q.max_price !== undefined) parts.push(sql`price_cents <= ${centsAtMost(q.max_price)}`);
    if (q.min_rating !== undefined) parts.push(sql`rating >= ${q.min_rating}`);
    if (q.in_stock === true) parts.push(sql`stock > 0`);
    if (q.in_stock === true && outOfStock?.size) parts.push(sql`id not in (${sql.join([...outOfStock])})`);
    if (q.search) {
      const term = q.search.toLowerCase();
      // On SQLite the trigram FTS index narrows the root's rows first (it needs 3+ characters;
      // it holds sandbox 0 only, so no sandbox pays for another's matches); on PostgreSQL the
      // trigram GIN indexes serve the LIKE itself. The LIKE decides on both.
      if (this.dialect === 'sqlite' && this.key === 0 && [...term].length >= 3) {
        parts.push(sql`rowid in (select rowid from products_fts where products_fts match ${`"${term.replace(/"/g, '""')}"`})`);
      }
      const pattern = likeContains(term);
      parts.push(sql`(name_lc like ${pattern} escape '\\' or description_lc like ${pattern} escape '\\')`);
    }
    return sql`where ${sql.join(parts, sql` and `)}`;
  }

  /**
   * One page of matches and their total; `knownTotal` (counted earlier for the same filters and
   * version) saves the count; `outOfStock` products read stock 0 (fault rules), so `in_stock` leaves them out.
   */
  async products(q: ProductQuery, knownTotal?: number, outOfStock?: ReadonlySet<number>): Promise<{ total: number; rows: ProductColumns[] }> {
    const where = this.conditions(q, outOfStock);
    const total = knownTotal ?? (await this.count(where));
    const offset = (q.page - 1) * q.page_size;
    if (offset >= total) return { total, rows: [] };
    // Ties keep id order in both directions: desc is not "asc reversed".
    const order = q.sort_by ? sql`${SORT_COLUMN[q.sort_by]} ${DIRECTION[q.order ?? 'asc']}, id` : sql`id`;
    const rows = await this.all(sql<ProductColumns>`select ${PRODUCT} from products ${where}
      order by ${order} limit ${q.page_size} offset ${offset}`);
    return { total, rows };
  }
}

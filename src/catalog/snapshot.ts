import { centsAtLeast, centsAtMost } from '../shared/money.js';
import type { Category, ProductColumns, ProductQuery, SortField, SortOrder } from './model.js';

/** A product row with the lower-cased text the filters match on (see `matchKeys`). */
export type CatalogRow = ProductColumns & { brand_lc: string; name_lc: string; description_lc: string };

/**
 * Compares strings by Unicode code point, as SQLite's BINARY and PostgreSQL's "C" collation do
 * (JavaScript's `<` compares UTF-16 units, which orders characters above U+FFFF differently).
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

const SORT_KEY: Record<SortField, (row: CatalogRow) => number | string> = {
  price: (r) => r.price_cents,
  rating: (r) => r.rating,
  name: (r) => r.name,
};

const compareKeys = (a: number | string, b: number | string): number =>
  typeof a === 'string' ? compareCodePoints(a, b as string) : a - (b as number);

/**
 * The whole catalog of one catalog version, in memory: a small catalog is filtered and sorted
 * faster by a scan here than by any statement. It answers exactly what the SQL in
 * CatalogRepository answers (same filters, same order, ties in id order in both directions).
 */
export class CatalogSnapshot {
  private readonly byId = new Map<number, CatalogRow>();
  private readonly categoryById = new Map<number, Category>();
  /** Rows in each sort order, built the first time that order is asked for. */
  private readonly orders = new Map<string, CatalogRow[]>();
  private readonly brandLists = new Map<number | undefined, string[]>();

  constructor(
    readonly version: number,
    /** In id order. */
    private readonly rows: CatalogRow[],
    readonly categories: Category[],
  ) {
    for (const row of rows) this.byId.set(row.id, row);
    for (const category of categories) this.categoryById.set(category.id, category);
  }

  product(id: number): CatalogRow | undefined {
    return this.byId.get(id);
  }

  category(id: number): Category | undefined {
    return this.categoryById.get(id);
  }

  related(product: ProductColumns, limit: number): CatalogRow[] {
    const found: CatalogRow[] = [];
    for (const row of this.rows) {
      if (found.length === limit) break;
      if (row.category_id === product.category_id && row.id !== product.id) found.push(row);
    }
    return found;
  }

  brands(categoryId: number | undefined): string[] {
    let list = this.brandLists.get(categoryId);
    if (!list) {
      const rows = categoryId === undefined ? this.rows : this.rows.filter((r) => r.category_id === categoryId);
      list = [...new Set(rows.map((r) => r.brand))].sort(compareCodePoints);
      this.brandLists.set(categoryId, list);
    }
    return list;
  }

  /** One page of matches and their total; `outOfStock` products read stock 0 (fault rules), so `in_stock` leaves them out. */
  products(q: ProductQuery, outOfStock?: ReadonlySet<number>): { total: number; rows: CatalogRow[] } {
    const matches = matcher(q, outOfStock);
    const offset = (q.page - 1) * q.page_size;
    const end = offset + q.page_size;
    const page: CatalogRow[] = [];
    let total = 0;
    for (const row of this.sorted(q.sort_by, q.order ?? 'asc')) {
      if (!matches(row)) continue;
      if (total >= offset && total < end) page.push(row);
      total++;
    }
    return { total, rows: page };
  }

  private sorted(field: SortField | undefined, order: SortOrder): CatalogRow[] {
    if (!field) return this.rows;
    const name = `${field} ${order}`;
    let sorted = this.orders.get(name);
    if (!sorted) {
      const key = SORT_KEY[field];
      const sign = order === 'asc' ? 1 : -1;
      sorted = [...this.rows].sort((a, b) => sign * compareKeys(key(a), key(b)) || a.id - b.id);
      this.orders.set(name, sorted);
    }
    return sorted;
  }
}

/** The filters of a listing as one predicate (the SQL twin is CatalogRepository's `conditions`). */
function matcher(q: ProductQuery, outOfStock: ReadonlySet<number> | undefined): (row: CatalogRow) => boolean {
  const tests: ((row: CatalogRow) => boolean)[] = [];
  if (q.category_id !== undefined) tests.push((r) => r.category_id === q.category_id);
  if (q.brand !== undefined) {
    const brand = q.brand.toLowerCase();
    tests.push((r) => r.brand_lc === brand);
  }
  if (q.min_price !== undefined) {
    const min = centsAtLeast(q.min_price);
    tests.push((r) => r.price_cents >= min);
  }
  if (q.max_price !== undefined) {
    const max = centsAtMost(q.max_price);
    tests.push((r) => r.price_cents <= max);
  }
  if (q.min_rating !== undefined) {
    const min = q.min_rating;
    tests.push((r) => r.rating >= min);
  }
  if (q.in_stock === true) tests.push(outOfStock?.size ? (r) => r.stock > 0 && !outOfStock.has(r.id) : (r) => r.stock > 0);
  if (q.search) {
    const term = q.search.toLowerCase();
    tests.push((r) => r.name_lc.includes(term) || r.description_lc.includes(term));
  }
  return (row) => tests.every((test) => test(row));
}

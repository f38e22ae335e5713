import { fail, ok, type Result } from '../shared/result.js';
import { toProduct, type Category, type Product, type ProductColumns, type ProductQuery } from './model.js';
import type { CatalogRepository, CatalogState } from './repository.js';
import { CatalogSnapshot } from './snapshot.js';
import type { Clock } from '../sandboxes/shop.js';
import { FreshRead } from '../shared/fresh-read.js';
import type { KeptRead } from '../shared/kept-read.js';

export interface ProductPage {
  total: number;
  page: number;
  page_size: number;
  products: Product[];
}

export type ProductDetail = Product & { category: Category };

export interface CatalogServiceOptions {
  /** The shop's clock: an order past its deadline on it no longer holds stock. */
  clock: Clock;
  /**
   * Returns the stock held by orders past their deadline (expires them). Called before a read
   * whenever such an order exists, so no read ever counts an expired hold.
   */
  releaseExpiredHolds: () => Promise<unknown>;
  /** The database's write mark (Database.writeMark, SQLite): while it is unchanged, the state read last is current. */
  writeMark?: (() => string) | undefined;
  /** Products that read stock 0 because of an out_of_stock fault rule (spec/sandboxes.md section 2); usually none. */
  outOfStock: () => Promise<ReadonlySet<number>>;
  /** True when this process knows, without reading anything, that the shop has no fault rule at all (so none changes stock). */
  knownNoFaultRules: () => boolean;
  /** Whether the shop has no fault rule at all, reading the rules when this process does not know. */
  noFaultRules: () => Promise<boolean>;
}

/** Listing pages (and, for SQL-served catalogs, match counts) kept per catalog version. */
const PAGE_CACHE_SIZE = 1000;

const productNotFound = () => fail('not_found', 'Product not found');

/** A product as shown: stock 0 while an out_of_stock fault rule names it (the row itself is untouched). */
const withStock = (product: Product, outOfStock: ReadonlySet<number>): Product => (outOfStock.has(product.id) ? { ...product, stock: 0 } : product);

/** The filters of a query in a fixed order: equal keys mean equal matches. */
const filterKey = (q: ProductQuery): string =>
  JSON.stringify([q.category_id, q.brand?.toLowerCase(), q.min_price, q.max_price, q.min_rating, q.in_stock === true, q.search?.toLowerCase()]);

const pageKey = (q: ProductQuery): string => `${filterKey(q)}|${q.sort_by ?? ''}|${q.order ?? 'asc'}|${q.page}|${q.page_size}`;

/**
 * What a process keeps of one sandbox's catalog between requests (ShopFactory holds one per
 * sandbox key): its in-memory copy when it is small, and the page and count caches of one version.
 */
export class CatalogCache {
  snapshot: CatalogSnapshot | undefined;
  /** Set once the catalog is found larger than memoryLimit: from then on SQL serves it. */
  large = false;
  loading: Promise<CatalogSnapshot | undefined> | undefined;
  releasing: Promise<unknown> | undefined;
  version = -1;
  readonly pages = new Map<string, ProductPage>();
  readonly totals = new Map<string, number>();
  /** Product details of this version by id: the same object each time, so its JSON can be kept too. */
  readonly details = new Map<number, ProductDetail>();
  /** Every answer ever put in the caches above (pages, details, a snapshot's categories), of any version. */
  readonly kept = new WeakSet<object>();
  /** Concurrent requests share one state statement (never one that began before they arrived). */
  readonly states = new FreshRead<CatalogState>();
  /** The state last read and the write mark taken just before reading it (SQLite). */
  marked: { mark: string; state: CatalogState } | undefined;

  /** Catalogs of at most memoryLimit products are served from memory; larger ones from SQL. */
  constructor(readonly memoryLimit = 10_000) {}
}

/**
 * Catalog reads of one shop. Each request first reads the catalog state (one small statement: the
 * catalog version, which every process's writes move, and the earliest pending deadline). While
 * the version is the one cached, a small catalog is answered from memory and repeated listings
 * from a page cache; a new version (a sale, a price change, in this process or another) drops
 * both, so stock shown is never older than the request.
 */
export class CatalogService {
  constructor(
    private readonly repo: CatalogRepository,
    private readonly cache: CatalogCache,
    private readonly options: CatalogServiceOptions,
  ) {}

  /**
   * True when this process can tell, without waiting, that what it keeps is current: SQLite's
   * write mark is the one taken before the cached state was read (nothing committed since, by any
   * process), that state is the cached version, no hold is past its deadline and the shop is known
   * to have no fault rule (nothing is read to find out). The `kept…` reads answer from the caches
   * only then; otherwise the caller takes the async path, which reads the state and the rules.
   */
  private settled(): boolean {
    const { marked, version } = this.cache;
    if (marked === undefined || marked.state.version !== version || this.options.writeMark?.() !== marked.mark) return false;
    const deadline = marked.state.next_deadline;
    return (deadline === null || deadline > this.options.clock.now()) && this.options.knownNoFaultRules();
  }

  /** `categories()` as a kept read: the in-memory catalog's list (a large catalog's is read each time, never kept). */
  categoriesRead(): KeptRead<Category[]> {
    const keptIn = (snapshot: CatalogSnapshot | undefined, version: number) => (snapshot && snapshot.version >= version ? snapshot.categories : undefined);
    return this.keptRead(
      () => keptIn(this.cache.snapshot, this.cache.version),
      ({ snapshot, version }) => keptIn(snapshot, version),
      () => this.categories().then(ok),
    );
  }

  /** `products(query)` as a kept read: the page cached for this query and version. */
  productsRead(query: ProductQuery): KeptRead<ProductPage> {
    const key = pageKey(query);
    const kept = () => this.cache.pages.get(key);
    return this.keptRead(kept, kept, () => this.products(query).then(ok));
  }

  /** `product(id)` as a kept read: the detail cached for this id and version. */
  productRead(id: number): KeptRead<ProductDetail> {
    const kept = () => this.cache.details.get(id);
    return this.keptRead(kept, kept, () => this.product(id));
  }

  /**
   * A kept read over the caches: `kept` finds the answer in them (`keptNow` without waiting,
   * `keptAfter` once the current catalog is known); `now` answers only while settled(), `current`
   * after reading the state and, unless known, the fault rules (a rule may change what a request
   * gets: the request hook applies latency and errors, out_of_stock changes stock).
   */
  private keptRead<T extends object>(
    keptNow: () => T | undefined,
    keptAfter: (catalog: { version: number; snapshot: CatalogSnapshot | undefined }) => T | undefined,
    read: () => Promise<Result<T>>,
  ): KeptRead<T> {
    return {
      now: () => (this.settled() ? keptNow() : undefined),
      current: async () => {
        if (!(await this.options.noFaultRules())) return undefined;
        return keptAfter(await this.current());
      },
      read,
      keeps: (value) => this.cache.kept.has(value),
    };
  }

  /** The catalog as of now: its version, and its in-memory copy when it is small. */
  private async current(): Promise<{ version: number; snapshot: CatalogSnapshot | undefined }> {
    const cache = this.cache;
    // SQLite: no write since the last state read (by any process) means that state still holds.
    const marked = cache.marked;
    let state = marked && this.options.writeMark?.() === marked.mark ? marked.state : await cache.states.read(this.readState);
    if (state.next_deadline !== null && state.next_deadline <= this.options.clock.now()) {
      cache.releasing ??= this.options.releaseExpiredHolds().finally(() => (cache.releasing = undefined));
      await cache.releasing;
      state = await cache.states.read(this.readState);
    }
    const { version } = state;
    if (version > cache.version) {
      cache.version = version;
      cache.pages.clear();
      cache.totals.clear();
      cache.details.clear();
    }
    if (cache.large) return { version, snapshot: undefined };
    if (cache.snapshot && cache.snapshot.version >= version) return { version, snapshot: cache.snapshot };
    cache.loading ??= this.load(version).finally(() => (cache.loading = undefined));
    const loaded = await cache.loading;
    // A load started for an older version may finish after this request read a newer one: load again.
    return loaded && loaded.version < version ? this.current() : { version, snapshot: loaded };
  }

  /** Reads the state, noting the write mark taken just before (a field: no closure per request). */
  private readonly readState = async (): Promise<CatalogState> => {
    const mark = this.options.writeMark?.();
    const read = await this.repo.state();
    if (mark !== undefined) this.cache.marked = { mark, state: read };
    return read;
  };

  private async load(version: number): Promise<CatalogSnapshot | undefined> {
    const { memoryLimit } = this.cache;
    const [rows, categories] = await Promise.all([this.repo.catalogRows(memoryLimit + 1), this.repo.categories()]);
    if (rows.length > memoryLimit) {
      this.cache.large = true;
      this.cache.snapshot = undefined;
      return undefined;
    }
    // Rows were read after the version: they are at least that new, never older.
    this.cache.snapshot = new CatalogSnapshot(version, rows, categories);
    this.cache.kept.add(this.cache.snapshot.categories);
    return this.cache.snapshot;
  }

  async categories(): Promise<Category[]> {
    const { snapshot } = await this.current();
    return snapshot ? snapshot.categories : this.repo.categories();
  }

  async category(id: number): Promise<Result<Category>> {
    const { snapshot } = await this.current();
    const category = snapshot ? snapshot.category(id) : await this.repo.category(id);
    return category ? ok(category) : fail('not_found', 'Category not found');
  }

  async products(query: ProductQuery): Promise<ProductPage> {
    const { version, snapshot } = await this.current();
    const outOfStock = await this.options.outOfStock();
    if (outOfStock.size > 0) {
      // Rare (a test sets the fault): computed afresh, never cached, so clearing the rule shows real stock at once.
      const { total, rows } = snapshot ? snapshot.products(query, outOfStock) : await this.repo.products(query, undefined, outOfStock);
      return { total, page: query.page, page_size: query.page_size, products: rows.map((row) => withStock(toProduct(row), outOfStock)) };
    }
    const key = pageKey(query);
    const cached = this.cache.pages.get(key);
    if (cached) return cached;
    const { total, rows } = snapshot ? snapshot.products(query) : await this.sqlProducts(query, version);
    const page = { total, page: query.page, page_size: query.page_size, products: rows.map(toProduct) };
    this.remember(version, this.cache.pages, key, page);
    return page;
  }

  /** SQL listing; the exact total (the costly part on a large catalog) is counted once per filter and version. */
  private async sqlProducts(query: ProductQuery, version: number): Promise<{ total: number; rows: ProductColumns[] }> {
    const key = filterKey(query);
    const result = await this.repo.products(query, this.cache.totals.get(key));
    this.remember(version, this.cache.totals, key, result.total);
    return result;
  }

  private remember<K, T>(version: number, cache: Map<K, T>, key: K, value: T): void {
    if (version !== this.cache.version) return;
    if (cache.size >= PAGE_CACHE_SIZE) cache.clear();
    cache.set(key, value);
    if (typeof value === 'object' && value !== null) this.cache.kept.add(value);
  }

  async product(id: number): Promise<Result<ProductDetail>> {
    const { version, snapshot } = await this.current();
    const outOfStock = await this.options.outOfStock();
    if (outOfStock.size === 0) {
      const cached = this.cache.details.get(id);
      if (cached) return ok(cached);
      const found = await this.productOf(id, snapshot, outOfStock);
      if (found.ok) this.remember(version, this.cache.details, id, found.value);
      return found;
    }
    return this.productOf(id, snapshot, outOfStock);
  }

  private async productOf(id: number, snapshot: CatalogSnapshot | undefined, outOfStock: ReadonlySet<number>): Promise<Result<ProductDetail>> {
    if (snapshot) {
      const row = snapshot.product(id);
      const category = row && snapshot.category(row.category_id);
      return row && category ? ok({ ...withStock(toProduct(row), outOfStock), category }) : productNotFound();
    }
    const row = await this.repo.productWithCategory(id);
    return row ? ok({ ...withStock(toProduct(row), outOfStock), category: row.category }) : productNotFound();
  }

  async related(id: number, limit: number): Promise<Result<Product[]>> {
    const { snapshot } = await this.current();
    const outOfStock = await this.options.outOfStock();
    const row = snapshot ? snapshot.product(id) : await this.repo.product(id);
    if (!row) return productNotFound();
    return ok((snapshot ? snapshot.related(row, limit) : await this.repo.related(row, limit)).map((r) => withStock(toProduct(r), outOfStock)));
  }

  async brands(categoryId: number | undefined): Promise<string[]> {
    const { snapshot } = await this.current();
    return snapshot ? snapshot.brands(categoryId) : this.repo.brands(categoryId);
  }
}

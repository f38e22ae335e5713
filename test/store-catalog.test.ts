import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { call, useStore } from './helpers/processes.js';
import type { Category, Product, ProductQuery } from '../src/catalog/model.js';

/**
 * Black-box tests of the store's catalog (GET /categories, /products, /products/{id},
 * /products/{id}/related, /brands) against docs/compatibility.md. Every expectation is computed
 * from seed/catalog.json with the contract's rules; this file never changes stock.
 */

const seed = JSON.parse(readFileSync(new URL('../seed/catalog.json', import.meta.url), 'utf8')) as {
  categories: Category[];
  products: Product[];
};
const byId = <T extends { id: number }>(a: T, b: T) => a.id - b.id;
const CATEGORIES = [...seed.categories].sort(byId);
const PRODUCTS = [...seed.products].sort(byId);
const PRODUCT_KEYS = ['id', 'name', 'price', 'category_id', 'brand', 'rating', 'stock', 'description'];
const CATEGORY_KEYS = ['id', 'name', 'slug'];

/** The contract's filter rules for GET /products. */
type Filters = Omit<ProductQuery, 'page' | 'page_size'>;

function expected(f: Filters): Product[] {
  const term = f.search?.toLowerCase();
  const matches = PRODUCTS.filter(
    (p) =>
      (f.category_id === undefined || p.category_id === f.category_id) &&
      (f.brand === undefined || p.brand.toLowerCase() === f.brand.toLowerCase()) &&
      (f.min_price === undefined || p.price >= f.min_price) &&
      (f.max_price === undefined || p.price <= f.max_price) &&
      (f.min_rating === undefined || p.rating >= f.min_rating) &&
      (f.in_stock !== true || p.stock > 0) &&
      (!term || p.name.toLowerCase().includes(term) || p.description.toLowerCase().includes(term)),
  );
  const key = f.sort_by;
  if (!key) return matches;
  const sign = f.order === 'desc' ? -1 : 1;
  // Stable: ties keep id order in both directions.
  return [...matches].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x < y) return -sign;
    if (x > y) return sign;
    return a.id - b.id;
  });
}

type Params = Record<string, string | number | boolean | undefined>;
const ids = (list: { id: number }[]) => list.map((p) => p.id);

describe('store catalog', () => {
  const store = useStore();

  const get = (path: string) => call('GET', `${store.url()}${path}`);
  const products = (params: Params = {}) => {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) query.set(k, String(v));
    return get(`/products?${query.toString()}`);
  };
  /** All matches on one page (page_size 100 covers the 25 seed products). */
  const all = async (params: Params) => {
    const res = await products({ ...params, page_size: 100 });
    expect(res.status, res.text).toBe(200);
    return res.body as { total: number; page: number; page_size: number; products: Product[] };
  };
  const expect422 = (res: { status: number; body: any; text: string }) => {
    expect(res.status, res.text).toBe(422);
    expect(Array.isArray(res.body.detail), res.text).toBe(true);
    expect(res.body.detail.length).toBeGreaterThan(0);
    return res.body.detail[0];
  };

  describe('categories', () => {
    it('GET /categories lists the 5 seed categories in id order as {id, name, slug}', async () => {
      const res = await get('/categories');
      expect(res.status).toBe(200);
      expect(res.body).toEqual(CATEGORIES);
      expect(res.body.map((c: Category) => c.name)).toEqual(['Electronics', 'Clothing', 'Home & Kitchen', 'Books', 'Sports & Outdoors']);
      for (const c of res.body) expect(Object.keys(c)).toEqual(CATEGORY_KEYS);
    });

    it('GET /categories/{id} answers each category', async () => {
      for (const category of CATEGORIES) {
        const res = await get(`/categories/${category.id}`);
        expect(res.status).toBe(200);
        expect(res.body).toEqual(category);
        expect(Object.keys(res.body)).toEqual(CATEGORY_KEYS);
      }
    });

    it('GET /categories/{id} of an unknown id is 404 Category not found, also for a huge id', async () => {
      for (const id of [999, 0, 99999999999]) {
        const res = await get(`/categories/${id}`);
        expect(res.status, `${id}: ${res.text}`).toBe(404);
        expect(res.body).toEqual({ detail: 'Category not found' });
      }
    });

    it('GET /categories/{id} with a non-integer id is 422 in FastAPI list form', async () => {
      const res = await get('/categories/abc');
      const issue = expect422(res);
      expect(issue).toMatchObject({
        type: 'int_parsing',
        loc: ['path', 'category_id'],
        msg: 'Input should be a valid integer, unable to parse string as an integer',
        input: 'abc',
      });
      for (const entry of res.body.detail) expect(Object.keys(entry)).toEqual(expect.arrayContaining(['type', 'loc', 'msg', 'input']));
      expect((await get('/categories/1.5')).status).toBe(422);
    });
  });

  describe('GET /products', () => {
    it('default page: 10 products in id order, total 25, page 1, page_size 10', async () => {
      const res = await products();
      expect(res.status).toBe(200);
      expect(Object.keys(res.body)).toEqual(['total', 'page', 'page_size', 'products']);
      expect(res.body.total).toBe(PRODUCTS.length);
      expect(res.body.total).toBe(25);
      expect(res.body.page).toBe(1);
      expect(res.body.page_size).toBe(10);
      expect(res.body.products).toEqual(PRODUCTS.slice(0, 10));
    });

    it('every product equals the seed, with keys in the contract order', async () => {
      const page = await all({});
      expect(page.total).toBe(25);
      expect(page.products).toEqual(PRODUCTS);
      for (const p of page.products) expect(Object.keys(p)).toEqual(PRODUCT_KEYS);
    });

    it('category_id filters to that category (and an unknown one to nothing)', async () => {
      for (const c of [...CATEGORIES.map((c) => c.id), 999]) {
        const page = await all({ category_id: c });
        const want = expected({ category_id: c });
        expect(page.total).toBe(want.length);
        expect(ids(page.products)).toEqual(ids(want));
      }
      expect((await all({ category_id: 1 })).products.every((p) => p.category_id === 1)).toBe(true);
      expect((await all({ category_id: 999 })).products).toEqual([]);
    });

    it('brand is an exact, case-insensitive match (a prefix does not match)', async () => {
      const soundmax = await all({ brand: 'soundmax' });
      expect(ids(soundmax.products)).toEqual(ids(expected({ brand: 'SoundMax' })));
      expect(soundmax.total).toBeGreaterThan(0);
      expect(soundmax.products.every((p) => p.brand === 'SoundMax')).toBe(true);
      expect(ids((await all({ brand: 'SOUNDMAX' })).products)).toEqual(ids(soundmax.products));
      expect((await all({ brand: 'Sound' })).total).toBe(0);
      expect((await all({ brand: 'oundMax' })).total).toBe(0);
      // Every brand of the seed, in a different case, finds exactly its products.
      for (const brand of new Set(PRODUCTS.map((p) => p.brand))) {
        const page = await all({ brand: brand.toUpperCase() });
        expect(ids(page.products), brand).toEqual(ids(expected({ brand })));
      }
      // A brand shared by two products (e.g. TrailGuard) returns both.
      const shared = [...new Set(PRODUCTS.map((p) => p.brand))].find((b) => expected({ brand: b }).length > 1);
      expect(shared).toBeDefined();
      expect((await all({ brand: shared!.toLowerCase() })).total).toBeGreaterThan(1);
    });

    it('min_price and max_price are inclusive bounds', async () => {
      const prices = [...new Set(PRODUCTS.map((p) => p.price))];
      for (const price of prices) {
        const atLeast = await all({ min_price: price });
        expect(ids(atLeast.products), `min_price=${price}`).toEqual(ids(expected({ min_price: price })));
        const atMost = await all({ max_price: price });
        expect(ids(atMost.products), `max_price=${price}`).toEqual(ids(expected({ max_price: price })));
        const exactly = await all({ min_price: price, max_price: price });
        expect(ids(exactly.products)).toEqual(ids(PRODUCTS.filter((p) => p.price === price)));
        expect(exactly.total).toBeGreaterThan(0);
      }
      expect((await all({ min_price: 0 })).total).toBe(25);
      expect((await all({ min_price: 50, max_price: 40 })).total).toBe(0);
      expect(ids((await all({ min_price: 20, max_price: 100 })).products)).toEqual(ids(expected({ min_price: 20, max_price: 100 })));
    });

    it('min_rating is inclusive, 0..5', async () => {
      for (const rating of [0, 4, 4.5, 4.65, 4.7, 4.8, 5]) {
        const page = await all({ min_rating: rating });
        expect(ids(page.products), `min_rating=${rating}`).toEqual(ids(expected({ min_rating: rating })));
      }
      const top = Math.max(...PRODUCTS.map((p) => p.rating));
      expect((await all({ min_rating: top })).products.every((p) => p.rating === top)).toBe(true);
      expect((await all({ min_rating: top })).total).toBeGreaterThan(0);
    });

    it('in_stock=true keeps stock > 0; in_stock=false does not filter; yes/1/TRUE are accepted', async () => {
      const inStock = await all({ in_stock: true });
      expect(ids(inStock.products)).toEqual(ids(expected({ in_stock: true })));
      expect(inStock.products.every((p) => p.stock > 0)).toBe(true);
      expect((await all({ in_stock: false })).total).toBe(25);
      for (const word of ['yes', '1', 'TRUE', 'True', 'on']) {
        const page = await all({ in_stock: word });
        expect(page.total, word).toBe(expected({ in_stock: true }).length);
      }
      for (const word of ['no', '0', 'FALSE']) expect((await all({ in_stock: word })).total, word).toBe(25);
    });

    it('search is a case-insensitive substring of name or description', async () => {
      const keyboard = await all({ search: 'KEYBOARD' });
      expect(ids(keyboard.products)).toEqual(ids(expected({ search: 'keyboard' })));
      expect(ids(keyboard.products)).toEqual([3]);

      // A word found only in a description, never in a name.
      const words = PRODUCTS.flatMap((p) => p.description.toLowerCase().match(/[a-z]{6,}/g) ?? []);
      const descriptionOnly = words.find((w) => PRODUCTS.every((p) => !p.name.toLowerCase().includes(w)));
      expect(descriptionOnly).toBeDefined();
      const found = await all({ search: descriptionOnly!.toUpperCase() });
      expect(found.total).toBeGreaterThan(0);
      expect(ids(found.products)).toEqual(ids(expected({ search: descriptionOnly! })));

      // A word of a name; and a term of one or two characters.
      for (const term of ['Steel', 'stainless steel', 'usb', 'ss', 'x', 'Python', 'zzzz-nothing']) {
        const page = await all({ search: term });
        expect(ids(page.products), term).toEqual(ids(expected({ search: term })));
      }
      expect((await all({ search: '' })).total).toBe(25);
    });

    it('search treats % and _ as ordinary characters', async () => {
      for (const term of ['%', '_', '100%', '%cotton', 'n_n', 'c%n', '_%_', '\\', "'", '"']) {
        const page = await all({ search: term });
        const want = expected({ search: term });
        expect(page.total, `search=${term}`).toBe(want.length);
        expect(ids(page.products), `search=${term}`).toEqual(ids(want));
      }
      // Sanity of the data used above: the seed has a literal % (in "100% cotton") but no _.
      expect(expected({ search: '%' }).length).toBeLessThan(25);
      expect(expected({ search: '_' }).length).toBe(0);
      expect(expected({ search: 'n_n' }).length).toBe(0);
    });

    it('sort_by price, rating and name, asc and desc (order case-insensitive)', async () => {
      for (const sort_by of ['price', 'rating', 'name'] as const) {
        for (const [order, as] of [['asc', 'asc'], ['desc', 'desc'], ['DESC', 'desc'], ['Asc', 'asc']] as const) {
          const page = await all({ sort_by, order });
          expect(ids(page.products), `${sort_by} ${order}`).toEqual(ids(expected({ sort_by, order: as })));
        }
        // order defaults to asc
        expect(ids((await all({ sort_by })).products)).toEqual(ids(expected({ sort_by, order: 'asc' })));
      }
      // order without sort_by: still id order
      expect(ids((await all({ order: 'desc' })).products)).toEqual(ids(PRODUCTS));
    });

    it('ties keep id order in both directions (desc is not asc reversed)', async () => {
      const counts = new Map<number, number[]>();
      for (const p of PRODUCTS) counts.set(p.rating, [...(counts.get(p.rating) ?? []), p.id]);
      const tied = [...counts.entries()].find(([, list]) => list.length > 1);
      expect(tied).toBeDefined();
      const [rating, tiedIds] = tied!;
      for (const order of ['asc', 'desc']) {
        const got = ids((await all({ sort_by: 'rating', order })).products).filter((id) => tiedIds.includes(id));
        expect(got, `rating ${rating} ${order}`).toEqual(tiedIds);
      }
      const asc = ids((await all({ sort_by: 'rating', order: 'asc' })).products);
      const desc = ids((await all({ sort_by: 'rating', order: 'desc' })).products);
      expect(desc).not.toEqual([...asc].reverse());
      // Same for price ties (89.99, 119.99, ... appear twice in the seed).
      const priceDesc = ids((await all({ sort_by: 'price', order: 'desc' })).products);
      expect(priceDesc).toEqual(ids(expected({ sort_by: 'price', order: 'desc' })));
    });

    it('name sort compares code points', async () => {
      const names = (await all({ sort_by: 'name' })).products.map((p) => p.name);
      for (let i = 1; i < names.length; i++) expect(names[i - 1]! < names[i]!, `${names[i - 1]} < ${names[i]}`).toBe(true);
      // Code points put digits before upper case letters: "4K Webcam" comes first.
      expect(names[0]).toBe([...PRODUCTS.map((p) => p.name)].sort()[0]);
      const desc = (await all({ sort_by: 'name', order: 'desc' })).products.map((p) => p.name);
      expect(desc).toEqual([...names].reverse());
    });

    it('walking every page of size 3 yields exactly total distinct ids in order', async () => {
      for (const params of [{}, { sort_by: 'price', order: 'desc' }, { sort_by: 'rating' }, { min_rating: 4.4, sort_by: 'name' }] as const) {
        const want = ids(expected(params));
        const seen: number[] = [];
        let total = -1;
        for (let page = 1; page <= 20; page++) {
          const res = await products({ ...params, page, page_size: 3 });
          expect(res.status).toBe(200);
          expect(res.body.page).toBe(page);
          expect(res.body.page_size).toBe(3);
          total = res.body.total;
          expect(total).toBe(want.length);
          if (res.body.products.length === 0) break;
          expect(res.body.products.length).toBeLessThanOrEqual(3);
          seen.push(...ids(res.body.products));
        }
        expect(seen).toEqual(want);
        expect(new Set(seen).size).toBe(total);
      }
    });

    it('a page past the end has products [] and the right total', async () => {
      const res = await products({ page: 4, page_size: 10 });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ total: 25, page: 4, page_size: 10, products: [] });
      const filtered = await products({ category_id: 2, page: 2, page_size: 5 });
      expect(filtered.body).toEqual({ total: expected({ category_id: 2 }).length, page: 2, page_size: 5, products: [] });
      const far = await products({ page: 1000000 });
      expect(far.status).toBe(200);
      expect(far.body.products).toEqual([]);
      expect(far.body.total).toBe(25);
      const last = await products({ page: 3, page_size: 10 });
      expect(ids(last.body.products)).toEqual(ids(PRODUCTS.slice(20)));
    });

    it('page_size 1..100 and page >= 1', async () => {
      expect((await products({ page_size: 100 })).body.products).toHaveLength(25);
      expect((await products({ page_size: 1 })).body.products).toEqual([PRODUCTS[0]]);
      expect((await products({ page_size: 1, page: 25 })).body.products).toEqual([PRODUCTS[24]]);
      for (const bad of [{ page_size: 101 }, { page_size: 0 }, { page_size: -1 }, { page: 0 }, { page: -1 }]) {
        const res = await products(bad);
        expect(res.status, JSON.stringify(bad)).toBe(422);
        const [key] = Object.keys(bad);
        expect(res.body.detail[0].loc).toEqual(['query', key]);
      }
    });

    it('out-of-range numbers are 422', async () => {
      for (const bad of [
        { min_price: -1 },
        { max_price: -0.01 },
        { min_rating: 5.1 },
        { min_rating: -0.1 },
        { page_size: 101 },
        { page: 0 },
      ]) {
        const res = await products(bad);
        const issue = expect422(res);
        expect(issue.loc, JSON.stringify(bad)).toEqual(['query', Object.keys(bad)[0]]);
      }
      expect((await products({ min_rating: 5 })).status).toBe(200);
      expect((await products({ min_rating: 0, min_price: 0, max_price: 0 })).status).toBe(200);
    });

    it('bad types are 422 with FastAPI wording', async () => {
      const page = expect422(await products({ page: 'abc' }));
      expect(page).toMatchObject({
        type: 'int_parsing',
        loc: ['query', 'page'],
        msg: 'Input should be a valid integer, unable to parse string as an integer',
        input: 'abc',
      });
      expect(expect422(await products({ page_size: 'x' }))).toMatchObject({ type: 'int_parsing', loc: ['query', 'page_size'] });
      expect(expect422(await products({ category_id: 'x' }))).toMatchObject({ type: 'int_parsing', loc: ['query', 'category_id'] });
      expect(expect422(await products({ min_price: 'abc' }))).toMatchObject({ type: 'float_parsing', loc: ['query', 'min_price'], input: 'abc' });
      expect(expect422(await products({ max_price: 'abc' }))).toMatchObject({ type: 'float_parsing', loc: ['query', 'max_price'] });
      expect(expect422(await products({ min_rating: 'high' }))).toMatchObject({ type: 'float_parsing', loc: ['query', 'min_rating'] });
      expect(expect422(await products({ in_stock: 'maybe' }))).toMatchObject({ type: 'bool_parsing', loc: ['query', 'in_stock'], input: 'maybe' });
    });

    it('a 422 echoes a query value as the text the client sent, as FastAPI does', async () => {
      expect(expect422(await products({ page_size: '101' }))).toMatchObject({ type: 'less_than_equal', loc: ['query', 'page_size'], input: '101' });
      expect(expect422(await products({ min_price: '-1' }))).toMatchObject({ loc: ['query', 'min_price'], input: '-1' });
      expect(expect422(await products({ min_price: '1e309' }))).toMatchObject({ loc: ['query', 'min_price'], input: '1e309' });
    });

    it('an unknown sort_by or order is 422 naming the allowed values', async () => {
      const sort = expect422(await products({ sort_by: 'popularity' }));
      expect(sort.loc).toEqual(['query', 'sort_by']);
      expect(sort.msg).toBe("Input should be 'price', 'rating' or 'name'");
      expect(sort.input).toBe('popularity');
      const order = expect422(await products({ sort_by: 'price', order: 'sideways' }));
      expect(order.loc).toEqual(['query', 'order']);
      expect(order.msg).toBe("Input should be 'asc' or 'desc'");
      expect((await products({ sort_by: 'PRICE' })).status).toBe(422);
    });

    it('filters combine with AND', async () => {
      const combos: Filters[] = [
        { category_id: 1, min_price: 50 },
        { category_id: 1, brand: 'keymaster' },
        { category_id: 2, brand: 'keymaster' },
        { category_id: 5, max_price: 30, sort_by: 'price', order: 'desc' },
        { min_rating: 4.5, max_price: 40, sort_by: 'rating', order: 'desc' },
        { search: 'steel', category_id: 3 },
        { search: 'waterproof', min_price: 100, sort_by: 'name' },
        { brand: 'hydrolife', min_rating: 4.5 },
        { category_id: 4, min_price: 14.99, max_price: 35.99, min_rating: 4.7, in_stock: true, sort_by: 'price', order: 'asc' },
        { search: 'e', category_id: 1, min_rating: 4.3, max_price: 119.99, sort_by: 'name', order: 'desc' },
      ];
      for (const combo of combos) {
        const page = await all({ ...combo });
        const want = expected(combo);
        expect(page.total, JSON.stringify(combo)).toBe(want.length);
        expect(ids(page.products), JSON.stringify(combo)).toEqual(ids(want));
      }
      // total counts all matches before paging
      const paged = await products({ min_rating: 4.4, page_size: 2, page: 2 });
      const want = expected({ min_rating: 4.4 });
      expect(paged.body.total).toBe(want.length);
      expect(ids(paged.body.products)).toEqual(ids(want.slice(2, 4)));
    });

    it("the guide's examples", async () => {
      const keyboard = await get('/products?search=keyboard');
      expect(keyboard.status).toBe(200);
      expect(keyboard.body).toMatchObject({ total: 1, page: 1, page_size: 10 });
      expect(keyboard.body.products).toHaveLength(1);
      expect(keyboard.body.products[0]).toMatchObject({ id: 3, name: 'Mechanical Keyboard', price: 89.99, rating: 4.7, stock: 75 });

      const range = await get('/products?min_price=20&max_price=100&min_rating=4.0&sort_by=price&order=asc');
      expect(range.status).toBe(200);
      const want = expected({ min_price: 20, max_price: 100, min_rating: 4.0, sort_by: 'price', order: 'asc' });
      expect(range.body.total).toBe(want.length);
      expect(range.body.products).toEqual(want.slice(0, 10));
      const prices = range.body.products.map((p: Product) => p.price);
      expect(prices).toEqual([...prices].sort((a, b) => a - b));
    });
  });

  describe('GET /products/{id}', () => {
    it('each product with its keys in order plus its category', async () => {
      for (const product of PRODUCTS) {
        const res = await get(`/products/${product.id}`);
        expect(res.status).toBe(200);
        const category = CATEGORIES.find((c) => c.id === product.category_id);
        expect(res.body).toEqual({ ...product, category });
        expect(Object.keys(res.body)).toEqual([...PRODUCT_KEYS, 'category']);
        expect(Object.keys(res.body.category)).toEqual(CATEGORY_KEYS);
      }
    });

    it('404 Product not found, also for a huge id; 422 for a non-integer id', async () => {
      for (const id of [26, 0, -1, 99999999999, 2 ** 53]) {
        const res = await get(`/products/${id}`);
        expect(res.status, `${id}: ${res.text}`).toBe(404);
        expect(res.body).toEqual({ detail: 'Product not found' });
      }
      const issue = expect422(await get('/products/abc'));
      expect(issue).toMatchObject({ type: 'int_parsing', loc: ['path', 'product_id'], input: 'abc' });
      expect((await get('/products/1.5')).status).toBe(422);
    });
  });

  describe('GET /products/{id}/related', () => {
    const relatedOf = (p: Product, limit: number) => PRODUCTS.filter((o) => o.category_id === p.category_id && o.id !== p.id).slice(0, limit);

    it('same category, itself excluded, id order, default limit 4', async () => {
      for (const product of PRODUCTS) {
        const res = await get(`/products/${product.id}/related`);
        expect(res.status).toBe(200);
        expect(res.body).toEqual(relatedOf(product, 4));
        for (const p of res.body) expect(Object.keys(p)).toEqual(PRODUCT_KEYS);
      }
    });

    it('limit 1..20', async () => {
      const product = PRODUCTS[2]!;
      for (const limit of [1, 2, 3, 4, 20]) {
        const res = await get(`/products/${product.id}/related?limit=${limit}`);
        expect(res.status).toBe(200);
        expect(ids(res.body)).toEqual(ids(relatedOf(product, limit)));
      }
      expect((await get(`/products/${product.id}/related?limit=1`)).body).toHaveLength(1);
      for (const limit of ['0', '21', '-1', 'abc']) {
        const issue = expect422(await get(`/products/${product.id}/related?limit=${limit}`));
        expect(issue.loc).toEqual(['query', 'limit']);
      }
    });

    it('404 for an unknown product, 422 for a non-integer one', async () => {
      for (const id of [999, 99999999999]) {
        const res = await get(`/products/${id}/related`);
        expect(res.status).toBe(404);
        expect(res.body).toEqual({ detail: 'Product not found' });
      }
      expect((await get('/products/abc/related')).status).toBe(422);
    });
  });

  describe('GET /brands', () => {
    const brandsOf = (list: Product[]) => [...new Set(list.map((p) => p.brand))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

    it('sorted distinct brands', async () => {
      const res = await get('/brands');
      expect(res.status).toBe(200);
      expect(res.body).toEqual(brandsOf(PRODUCTS));
      expect(new Set(res.body).size).toBe(res.body.length);
      expect(res.body.length).toBeLessThan(PRODUCTS.length); // HydroLife and TrailGuard appear twice
    });

    it('?category_id= narrows to a category; an unknown category is []; a non-integer is 422', async () => {
      for (const c of CATEGORIES) {
        const res = await get(`/brands?category_id=${c.id}`);
        expect(res.status).toBe(200);
        expect(res.body).toEqual(brandsOf(PRODUCTS.filter((p) => p.category_id === c.id)));
      }
      const none = await get('/brands?category_id=999');
      expect(none.status).toBe(200);
      expect(none.body).toEqual([]);
      const issue = expect422(await get('/brands?category_id=x'));
      expect(issue).toMatchObject({ type: 'int_parsing', loc: ['query', 'category_id'], input: 'x' });
    });
  });
});

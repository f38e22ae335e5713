import { describe, expect, it } from 'vitest';
import { useStore } from './helpers/processes.js';
import { cartWith, pendingOrder } from './helpers/shop.js';

/**
 * Input the old clients (or a hostile one) send, on SQLite and on PostgreSQL: numbers no column
 * can hold, text no database can store, and the FastAPI habits of trailing slashes, wrong
 * methods and bodies without the right content type. Every answer is the same on both.
 */
const UNSTORABLE = 'Input should be text without NUL characters or unpaired surrogates';

const textIssue = (loc: (string | number)[], input: unknown) => ({ detail: [{ type: 'string_unicode', loc, msg: UNSTORABLE, input }] });

describe('bad input on the store', () => {
  const { req, url } = useStore();

  it('numbers past what the database holds are 422 naming the bound, Infinity included', async () => {
    for (const [query, loc, bound] of [
      ['max_price=99999999', 'max_price', 21474836.47],
      ['min_price=21474836.48', 'min_price', 21474836.47],
      ['min_price=1e309', 'min_price', 21474836.47],
      ['max_price=1e309', 'max_price', 21474836.47],
      ['min_rating=1e309', 'min_rating', 5],
      ['page=1e309', 'page', 2147483647],
      ['page=2147483648', 'page', 2147483647],
      ['page_size=1e309', 'page_size', 100],
    ] as const) {
      const res = await req('GET', `/products?${query}`);
      expect(res.status, query).toBe(422);
      expect(res.body.detail[0], query).toMatchObject({ type: 'less_than_equal', loc: ['query', loc], ctx: { le: bound } });
      expect(res.body.detail[0].msg).toBe(`Input should be less than or equal to ${bound}`);
    }
    const related = await req('GET', '/products/3/related?limit=1e309');
    expect([related.status, related.body.detail[0].loc, related.body.detail[0].ctx]).toEqual([422, ['query', 'limit'], { le: 20 }]);
  });

  it('the largest accepted numbers answer 200, and huge or infinite ids are simply not found', async () => {
    const top = await req('GET', '/products?max_price=21474836.47&min_price=0&page=2147483647');
    expect([top.status, top.body.total, top.body.products]).toEqual([200, 25, []]);
    for (const id of ['1e309', '99999999999', '-1e309']) {
      expect((await req('GET', `/products/${id}`)).status, id).toBe(404);
      expect((await req('GET', `/categories/${id}`)).status, id).toBe(404);
      expect((await req('GET', `/products/${id}/related`)).status, id).toBe(404);
    }
    expect((await req('GET', '/brands?category_id=1e309')).body).toEqual([]);
    expect((await req('GET', '/products?category_id=1e309')).body.total).toBe(0);
  });

  it('JSON numbers past 32 bits (1e309 is Infinity) are 422 naming the bound', async () => {
    const cart = await cartWith(url(), []);
    for (const raw of ['1e309', '2147483648', '-1e309']) {
      const add = await req('POST', `/cart/${cart}/items`, `{"product_id": 1, "quantity": ${raw}}`);
      expect(add.status, raw).toBe(422);
      expect(add.body.detail[0].loc).toEqual(['body', 'quantity']);
      const set = await req('PATCH', `/cart/${cart}/items/1`, `{"quantity": ${raw}}`);
      expect(set.status, raw).toBe(422);
    }
    const product = await req('POST', `/cart/${cart}/items`, '{"product_id": 1e309}');
    expect([product.status, product.body]).toEqual([404, { detail: 'Product not found' }]);
    const order = await pendingOrder(url(), [[1, 1]]);
    const confirm = await req('POST', '/payments/confirm', `{"order_id": "${order.order_id}", "status": "success", "amount": 1e309}`);
    expect([confirm.status, confirm.body.detail[0].loc, confirm.body.detail[0].ctx]).toEqual([422, ['body', 'amount'], { le: 21474836.47 }]);
  });

  it('NUL and lone surrogates are a 422 naming the field, in query, path and body', async () => {
    expect((await req('GET', '/products?search=%00')).body).toEqual(textIssue(['query', 'search'], '\u0000'));
    expect((await req('GET', '/products?search=keyboard%00')).body).toEqual(textIssue(['query', 'search'], 'keyboard\u0000'));
    expect((await req('GET', '/products?brand=a%00')).status).toBe(422);
    expect((await req('DELETE', '/cart/%00/items/1')).body).toEqual(textIssue(['path', 'cart_id'], '\u0000'));
    expect((await req('GET', '/orders/ab%00cd')).body).toEqual(textIssue(['path', 'order_id'], 'ab\u0000cd'));
    expect((await req('POST', '/cart/%00/checkout')).body).toEqual(textIssue(['path', 'cart_id'], '\u0000'));

    const order = await pendingOrder(url(), [[2, 1]]);
    for (const [body, loc, input] of [
      [`{"order_id": "${order.order_id}\\u0000", "status": "success"}`, ['body', 'order_id'], `${order.order_id}\u0000`],
      [`{"order_id": "${order.order_id}", "status": "\\ud800"}`, ['body', 'status'], '\ud800'],
      [`{"order_id": "${order.order_id}", "status": "failed", "reason": "x\\udc00y"}`, ['body', 'reason'], 'x\udc00y'],
    ] as const) {
      const res = await req('POST', '/payments/confirm', body);
      expect(res.status, body).toBe(422);
      expect(res.body).toEqual(textIssue([...loc], input));
    }
    // A well-formed surrogate pair is ordinary text.
    const emoji = await req('GET', `/products?search=${encodeURIComponent('😀')}`);
    expect([emoji.status, emoji.body.total]).toEqual([200, 0]);
    expect((await req('GET', `/orders/${order.order_id}`)).body.status).toBe('pending_payment');
  });

  it('a path that is not valid UTF-8 gets the store\'s error body', async () => {
    const res = await req('GET', '/cart/%ED%A0%80');
    expect(res.status).toBe(422);
    expect(res.body).toEqual(textIssue(['path'], '/cart/%ED%A0%80'));
  });
});

describe('drop-in habits of FastAPI clients on the store', () => {
  const { req, url } = useStore();

  it('a trailing slash redirects with 307 to the path without it, query kept', async () => {
    for (const [method, path, location] of [
      ['GET', '/products/', '/products'],
      ['GET', '/products/3/?limit=2', '/products/3?limit=2'],
      ['POST', '/cart/', '/cart'],
      ['GET', '/products/3/related/?limit=2', '/products/3/related?limit=2'],
    ] as const) {
      const res = await fetch(`${url()}${path}`, { method, redirect: 'manual' });
      expect(res.status, path).toBe(307);
      expect(res.headers.get('location')).toBe(location);
    }
    const followed = await req('POST', '/cart/');
    expect([followed.status, typeof followed.body.cart_id]).toEqual([200, 'string']);
    expect((await req('GET', '/nope/')).status).toBe(404);
  });

  it('a wrong method on a known path is 405 with Allow', async () => {
    for (const [method, path, allow] of [
      ['PUT', '/products', 'GET, HEAD'],
      ['DELETE', '/categories', 'GET, HEAD'],
      ['GET', '/cart', 'POST'],
      ['POST', '/orders/abc', 'GET, HEAD'],
      ['GET', '/payments/confirm', 'POST'],
    ] as const) {
      const res = await req(method, path);
      expect([res.status, res.body], `${method} ${path}`).toEqual([405, { detail: 'Method Not Allowed' }]);
      expect(res.headers.get('allow')).toBe(allow);
    }
  });

  it('a POST or DELETE without a body is accepted whatever its content type', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'application/json', 'not a type']) {
      const cart = await req('POST', '/cart', '', { 'content-type': type });
      expect(cart.status, type).toBe(200);
      const cartId = cart.body.cart_id as string;
      expect((await req('POST', `/cart/${cartId}/items`, { product_id: 4 })).status).toBe(200);
      expect((await req('DELETE', `/cart/${cartId}/items/4`, '', { 'content-type': type })).status, type).toBe(200);
    }
    const cartId = await cartWith(url(), [[4, 1]]);
    const checkout = await req('POST', `/cart/${cartId}/checkout`, 'ignored=1', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(checkout.status).toBe(200);
    const cancel = await req('POST', `/orders/${checkout.body.order_id}/cancel`, '', { 'content-type': 'text/plain' });
    expect([cancel.status, cancel.body.status]).toEqual([200, 'cancelled']);
  });

  it('a JSON body without a content type, or as application/<x>+json, is read as JSON', async () => {
    const cartId = await cartWith(url(), []);
    const bare = await fetch(`${url()}/cart/${cartId}/items`, { method: 'POST', body: new Blob(['{"product_id": 5, "quantity": 2}']) });
    expect([bare.status, await bare.json()]).toEqual([200, { cart_id: cartId, product_id: 5, quantity: 2 }]);
    const vendor = await req('PATCH', `/cart/${cartId}/items/5`, { quantity: 1 }, { 'content-type': 'application/vnd.shop+json; charset=utf-8' });
    expect([vendor.status, vendor.body.quantity]).toEqual([200, 1]);
    const text = await req('POST', `/cart/${cartId}/items`, { product_id: 5 }, { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
  });

  it('GET / points to the docs', async () => {
    const res = await req('GET', '/');
    expect([res.status, res.body.docs, res.body.openapi]).toEqual([200, '/docs', '/openapi.json']);
    expect(res.body.message).toContain('/docs');
  });
});

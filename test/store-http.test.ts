import { describe, expect, it } from 'vitest';
import { useStore } from './helpers/processes.js';

/**
 * Black-box tests of the store's HTTP surface: unknown routes, the OpenAPI document and docs,
 * health, CORS, error bodies without stack traces, unguessable ids.
 */
interface Endpoint {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  path_params?: string[];
  query?: string[];
  body?: boolean;
  /** The error statuses the contract lists for it (besides 200). */
  errors: number[];
}

const ENDPOINTS: Endpoint[] = [
  { method: 'get', path: '/healthz', errors: [] },
  { method: 'get', path: '/categories', errors: [] },
  { method: 'get', path: '/categories/{category_id}', path_params: ['category_id'], errors: [404, 422] },
  {
    method: 'get',
    path: '/products',
    query: ['category_id', 'brand', 'min_price', 'max_price', 'min_rating', 'in_stock', 'search', 'sort_by', 'order', 'page', 'page_size'],
    errors: [422],
  },
  { method: 'get', path: '/products/{product_id}', path_params: ['product_id'], errors: [404, 422] },
  { method: 'get', path: '/products/{product_id}/related', path_params: ['product_id'], query: ['limit'], errors: [404, 422] },
  { method: 'get', path: '/brands', query: ['category_id'], errors: [422] },
  { method: 'post', path: '/cart', errors: [] },
  { method: 'get', path: '/cart/{cart_id}', path_params: ['cart_id'], errors: [404] },
  { method: 'post', path: '/cart/{cart_id}/items', path_params: ['cart_id'], body: true, errors: [400, 404, 422] },
  { method: 'patch', path: '/cart/{cart_id}/items/{product_id}', path_params: ['cart_id', 'product_id'], body: true, errors: [400, 404, 422] },
  { method: 'delete', path: '/cart/{cart_id}/items/{product_id}', path_params: ['cart_id', 'product_id'], errors: [404, 422] },
  { method: 'post', path: '/cart/{cart_id}/checkout', path_params: ['cart_id'], errors: [400, 404] },
  { method: 'get', path: '/orders/{order_id}', path_params: ['order_id'], errors: [404] },
  { method: 'post', path: '/orders/{order_id}/cancel', path_params: ['order_id'], errors: [400, 404] },
  { method: 'post', path: '/payments/confirm', body: true, errors: [400, 404, 422] },
];

/** Number of positions at which two equally long strings differ. */
const differingPositions = (a: string, b: string) => [...a].filter((ch, i) => ch !== b[i]).length;

describe('store HTTP surface', () => {
  const store = useStore();

  const { req } = store;

  it('an unknown route is 404 {"detail": "Not Found"}', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/nope'],
      ['GET', '/products/1/nope'],
      ['GET', '/nope/'],
    ]) {
      const res = await req(method!, path!);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body).toEqual({ detail: 'Not Found' });
    }
  });

  it('GET /healthz is {status: "ok"}', async () => {
    const res = await req('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /openapi.json is OpenAPI 3 and documents every endpoint with its parameters and error answers', async () => {
    const res = await req('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(doc.info.title).toEqual(expect.any(String));
    for (const endpoint of ENDPOINTS) {
      const label = `${endpoint.method.toUpperCase()} ${endpoint.path}`;
      const operation = doc.paths?.[endpoint.path]?.[endpoint.method];
      expect(operation, label).toBeDefined();
      const params: { in: string; name: string }[] = operation.parameters ?? [];
      const named = (where: string) => params.filter((p) => p.in === where).map((p) => p.name);
      expect(named('path').sort(), `${label} path parameters`).toEqual([...(endpoint.path_params ?? [])].sort());
      expect(named('query'), `${label} query parameters`).toEqual(expect.arrayContaining(endpoint.query ?? []));
      if (endpoint.body) expect(operation.requestBody?.content?.['application/json']?.schema, `${label} request body`).toBeDefined();
      const statuses = Object.keys(operation.responses ?? {});
      expect(statuses, `${label} responses`).toContain('200');
      for (const status of endpoint.errors) expect(statuses, `${label} responses`).toContain(String(status));
    }
    // The add-item body documents product_id (required) and quantity.
    const addItem = doc.paths['/cart/{cart_id}/items'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(addItem.properties)).toEqual(expect.arrayContaining(['product_id', 'quantity']));
    expect(addItem.required).toContain('product_id');
    const confirm = doc.paths['/payments/confirm'].post.requestBody.content['application/json'].schema;
    expect(confirm.required).toEqual(expect.arrayContaining(['order_id', 'status']));
  });

  it('GET /docs answers HTML', async () => {
    const res = await fetch(`${store.url()}/docs`, { redirect: 'follow' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect((await res.text()).toLowerCase()).toContain('<html');
  });

  it('CORS: every origin is allowed, and a preflight answers 204 with the allowed methods', async () => {
    const simple = await req('GET', '/categories', undefined, { Origin: 'http://example.com' });
    expect(simple.status).toBe(200);
    expect(simple.headers.get('access-control-allow-origin')).toBe('*');
    const error = await req('GET', '/cart/nope', undefined, { Origin: 'http://example.com' });
    expect(error.status).toBe(404);
    expect(error.headers.get('access-control-allow-origin')).toBe('*');

    for (const method of ['POST', 'PATCH', 'DELETE']) {
      const preflight = await fetch(`${store.url()}/cart/abc/items`, {
        method: 'OPTIONS',
        headers: { Origin: 'http://example.com', 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': 'content-type' },
      });
      expect(preflight.status, method).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
      const allowed = (preflight.headers.get('access-control-allow-methods') ?? '').split(',').map((m) => m.trim().toUpperCase());
      expect(allowed, method).toContain(method);
      expect((preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase()).toContain('content-type');
    }
  });

  it('no error answer carries a stack trace; every 4xx answer has a detail', async () => {
    const cart = (await req('POST', '/cart')).body.cart_id as string;
    const answers = [
      await req('GET', '/nope'),
      await req('GET', '/categories/abc'),
      await req('GET', '/categories/999'),
      await req('GET', '/products?page=abc&min_price=-1&sort_by=x&in_stock=maybe'),
      await req('GET', '/products/99999999999'),
      await req('GET', '/products/1e999'),
      await req('GET', '/products/1/related?limit=0'),
      await req('GET', '/brands?category_id=x'),
      await req('GET', '/cart/nope'),
      await req('POST', `/cart/${cart}/items`, '{"product_id": ', { 'content-type': 'application/json' }),
      await req('POST', `/cart/${cart}/items`, 'product_id=3', { 'content-type': 'text/plain' }),
      await req('POST', `/cart/${cart}/items`, JSON.stringify({ pad: 'x'.repeat(1024 * 1024 + 10) })),
      await req('POST', `/cart/${cart}/items`, { product_id: 'abc' }),
      await req('POST', `/cart/${cart}/items`, { product_id: 3, quantity: 10 ** 12 }),
      await req('POST', `/cart/${cart}/items`, { product_id: 3, quantity: 'x'.repeat(5000) }),
      await req('POST', `/cart/${cart}/items`, [1, 2, 3]),
      await req('POST', `/cart/${cart}/items`),
      await req('PATCH', `/cart/${cart}/items/3`, { quantity: -1 }),
      await req('DELETE', `/cart/${cart}/items/3`),
      await req('POST', `/cart/${cart}/checkout`),
      await req('GET', '/orders/nope'),
      await req('POST', '/orders/nope/cancel'),
      await req('POST', '/payments/confirm', { order_id: 'nope', status: 'success' }),
      await req('POST', '/payments/confirm', { order_id: 5, status: ['success'] }),
      await req('POST', '/payments/confirm'),
    ];
    for (const res of answers) {
      expect(res.status, res.text).toBeGreaterThanOrEqual(400);
      expect(res.text).not.toContain('node_modules');
      expect(res.text).not.toMatch(/\bat [^"]*:\d+:\d+/);
      expect(res.text).not.toMatch(/\n\s+at /);
      if (res.status < 500) expect(res.body, res.text).toHaveProperty('detail');
    }
  });

  it('cart and order ids are random, not sequential', async () => {
    const carts: string[] = [];
    for (let i = 0; i < 5; i++) carts.push((await req('POST', '/cart')).body.cart_id);
    for (const id of carts) expect(id).toMatch(/^[0-9a-f]{24,}$/);
    expect(new Set(carts).size).toBe(carts.length);
    for (let i = 1; i < carts.length; i++) {
      expect(carts[i]!.length).toBe(carts[i - 1]!.length);
      expect(differingPositions(carts[i - 1]!, carts[i]!), `${carts[i - 1]} → ${carts[i]}`).toBeGreaterThan(1);
    }

    const orders: string[] = [];
    for (const cart of carts.slice(0, 3)) {
      expect((await req('POST', `/cart/${cart}/items`, { product_id: 2, quantity: 1 })).status).toBe(200);
      const placed = await req('POST', `/cart/${cart}/checkout`);
      expect(placed.status).toBe(200);
      orders.push(placed.body.order_id);
    }
    for (const id of orders) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(orders).size).toBe(orders.length);
    for (let i = 1; i < orders.length; i++) {
      expect(differingPositions(orders[i - 1]!, orders[i]!), `${orders[i - 1]} → ${orders[i]}`).toBeGreaterThan(1);
    }
  });
});

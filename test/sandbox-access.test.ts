import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToExit } from './helpers/spawn.js';
import { call, freePort, startStore, type ServerProcess } from './helpers/processes.js';
import { createSandbox, startPair } from './helpers/sandboxes.js';
import { cartWith, shutdown, stockOf } from './helpers/shop.js';

/** Spec/sandboxes.md section 5: the admin key, loopback-only without it, limits; a gateway that is down changes nothing. */
describe('sandbox access and limits', () => {
  const KEY = 'k'.repeat(32);
  const auth = { authorization: `Bearer ${KEY}` };
  let keyed: ServerProcess;
  let open: ServerProcess;

  beforeAll(async () => {
    // No gateway answers at PAYMENTS_URL: every two-sided operation must fail cleanly.
    const dead = `http://127.0.0.1:${await freePort()}`;
    keyed = await startStore({ env: { ADMIN_API_KEY: KEY, PAYMENTS_URL: dead, MAX_SANDBOXES: '0' } });
    open = await startStore({ env: { HOST: '0.0.0.0', PAYMENTS_URL: dead } });
  });
  afterAll(() => shutdown(keyed, open));

  it('with ADMIN_API_KEY, management and /admin need the bearer key (401 otherwise); the shop API needs none', async () => {
    for (const [method, path] of [['GET', '/sandboxes'], ['POST', '/sandboxes'], ['GET', '/sandboxes/default'], ['POST', '/sandboxes/default/reset'],
      ['POST', '/admin/products'], ['PUT', '/admin/catalog'], ['DELETE', '/sandboxes/default/admin/products/1'],
      ['GET', '/sandboxes/default/events'], ['GET', '/sandboxes/default/state']] as const) {
      for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: KEY }] as Record<string, string>[]) {
        const res = await call(method, `${keyed.url}${path}`, method === 'GET' ? undefined : {}, headers);
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.body).toEqual({ detail: 'Missing or invalid admin key' });
      }
    }
    expect((await call('GET', `${keyed.url}/sandboxes`, undefined, auth)).status).toBe(200);
    expect((await call('GET', `${keyed.url}/products/1`)).status).toBe(200);
    expect((await call('GET', `${keyed.url}/sandboxes/default/products/1`)).status).toBe(200);
  });

  it('over MAX_SANDBOXES is a clear 409', async () => {
    const res = await call('POST', `${keyed.url}/sandboxes`, {}, auth);
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ detail: 'Sandbox limit reached (MAX_SANDBOXES=0): delete one first' });
  });

  it('without a key on a non-loopback address, management and /admin are absent (404); the start-up log says so', async () => {
    expect((await call('GET', `${open.url}/sandboxes`)).status).toBe(404);
    expect((await call('POST', `${open.url}/admin/products`, {})).status).toBe(404);
    expect((await call('GET', `${open.url}/sandboxes/default/events`)).status).toBe(404);
    expect((await call('GET', `${open.url}/products/1`)).status).toBe(200);
    expect(open.output()).toContain('sandbox management and /admin endpoints are disabled (404)');
  });

  it('refuses to start with NODE_ENV=production on a non-loopback address without ADMIN_API_KEY', async () => {
    const { code, output } = await runToExit('src/store-main.ts', {
      NODE_ENV: 'production', HOST: '0.0.0.0', PORT: String(await freePort()), PAYMENTS_WEBHOOK_SECRET: 's'.repeat(20), DATABASE_URL: 'sqlite::memory:',
    });
    expect(code).toBe(1);
    expect(output).toContain('ADMIN_API_KEY must be set when NODE_ENV=production');
  });
});

describe('a gateway that does not answer', () => {
  let store: ServerProcess;
  beforeAll(async () => {
    store = await startStore({ env: { PAYMENTS_URL: `http://127.0.0.1:${await freePort()}` } });
  });
  afterAll(() => shutdown(store));

  it('fails a two-sided operation with 503 and changes nothing', async () => {
    const res = await call('POST', `${store.url}/sandboxes`, { sandbox_id: 'never' });
    expect(res.status).toBe(503);
    expect(res.body.detail).toMatch(/^Payments gateway unavailable: /);
    expect((await call('GET', `${store.url}/sandboxes/never`)).status).toBe(404);
    // No body at all is a create with every default, so it reaches the gateway too.
    const bare = await call('POST', `${store.url}/sandboxes`);
    expect(bare.status).toBe(503);
    expect(bare.body.detail).toBe(res.body.detail);
    const stock = await stockOf(store.url, 1);
    await cartWith(store.url, [[1, 1]]);
    expect((await call('POST', `${store.url}/sandboxes/default/reset`)).status).toBe(503);
    expect((await call('GET', `${store.url}/sandboxes`)).body.map((s: any) => s.sandbox_id)).toEqual(['default']);
    expect((await call('GET', `${store.url}/sandboxes/default`)).body.counts).toMatchObject({ carts: 1, payments: null });
    expect(await stockOf(store.url, 1)).toBe(stock);
  });
});

describe('two store instances on one database', () => {
  let stores: ServerProcess[];
  let gateway: ServerProcess;
  beforeAll(async () => {
    ({ stores, gateway } = await startPair({ stores: 2 }));
  });
  afterAll(() => shutdown(...stores, gateway));

  it('serve the same sandbox consistently', async () => {
    const [a, b] = stores as [ServerProcess, ServerProcess];
    const box = await createSandbox(a.url);
    const on = (store: ServerProcess) => `${store.url}/sandboxes/${box.sandbox_id}`;
    const before = await stockOf(on(b), 4);
    const cart = await cartWith(on(a), [[4, 2]]);
    expect((await call('POST', `${on(b)}/cart/${cart}/items`, { product_id: 5, quantity: 1 })).status).toBe(200);
    const checkout = await call('POST', `${on(a)}/cart/${cart}/checkout`);
    expect(checkout.status, checkout.text).toBe(200);
    expect(await stockOf(on(b), 4)).toBe(before - 2);
    expect((await call('PATCH', `${on(b)}/admin/products/4`, { price: 3.5 })).status).toBe(200);
    expect((await call('GET', `${on(a)}/products/4`)).body.price).toBe(3.5);
    expect((await call('POST', `${b.url}/sandboxes/${box.sandbox_id}/clock`, { advance_seconds: 3600 })).status).toBe(200);
    expect((await call('GET', `${on(a)}/orders/${checkout.body.order_id}`)).body.status).toBe('expired');
    expect(await stockOf(on(a), 4)).toBe(before);
  });
});

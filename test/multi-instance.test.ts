import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, freshDatabaseUrl, startStore, type ServerProcess } from './helpers/processes.js';

/**
 * Two store processes on one database (PostgreSQL in the postgres project, one SQLite file in the
 * sqlite project), driven at the same time: no oversell, one confirm per order, every expiry once.
 */
describe('two store instances sharing one database', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  const PRODUCT = 4;

  beforeAll(async () => {
    const databaseUrl = freshDatabaseUrl();
    const env = { ORDER_TTL_SECONDS: '2', SWEEP_INTERVAL_MS: '100' };
    a = await startStore({ databaseUrl, env });
    b = await startStore({ databaseUrl, env });
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const instance = (i: number) => (i % 2 === 0 ? a : b);

  async function cartWith(store: ServerProcess, productId: number, quantity: number): Promise<string> {
    const cart = await call('POST', `${store.url}/cart`);
    const added = await call('POST', `${store.url}/cart/${cart.body.cart_id}/items`, { product_id: productId, quantity });
    expect(added.status).toBe(200);
    return cart.body.cart_id;
  }

  it('a read through one instance shows a sale made through the other at once (cached catalog pages and details)', async () => {
    const product = 9;
    const detail = () => call('GET', `${b.url}/products/${product}`);
    const listed = async () => ((await call('GET', `${b.url}/products?page_size=100`)).body.products as { id: number; stock: number }[]).find((p) => p.id === product)!.stock;
    for (let round = 0; round < 5; round++) {
      const before = (await detail()).body.stock as number;
      expect(await listed()).toBe(before);
      // Read again: now both answers come from b's caches.
      expect((await detail()).body.stock).toBe(before);
      const cart = await cartWith(a, product, 1);
      expect((await call('POST', `${a.url}/cart/${cart}/checkout`)).status).toBe(200);
      expect((await detail()).body.stock).toBe(before - 1);
      expect(await listed()).toBe(before - 1);
    }
  });

  it('never oversells, confirms each order once and expires each leftover order once', async () => {
    const initial = (await call('GET', `${a.url}/products/${PRODUCT}`)).body.stock as number;
    expect(initial).toBeGreaterThan(10);
    const perCart = 3;
    const carts = await Promise.all(Array.from({ length: 30 }, (_, i) => cartWith(instance(i), PRODUCT, perCart)));

    const checkouts = await Promise.all(carts.map((id, i) => call('POST', `${instance(i + 1).url}/cart/${id}/checkout`)));
    const orders = checkouts.filter((r) => r.status === 200).map((r) => r.body.order_id as string);
    const refused = checkouts.filter((r) => r.status === 400);
    expect(orders.length).toBe(Math.min(carts.length, Math.floor(initial / perCart)));
    expect(orders.length + refused.length).toBe(carts.length);
    for (const r of refused) expect(r.body.detail).toMatch(/^Not enough stock for '.+' \(requested 3, available \d\)$/);
    expect((await call('GET', `${b.url}/products/${PRODUCT}`)).body.stock).toBe(initial - orders.length * perCart);

    // Half the orders get 6 racing confirms each, spread over both instances; exactly one wins per order.
    const paying = orders.slice(0, Math.floor(orders.length / 2));
    const confirms = await Promise.all(
      paying.flatMap((order_id) =>
        Array.from({ length: 6 }, (_, i) => call('POST', `${instance(i).url}/payments/confirm`, { order_id, status: 'success' })),
      ),
    );
    expect(confirms.filter((r) => r.status === 200)).toHaveLength(paying.length);
    for (const r of confirms.filter((r) => r.status !== 200)) expect(r.body.detail).toBe('Order already processed (status: paid)');

    // The rest expire (TTL 2 s) while both instances sweep.
    await new Promise((r) => setTimeout(r, 2600));
    const statuses = await Promise.all(orders.map((id, i) => call('GET', `${instance(i).url}/orders/${id}`)));
    const paid = statuses.filter((r) => r.body.status === 'paid');
    expect(paid).toHaveLength(paying.length);
    expect(statuses.filter((r) => r.body.status === 'expired')).toHaveLength(orders.length - paying.length);

    // Paid quantity + available stock = starting stock, seen from either instance.
    const paidQuantity = paid.reduce((sum, r) => sum + r.body.items[0].quantity, 0);
    for (const store of [a, b]) {
      expect((await call('GET', `${store.url}/products/${PRODUCT}`)).body.stock + paidQuantity).toBe(initial);
    }
  });
});

describe('WORKERS=2: one store, two processes sharing the port', () => {
  let store: ServerProcess;

  beforeAll(async () => {
    store = await startStore({ env: { WORKERS: '2' } });
  });
  afterAll(async () => {
    await store?.stop();
  });

  it('forks two workers that serve checkouts against the same stock', async () => {
    const workers = execFileSync('ps', ['-o', 'pid=', '--ppid', String(store.child.pid)]).toString().trim().split(/\s+/);
    expect(workers).toHaveLength(2);
    const before = (await call('GET', `${store.url}/products/7`)).body.stock as number;
    const carts = await Promise.all(Array.from({ length: 12 }, async () => {
      const cart = await call('POST', `${store.url}/cart`);
      await call('POST', `${store.url}/cart/${cart.body.cart_id}/items`, { product_id: 7, quantity: 1 });
      return cart.body.cart_id as string;
    }));
    const checkouts = await Promise.all(carts.map((id) => call('POST', `${store.url}/cart/${id}/checkout`)));
    expect(checkouts.map((r) => r.status)).toEqual(carts.map(() => 200));
    expect((await call('GET', `${store.url}/products/7`)).body.stock).toBe(before - carts.length);
  });
});

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, freshDatabaseUrl, startStore, type ServerProcess } from './helpers/processes.js';
import { cartWith, orderOf, pendingOrder, shutdown, sleep, startAll, stockOf, stocksOf } from './helpers/shop.js';

/**
 * State lives in the database: a graceful stop, a crash (SIGKILL) and a restart lose nothing that
 * was answered; idle carts and unpaid orders lapse on their own; `npm run db:reset` starts over.
 */
const root = new URL('..', import.meta.url).pathname;
const seed = JSON.parse(readFileSync(new URL('../seed/catalog.json', import.meta.url), 'utf8')) as {
  products: { id: number; stock: number }[];
};
const execFileAsync = promisify(execFile);

interface Snapshot {
  carts: Map<string, any>;
  orders: Map<string, any>;
  stock: Map<number, number>;
  goneCarts: string[];
}

/** Carts, orders and stock as the API shows them. */
async function snapshot(url: string, cartIds: string[], orderIds: string[], productIds: number[], goneCarts: string[]): Promise<Snapshot> {
  const carts = new Map<string, any>();
  for (const id of cartIds) {
    const res = await call('GET', `${url}/cart/${id}`);
    expect(res.status, `cart ${id}`).toBe(200);
    carts.set(id, res.body);
  }
  const orders = new Map<string, any>();
  for (const id of orderIds) orders.set(id, await orderOf(url, id));
  for (const id of goneCarts) expect((await call('GET', `${url}/cart/${id}`)).status).toBe(404);
  return { carts, orders, stock: await stocksOf(url, productIds), goneCarts };
}

/** A cart left open, a pending order, a paid order and a failed one (its cart stays). */
async function populate(url: string, products: [number, number, number, number]) {
  const [a, b, c, d] = products;
  const openCart = await cartWith(url, [
    [a, 2],
    [b, 1],
  ]);
  const pending = await pendingOrder(url, [[b, 3]]);
  const paid = await pendingOrder(url, [
    [c, 1],
    [a, 1],
  ]);
  const confirmed = await call('POST', `${url}/payments/confirm`, { order_id: paid.order_id, status: 'success', payment_id: 'pay_persist' });
  expect(confirmed.status).toBe(200);
  const failed = await pendingOrder(url, [[d, 2]]);
  const refused = await call('POST', `${url}/payments/confirm`, { order_id: failed.order_id, status: 'failed', reason: 'card_declined' });
  expect(refused.status).toBe(200);
  return {
    cartIds: [openCart, failed.cart_id],
    orderIds: [pending.order_id, paid.order_id, failed.order_id],
    goneCarts: [paid.cart_id],
    productIds: [a, b, c, d],
    pending,
  };
}

describe('persistence across restarts', () => {
  const databaseUrl = freshDatabaseUrl();
  let store: ServerProcess | undefined;
  /** CART_TTL_SECONDS=1, ORDER_TTL_SECONDS=1, sweeping every 100 ms. */
  let ttlStore: ServerProcess;
  const orderIdsBeforeReset: string[] = [];
  const cartIdsBeforeReset: string[] = [];

  beforeAll(async () => {
    [store, ttlStore] = await startAll([
      () => startStore({ databaseUrl }),
      () => startStore({ env: { CART_TTL_SECONDS: '1', ORDER_TTL_SECONDS: '1', SWEEP_INTERVAL_MS: '100' } }),
    ]);
  });
  afterAll(async () => {
    await shutdown(store, ttlStore);
  });

  it('SIGTERM and restart on the same database keep carts, orders and stock', async () => {
    const data = await populate(store!.url, [1, 2, 3, 4]);
    const before = await snapshot(store!.url, data.cartIds, data.orderIds, data.productIds, data.goneCarts);
    expect([...before.orders.values()].map((o) => o.status)).toEqual(['pending_payment', 'paid', 'payment_failed']);
    expect(before.orders.get(data.orderIds[1]!)).toMatchObject({ payment_id: 'pay_persist', paid_at: expect.any(String) });
    expect(before.orders.get(data.orderIds[2]!)).toMatchObject({ reason: 'card_declined' });

    await store!.stop();
    expect(store!.child.exitCode).toBe(0);
    store = await startStore({ databaseUrl });

    const after = await snapshot(store.url, data.cartIds, data.orderIds, data.productIds, data.goneCarts);
    expect(after).toEqual(before);
    // The restarted store carries on: the pending order can still be paid, once.
    const paid = await call('POST', `${store.url}/payments/confirm`, { order_id: data.pending.order_id, status: 'success' });
    expect(paid.status).toBe(200);
    expect(await stockOf(store.url, 2)).toBe(before.stock.get(2));
    orderIdsBeforeReset.push(...data.orderIds);
    cartIdsBeforeReset.push(...data.cartIds);
  });

  it('SIGKILL right after the answers loses nothing that was answered', async () => {
    const data = await populate(store!.url, [5, 6, 7, 8]);
    const before = await snapshot(store!.url, data.cartIds, data.orderIds, data.productIds, data.goneCarts);
    // The last answered write, then the crash straight away.
    const last = await call('POST', `${store!.url}/cart/${data.cartIds[0]}/items`, { product_id: 9, quantity: 4 });
    expect(last.status).toBe(200);
    await store!.kill();
    store = await startStore({ databaseUrl });

    const after = await snapshot(store.url, data.cartIds, data.orderIds, data.productIds, data.goneCarts);
    const openCart = after.carts.get(data.cartIds[0]!);
    expect(openCart.items.map((i: any) => [i.product_id, i.quantity])).toEqual([
      [5, 2],
      [6, 1],
      [9, 4],
    ]);
    after.carts.set(data.cartIds[0]!, before.carts.get(data.cartIds[0]!));
    expect(after).toEqual(before);
    orderIdsBeforeReset.push(...data.orderIds);
    cartIdsBeforeReset.push(...data.cartIds);
  });

  it('a cart idle for longer than CART_TTL_SECONDS is gone', async () => {
    const cartId = await cartWith(ttlStore.url, [[10, 1]]);
    expect((await call('GET', `${ttlStore.url}/cart/${cartId}`)).status).toBe(200);
    await sleep(1500);
    const gone = { status: 404, detail: 'Cart not found' };
    const view = await call('GET', `${ttlStore.url}/cart/${cartId}`);
    expect({ status: view.status, detail: view.body?.detail }).toEqual(gone);
    const add = await call('POST', `${ttlStore.url}/cart/${cartId}/items`, { product_id: 10, quantity: 1 });
    expect({ status: add.status, detail: add.body?.detail }).toEqual(gone);
    const checkout = await call('POST', `${ttlStore.url}/cart/${cartId}/checkout`);
    expect({ status: checkout.status, detail: checkout.body?.detail }).toEqual(gone);
  });

  it('an unpaid order expires after ORDER_TTL_SECONDS and its stock comes back by itself', async () => {
    const PRODUCT = 11;
    const initial = await stockOf(ttlStore.url, PRODUCT);
    const order = await pendingOrder(ttlStore.url, [[PRODUCT, 3]]);
    expect(await stockOf(ttlStore.url, PRODUCT)).toBe(initial - 3);
    await sleep(1500);
    // Only the product is read: the sweeper, not a read of the order, must have returned the stock.
    expect(await stockOf(ttlStore.url, PRODUCT)).toBe(initial);
    const view = await orderOf(ttlStore.url, order.order_id);
    expect(view.status).toBe('expired');
    expect(view.expires_at).toBeUndefined();
    const confirm = await call('POST', `${ttlStore.url}/payments/confirm`, { order_id: order.order_id, status: 'success' });
    expect(confirm.status).toBe(400);
    expect(confirm.body).toEqual({ detail: 'Order already processed (status: expired)' });
    const cancel = await call('POST', `${ttlStore.url}/orders/${order.order_id}/cancel`);
    expect(cancel.status).toBe(400);
    expect(cancel.body).toEqual({ detail: 'Order already processed (status: expired)' });
    expect(await stockOf(ttlStore.url, PRODUCT)).toBe(initial);
  });

  it('cancelling a pending order returns its stock, once', async () => {
    const PRODUCT = 12;
    const initial = await stockOf(store!.url, PRODUCT);
    const order = await pendingOrder(store!.url, [[PRODUCT, 2]]);
    expect(await stockOf(store!.url, PRODUCT)).toBe(initial - 2);

    const cancel = await call('POST', `${store!.url}/orders/${order.order_id}/cancel`);
    expect(cancel.status, cancel.text).toBe(200);
    expect(cancel.body).toMatchObject({ order_id: order.order_id, status: 'cancelled' });
    expect(await stockOf(store!.url, PRODUCT)).toBe(initial);
    expect((await orderOf(store!.url, order.order_id)).status).toBe('cancelled');

    const again = await call('POST', `${store!.url}/orders/${order.order_id}/cancel`);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ detail: 'Order already processed (status: cancelled)' });
    const confirm = await call('POST', `${store!.url}/payments/confirm`, { order_id: order.order_id, status: 'success' });
    expect(confirm.status).toBe(400);
    expect(confirm.body).toEqual({ detail: 'Order already processed (status: cancelled)' });
    expect(await stockOf(store!.url, PRODUCT)).toBe(initial);
    orderIdsBeforeReset.push(order.order_id);
  });

  it('db:reset on a stopped store brings back the seed catalog and forgets carts and orders', async () => {
    expect(orderIdsBeforeReset.length).toBeGreaterThan(0);
    await store!.stop();
    await execFileAsync(process.execPath, ['--import', 'tsx', 'src/db/cli.ts', 'reset'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      timeout: 20_000,
    });
    store = await startStore({ databaseUrl });

    const stock = await stocksOf(
      store.url,
      seed.products.map((p) => p.id),
    );
    for (const product of seed.products) expect(stock.get(product.id), `product ${product.id}`).toBe(product.stock);
    for (const id of orderIdsBeforeReset) {
      const res = await call('GET', `${store.url}/orders/${id}`);
      expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: { detail: 'Order not found' } });
    }
    for (const id of cartIdsBeforeReset) expect((await call('GET', `${store.url}/cart/${id}`)).status).toBe(404);
  });

  it('SIGTERM while requests are in flight: they are answered and the process exits promptly', async () => {
    const running = store!;
    const exited = new Promise<number | null>((resolve) => running.child.once('exit', (code) => resolve(code)));
    let signalled = false;
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        try {
          const cartId = await cartWith(running.url, [[13, 1]]);
          const res = await call('POST', `${running.url}/cart/${cartId}/checkout`);
          if (i === 5 && !signalled) {
            signalled = true;
            running.child.kill('SIGTERM');
          }
          return res.status;
        } catch {
          return 'refused'; // connections made after the signal may be refused or reset
        }
      }),
    );
    // Nothing answered during shutdown is a server error.
    expect(outcomes.filter((s) => typeof s === 'number' && s >= 500 && s !== 503)).toEqual([]);
    const code = await Promise.race([exited, sleep(5000).then(() => 'still running' as const)]);
    if (code === 'still running') await running.kill();
    expect(code, 'store process after SIGTERM').toBe(0);
  });
});

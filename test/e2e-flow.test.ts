import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGuideScript } from './helpers/flow.js';
import { call, freshDatabaseUrl, startGateway, startStore, type ServerProcess } from './helpers/processes.js';
import { cents, orderOf, pendingOrder, shutdown, sleep, startAll, stockOf, waitFor } from './helpers/shop.js';

/**
 * The store and the payments gateway as two real processes talking to each other over HTTP:
 * the guide's example flow script verbatim, test cards, double payments, a store that is down
 * while the gateway settles, and a late success for an expired order.
 */

const balanceOf = async (gateway: ServerProcess): Promise<number> => {
  const res = await call('GET', `${gateway.url}/balance`);
  expect(res.status).toBe(200);
  return res.body.balance as number;
};

const payOrder = (gateway: ServerProcess, body: Record<string, unknown>) => call('POST', `${gateway.url}/payments/orders`, body);

describe('store + payments gateway end to end', () => {
  const SECRET = 'e2e-webhook-secret-0123456789abcdef';
  const SIGNED_ORDER_TTL_SECONDS = 2;
  const fast = { CALLBACK_BASE_DELAY_MS: '100', CALLBACK_MAX_ATTEMPTS: '30', CALLBACK_POLL_INTERVAL_MS: '50' };
  /** Unsigned pair, used by most tests; its store is stopped and restarted by the "store down" test. */
  let store: ServerProcess;
  let gateway: ServerProcess;
  let storeDatabaseUrl: string;
  /** Both sides with PAYMENTS_WEBHOOK_SECRET; orders expire after 2 s (enough for the guide's script to pay in time). */
  let signedStore: ServerProcess;
  let signedGateway: ServerProcess;

  beforeAll(async () => {
    storeDatabaseUrl = freshDatabaseUrl();
    [store, signedStore] = await startAll([
      () => startStore({ databaseUrl: storeDatabaseUrl }),
      () => startStore({ env: { PAYMENTS_WEBHOOK_SECRET: SECRET, ORDER_TTL_SECONDS: String(SIGNED_ORDER_TTL_SECONDS), SWEEP_INTERVAL_MS: '100' } }),
    ]);
    [gateway, signedGateway] = await startAll([
      () => startGateway({ storeUrl: store.url, env: fast }),
      () => startGateway({ storeUrl: signedStore.url, env: { ...fast, PAYMENTS_WEBHOOK_SECRET: SECRET } }),
    ]);
  });
  afterAll(async () => {
    await shutdown(gateway, signedGateway, store, signedStore);
  });

  it("runs the guide's example flow script unchanged (unsigned callbacks)", async () => {
    const before = await balanceOf(gateway);
    const { orderId, total } = await runGuideScript(store.url, gateway.url);
    expect(total).toBe('89.99');

    const order = await orderOf(store.url, orderId);
    expect(order.status).toBe('paid');
    expect(order.total).toBe(89.99);
    expect(order.payment_id).toEqual(expect.any(String));
    expect(Number.isNaN(Date.parse(order.paid_at))).toBe(false);
    expect(cents(await balanceOf(gateway))).toBe(cents(before) - 8999);

    const payment = await call('GET', `${gateway.url}/payments/${order.payment_id}`);
    expect(payment.status).toBe(200);
    expect(payment.body.status).toBe('success');
    expect(payment.body.payment.callback.state).toBe('delivered');
    const delivered = payment.body.payment.callback.attempts.filter((a: any) => a.http_status === 200);
    expect(delivered).toHaveLength(1);
    expect(delivered[0].signed).toBe(false);
  });

  it("runs the guide's example flow script with signed callbacks on both sides", async () => {
    const before = await balanceOf(signedGateway);
    const { orderId } = await runGuideScript(signedStore.url, signedGateway.url);

    const order = await orderOf(signedStore.url, orderId);
    expect(order.status).toBe('paid');
    expect(cents(await balanceOf(signedGateway))).toBe(cents(before) - 8999);
    const payment = await call('GET', `${signedGateway.url}/payments/${order.payment_id}`);
    expect(payment.status).toBe(200);
    expect(payment.body.status).toBe('success');
    expect(payment.body.payment.payment_id).toBe(order.payment_id);
    expect(payment.body.payment.order_id).toBe(orderId);
    const callback = payment.body.payment.callback;
    expect(callback.state).toBe('delivered');
    expect(callback.attempts).toHaveLength(1);
    expect(callback.attempts[0]).toMatchObject({ attempt: 1, http_status: 200, error: null, signed: true });

    // The secret is really in force on that store: an unsigned confirm is refused.
    const other = await pendingOrder(signedStore.url, [[3, 1]]);
    const unsigned = await call('POST', `${signedStore.url}/payments/confirm`, { order_id: other.order_id, status: 'success' });
    expect(unsigned.status).toBe(401);
    expect((await orderOf(signedStore.url, other.order_id)).status).toBe('pending_payment');
  });

  it.each([
    ['4000000000000002', 'card_declined'],
    ['4000000000009995', 'insufficient_funds'],
    ['4000000000000119', 'processing_error'],
  ])('test card %s fails with %s: nothing debited, order payment_failed, stock back', async (card, reason) => {
    const PRODUCT = 14;
    const stockBefore = await stockOf(store.url, PRODUCT);
    const order = await pendingOrder(store.url, [[PRODUCT, 2]]);
    expect(await stockOf(store.url, PRODUCT)).toBe(stockBefore - 2);
    const before = await balanceOf(gateway);

    const res = await payOrder(gateway, { order_id: order.order_id, amount: order.total, card_number: card });

    expect(res.status, res.text).toBe(402);
    expect(res.body.status).toBe('failed');
    expect(res.body.reason).toBe(reason);
    expect(await balanceOf(gateway)).toBe(before);
    const view = await orderOf(store.url, order.order_id);
    expect(view.status).toBe('payment_failed');
    expect(view.reason).toBe(reason);
    expect(await stockOf(store.url, PRODUCT)).toBe(stockBefore);
    // The cart stays after a failed payment (old contract).
    expect((await call('GET', `${store.url}/cart/${order.cart_id}`)).status).toBe(200);
  });

  it('an ordinary card pays: debited once, order paid with the payment id', async () => {
    const order = await pendingOrder(store.url, [[14, 1]]);
    const before = await balanceOf(gateway);
    const res = await payOrder(gateway, { order_id: order.order_id, amount: order.total, card_number: '4242424242424242' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ status: 'success', shop_notified: true, payment_id: expect.any(String) });
    expect(cents(res.body.balance)).toBe(cents(before) - cents(order.total));
    expect(cents(await balanceOf(gateway))).toBe(cents(before) - cents(order.total));
    const view = await orderOf(store.url, order.order_id);
    expect(view.status).toBe('paid');
    expect(view.payment_id).toBe(res.body.payment_id);
  });

  it('paying one order twice debits once and answers the first response again', async () => {
    const order = await pendingOrder(store.url, [[13, 1]]);
    const before = await balanceOf(gateway);
    const first = await payOrder(gateway, { order_id: order.order_id, amount: order.total });
    expect(first.status, first.text).toBe(200);
    const second = await payOrder(gateway, { order_id: order.order_id, amount: order.total });
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(cents(await balanceOf(gateway))).toBe(cents(before) - cents(order.total));
    expect((await orderOf(store.url, order.order_id)).status).toBe('paid');
  });

  it('10 concurrent payments of one order debit once', async () => {
    const order = await pendingOrder(store.url, [[13, 2]]);
    const before = await balanceOf(gateway);
    const results = await Promise.all(Array.from({ length: 10 }, () => payOrder(gateway, { order_id: order.order_id, amount: order.total })));
    for (const r of results) expect(r.status, r.text).toBe(200);
    expect(new Set(results.map((r) => r.body.payment_id)).size).toBe(1);
    expect(cents(await balanceOf(gateway))).toBe(cents(before) - cents(order.total));
    const view = await orderOf(store.url, order.order_id);
    expect(view.status).toBe('paid');
    expect(view.payment_id).toBe(results[0]!.body.payment_id);
  });

  it('an amount one cent off is refused by /payments/confirm and the order stays pending', async () => {
    const PRODUCT = 16;
    const order = await pendingOrder(store.url, [[PRODUCT, 3]]);
    const reserved = await stockOf(store.url, PRODUCT);
    for (const amount of [(cents(order.total) - 1) / 100, (cents(order.total) + 1) / 100]) {
      const res = await call('POST', `${store.url}/payments/confirm`, { order_id: order.order_id, status: 'success', amount });
      expect(res.status, res.text).toBe(400);
      expect(res.body.detail).toEqual(expect.any(String));
      expect((await orderOf(store.url, order.order_id)).status).toBe('pending_payment');
      expect(await stockOf(store.url, PRODUCT)).toBe(reserved);
    }
    const exact = await call('POST', `${store.url}/payments/confirm`, { order_id: order.order_id, status: 'success', amount: order.total });
    expect(exact.status, exact.text).toBe(200);
    expect((await orderOf(store.url, order.order_id)).status).toBe('paid');
  });

  it('a late success for an expired order (signed) is refused by the store and refunded by the gateway', async () => {
    const PRODUCT = 15;
    const initial = await stockOf(signedStore.url, PRODUCT);
    const order = await pendingOrder(signedStore.url, [[PRODUCT, 2]]);
    expect(await stockOf(signedStore.url, PRODUCT)).toBe(initial - 2);
    await sleep(SIGNED_ORDER_TTL_SECONDS * 1000 + 500);
    const before = await balanceOf(signedGateway);

    const res = await payOrder(signedGateway, { order_id: order.order_id, amount: order.total });

    expect(res.body.payment_id, res.text).toEqual(expect.any(String));
    expect(res.body.shop_notified).not.toBe(true);
    expect(await waitFor(() => balanceOf(signedGateway), (b) => b === before, 3000)).toBe(before);
    const payment = await call('GET', `${signedGateway.url}/payments/${res.body.payment_id}`);
    expect(payment.body.status).toBe('success');
    expect(payment.body.payment.status).toBe('refunded');
    expect(payment.body.payment.callback.attempts[0]).toMatchObject({ http_status: 400, signed: true });
    const view = await orderOf(signedStore.url, order.order_id);
    expect(view.status).toBe('expired');
    expect(await stockOf(signedStore.url, PRODUCT)).toBe(initial);
  });

  // Last: it stops and restarts the shared store.
  it('a payment settled while the store is down reaches the store once it is back', async () => {
    const PRODUCT = 17;
    const order = await pendingOrder(store.url, [[PRODUCT, 1]]);
    const before = await balanceOf(gateway);
    await store.stop();

    const res = await payOrder(gateway, { order_id: order.order_id, amount: order.total });
    expect(res.status, res.text).toBe(200);
    expect(res.body.status).toBe('success');
    expect(res.body.shop_notified).toBe(false);
    expect(cents(await balanceOf(gateway))).toBe(cents(before) - cents(order.total));

    store = await startStore({ databaseUrl: storeDatabaseUrl, port: store.port });
    // The gateway's retries back off (100 ms doubling): a store down for 15 s on a loaded machine
    // may next be tried 10-20 s after it is back.
    const paid = await waitFor(() => orderOf(store.url, order.order_id), (o) => o?.status === 'paid', 30_000, 100);
    expect(paid.status).toBe('paid');
    expect(paid.payment_id).toBe(res.body.payment_id);

    const payment = await waitFor(
      () => call('GET', `${gateway.url}/payments/${res.body.payment_id}`),
      (p) => p.body?.payment?.callback?.state === 'delivered',
      3000,
    );
    const callback = payment.body.payment.callback;
    expect(callback.state).toBe('delivered');
    expect(callback.attempts.length).toBeGreaterThanOrEqual(2);
    expect(callback.attempts[0].http_status).toBeNull();
    expect(callback.attempts.at(-1).http_status).toBe(200);
    // Debited once, whatever the number of attempts.
    expect(cents(await balanceOf(gateway))).toBe(cents(before) - cents(order.total));
  }, 90_000);
});

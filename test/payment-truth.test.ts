import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, freePort, freshDatabaseUrl, startGateway, startStore, tempDir, type ServerProcess } from './helpers/processes.js';
import { cents, orderOf, pendingOrder, shutdown, sleep, startAll, stockOf, waitFor } from './helpers/shop.js';

/**
 * Money and goods agree (issue 7), each reproduction as a test with the store (on this project's
 * database) and the gateway as real processes: a success repeated after a lost answer, a refund
 * while a callback waits, refused attempts that leave the order payable, undeliverable
 * callbacks, refunds reaching the store, and amounts that are or are not money.
 */
const SECRET = 'issue-7-webhook-secret-0123456789';
const FAST = { CALLBACK_BASE_DELAY_MS: '100', CALLBACK_POLL_INTERVAL_MS: '50', CALLBACK_MAX_ATTEMPTS: '30' };

const balanceOf = async (gateway: ServerProcess): Promise<number> => (await call('GET', `${gateway.url}/balance`)).body.balance as number;
const payOrder = (gateway: ServerProcess, body: unknown) => call('POST', `${gateway.url}/payments/orders`, body);
const paymentOf = async (gateway: ServerProcess, paymentId: string) => (await call('GET', `${gateway.url}/payments/${paymentId}`)).body.payment;
/** Polls a payment until its callback job is no longer pending, and returns it. */
const settledPayment = (gateway: ServerProcess, paymentId: string, timeoutMs = 10_000) =>
  waitFor(() => paymentOf(gateway, paymentId), (p) => p?.callback?.state !== 'pending', timeoutMs, 50);

describe('payments and orders agree', () => {
  const storeDatabaseUrl = freshDatabaseUrl();
  let storePort: number;
  let store: ServerProcess;
  /** CALLBACK_TIMEOUT_MS=1000, fast retries, signed. */
  let gateway: ServerProcess;
  /** A second store on the same database without a webhook secret: callbacks sent by hand. */
  let unsignedStore: ServerProcess;
  const extra: ServerProcess[] = [];

  beforeAll(async () => {
    storePort = await freePort();
    store = await startStore({ databaseUrl: storeDatabaseUrl, port: storePort, env: { PAYMENTS_WEBHOOK_SECRET: SECRET } });
    [gateway, unsignedStore] = await startAll([
      () => startGateway({ storeUrl: store.url, env: { ...FAST, PAYMENTS_WEBHOOK_SECRET: SECRET, CALLBACK_TIMEOUT_MS: '1000' } }),
      () => startStore({ databaseUrl: storeDatabaseUrl }),
    ]);
  });
  afterAll(async () => {
    await shutdown(gateway, store, unsignedStore, ...extra);
  });

  /** Stops the store, runs fn while it is down, starts it again on the same port and database. */
  async function whileStoreDown(fn: () => Promise<void>): Promise<void> {
    await store.stop();
    try {
      await fn();
    } finally {
      store = await startStore({ databaseUrl: storeDatabaseUrl, port: storePort, env: { PAYMENTS_WEBHOOK_SECRET: SECRET } });
    }
  }

  it('a success the store committed while paused past CALLBACK_TIMEOUT_MS is repeated, acknowledged, and kept', async () => {
    const order = await pendingOrder(store.url, [[3, 1]]);
    const before = await balanceOf(gateway);
    store.child.kill('SIGSTOP');
    const paying = payOrder(gateway, { order_id: order.order_id, amount: order.total });
    await sleep(1500);
    store.child.kill('SIGCONT');
    const res = await paying;
    expect(res.status, res.text).toBe(200);
    expect(res.body.shop_notified).toBe(false);

    const payment = await settledPayment(gateway, res.body.payment_id);
    expect(payment).toMatchObject({ status: 'succeeded', callback: { event: 'success', state: 'delivered' } });
    expect(payment.callback.attempts[0]).toMatchObject({ attempt: 1, http_status: null, error: 'timed out after 1000 ms' });
    expect(payment.callback.attempts.at(-1)).toMatchObject({ http_status: 200, error: null });
    const view = await orderOf(store.url, order.order_id);
    expect(view).toMatchObject({ status: 'paid', payment_id: res.body.payment_id });
    expect(cents(await balanceOf(gateway))).toBe(cents(before) - cents(order.total));
  });

  it('the same success callback again is acknowledged 200 and changes nothing; without the payment id it is the old 400', async () => {
    const order = await pendingOrder(store.url, [[4, 1]]);
    const res = await payOrder(gateway, { order_id: order.order_id, amount: order.total });
    expect(res.body.shop_notified).toBe(true);
    const stock = await stockOf(store.url, 4);
    // Replayed through the gateway's outbox would need a lost answer; the store's side is the same for a hand-made repeat.
    const again = await call('POST', `${unsignedStore.url}/payments/confirm`, { order_id: order.order_id, status: 'success', amount: order.total, payment_id: res.body.payment_id });
    expect([again.status, again.body]).toEqual([200, { order_id: order.order_id, status: 'paid', message: 'Payment confirmed. Stock updated.' }]);
    const bare = await call('POST', `${unsignedStore.url}/payments/confirm`, { order_id: order.order_id, status: 'success' });
    expect([bare.status, bare.body]).toEqual([400, { detail: 'Order already processed (status: paid)' }]);
    const other = await call('POST', `${unsignedStore.url}/payments/confirm`, { order_id: order.order_id, status: 'success', payment_id: 'pay_other' });
    expect(other.status).toBe(400);
    expect((await orderOf(store.url, order.order_id)).payment_id).toBe(res.body.payment_id);
    expect(await stockOf(store.url, 4)).toBe(stock);
  });

  it('a refund while the success callback waits for a retry cancels it: the store hears "refunded" and the order stays payable', async () => {
    const order = await pendingOrder(store.url, [[5, 1]]);
    const before = await balanceOf(gateway);
    let paymentId = '';
    await whileStoreDown(async () => {
      const res = await payOrder(gateway, { order_id: order.order_id, amount: order.total });
      expect(res.status, res.text).toBe(200);
      expect(res.body.shop_notified).toBe(false);
      paymentId = res.body.payment_id;
      const refund = await call('POST', `${gateway.url}/payments/${paymentId}/refund`);
      expect(refund.status, refund.text).toBe(200);
    });
    const payment = await settledPayment(gateway, paymentId);
    expect(payment).toMatchObject({ status: 'refunded', reason: 'refund_requested', callback: { event: 'refunded', state: 'delivered' } });
    expect(payment.callback.attempts.filter((a: any) => a.event === 'success' && a.http_status === 200)).toEqual([]);
    expect((await orderOf(store.url, order.order_id)).status).toBe('pending_payment');
    expect(await balanceOf(gateway)).toBe(before);

    const again = await payOrder(gateway, { order_id: order.order_id, amount: order.total });
    expect(again.status, again.text).toBe(200);
    expect(again.body.payment_id).not.toBe(paymentId);
    expect(await orderOf(store.url, order.order_id)).toMatchObject({ status: 'paid', payment_id: again.body.payment_id });
    expect(cents(await balanceOf(gateway))).toBe(cents(before) - cents(order.total));
  });

  it('a late success for a payment the store was told is refunded is refused; the order stays payable', async () => {
    const order = await pendingOrder(store.url, [[5, 1]]);
    const confirm = (status: string) =>
      call('POST', `${unsignedStore.url}/payments/confirm`, { order_id: order.order_id, status, amount: order.total, payment_id: 'pay_late' });
    const told = await confirm('refunded');
    expect([told.status, told.body]).toEqual([
      200,
      { order_id: order.order_id, status: 'pending_payment', message: 'Refund noted: the order was not paid with this payment.' },
    ]);
    const late = await confirm('success');
    expect([late.status, late.body]).toEqual([400, { detail: 'Payment pay_late was refunded' }]);
    expect((await orderOf(store.url, order.order_id)).status).toBe('pending_payment');
  });

  it('a wrong amount is refused and refunded, then the right amount pays', async () => {
    const order = await pendingOrder(store.url, [[3, 1]]);
    expect(order.total).toBe(89.99);
    const before = await balanceOf(gateway);
    const wrong = await payOrder(gateway, { order_id: order.order_id, amount: 89.9 });
    expect(wrong.status, wrong.text).toBe(402);
    expect(wrong.body).toMatchObject({ reason: 'store_rejected', message: 'Payment refunded: the store refused the order (Amount 89.9 does not match order total 89.99)' });
    expect(await balanceOf(gateway)).toBe(before);
    expect((await orderOf(store.url, order.order_id)).status).toBe('pending_payment');

    const right = await payOrder(gateway, { order_id: order.order_id, amount: 89.99 });
    expect(right.status, right.text).toBe(200);
    expect(right.body.shop_notified).toBe(true);
    expect(await orderOf(store.url, order.order_id)).toMatchObject({ status: 'paid', payment_id: right.body.payment_id });
    expect(cents(await balanceOf(gateway))).toBe(cents(before) - 8999);
  });

  it('a callback refused for a wrong webhook secret is refunded; the same gateway with the right secret then pays', async () => {
    const order = await pendingOrder(store.url, [[6, 1]]);
    const port = await freePort();
    const databaseUrl = `sqlite:${join(tempDir('gateway-test-'), 'payments.db')}`;
    const wrongGateway = await startGateway({ storeUrl: store.url, port, databaseUrl, env: { ...FAST, PAYMENTS_WEBHOOK_SECRET: 'not-the-store-secret-0123456789' } });
    const refused = await payOrder(wrongGateway, { order_id: order.order_id, amount: order.total });
    await wrongGateway.stop();
    expect(refused.status, refused.text).toBe(402);
    expect(refused.body).toMatchObject({ reason: 'store_rejected', balance: 50000 });
    expect((await orderOf(store.url, order.order_id)).status).toBe('pending_payment');

    const rightGateway = await startGateway({ storeUrl: store.url, port, databaseUrl, env: { ...FAST, PAYMENTS_WEBHOOK_SECRET: SECRET } });
    extra.push(rightGateway);
    const paid = await payOrder(rightGateway, { order_id: order.order_id, amount: order.total });
    expect(paid.status, paid.text).toBe(200);
    expect(paid.body.payment_id).not.toBe(refused.body.payment_id);
    expect(await orderOf(store.url, order.order_id)).toMatchObject({ status: 'paid', payment_id: paid.body.payment_id });
    expect(cents(await balanceOf(rightGateway))).toBe(cents(50000) - cents(order.total));
  });

  it('a success whose callback never gets through is refunded, and the order stays payable', async () => {
    const order = await pendingOrder(store.url, [[7, 1]]);
    const impatient = await startGateway({
      storeUrl: store.url,
      env: { PAYMENTS_WEBHOOK_SECRET: SECRET, CALLBACK_MAX_ATTEMPTS: '2', CALLBACK_BASE_DELAY_MS: '50', CALLBACK_POLL_INTERVAL_MS: '20' },
    });
    extra.push(impatient);
    let paymentId = '';
    await whileStoreDown(async () => {
      const res = await payOrder(impatient, { order_id: order.order_id, amount: order.total });
      expect(res.status, res.text).toBe(200);
      paymentId = res.body.payment_id;
      const payment = await settledPayment(impatient, paymentId);
      expect(payment).toMatchObject({ status: 'refunded', reason: 'callback_undelivered', callback: { event: 'refunded', state: 'failed' } });
      expect(await balanceOf(impatient)).toBe(50000);
    });
    expect((await orderOf(store.url, order.order_id)).status).toBe('pending_payment');
    const again = await payOrder(impatient, { order_id: order.order_id, amount: order.total });
    expect(again.status, again.text).toBe(200);
    expect(await orderOf(store.url, order.order_id)).toMatchObject({ status: 'paid', payment_id: again.body.payment_id });
  });

  it('a refund of a paid order makes it refunded on the store (stock not restocked); paying it again is refused and refunded', async () => {
    const PRODUCT = 8;
    const order = await pendingOrder(store.url, [[PRODUCT, 2]]);
    const paid = await payOrder(gateway, { order_id: order.order_id, amount: order.total });
    expect(paid.status, paid.text).toBe(200);
    const stock = await stockOf(store.url, PRODUCT);
    const before = await balanceOf(gateway);

    const refund = await call('POST', `${gateway.url}/payments/${paid.body.payment_id}/refund`);
    expect(refund.status, refund.text).toBe(200);
    expect(cents(refund.body.balance)).toBe(cents(before) + cents(order.total));
    const refunded = await waitFor(() => orderOf(store.url, order.order_id), (o) => o.status === 'refunded', 5000);
    expect(refunded).toMatchObject({ status: 'refunded', payment_id: paid.body.payment_id, reason: 'refund_requested' });
    expect(await stockOf(store.url, PRODUCT)).toBe(stock);
    expect((await settledPayment(gateway, paid.body.payment_id)).callback).toMatchObject({ event: 'refunded', state: 'delivered' });

    const again = await payOrder(gateway, { order_id: order.order_id, amount: order.total });
    expect(again.status, again.text).toBe(402);
    expect(again.body).toMatchObject({
      message: 'Payment refunded: the store refused the order (Order already processed (status: refunded))',
      reason: 'store_rejected',
    });
    expect(cents(await balanceOf(gateway))).toBe(cents(before) + cents(order.total));
    expect((await orderOf(store.url, order.order_id)).status).toBe('refunded');
    const cancel = await call('POST', `${store.url}/orders/${order.order_id}/cancel`);
    expect([cancel.status, cancel.body]).toEqual([400, { detail: 'Order already processed (status: refunded)' }]);
  });

  it('amounts within a millionth of a cent are that cent; finer ones are told so; text is never money', async () => {
    const order = await pendingOrder(store.url, [[3, 3]]);
    expect(order.total).toBe(269.97);
    const before = await balanceOf(gateway);
    const cases: [unknown, string][] = [
      [0.001, 'Amount must have at most two decimal places'],
      [269.971, 'Amount must have at most two decimal places'],
      [1e-9, 'Amount must be at least 0.01'],
      ['269.97', 'Amount must be a positive number'],
      ['100', 'Amount must be a positive number'],
      ['1e2', 'Amount must be a positive number'],
      [' 5 ', 'Amount must be a positive number'],
      [-269.97, 'Amount must be a positive number'],
    ];
    for (const [amount, message] of cases) {
      const res = await payOrder(gateway, { order_id: order.order_id, amount });
      expect({ amount, status: res.status, body: res.body }).toEqual({ amount, status: 400, body: { status: 'failed', message } });
    }
    expect(await balanceOf(gateway)).toBe(before);

    // What JavaScript computes for 3 x 89.99.
    const res = await payOrder(gateway, { order_id: order.order_id, amount: 3 * 89.99 });
    expect(res.status, res.text).toBe(200);
    expect(res.body.message).toBe(`Payment of 269.97 for order ${order.order_id} completed`);
    expect(res.body.transaction.amount).toBe(269.97);
    expect(cents(await balanceOf(gateway))).toBe(cents(before) - 26997);
    expect((await orderOf(store.url, order.order_id)).status).toBe('paid');
  });

  it("the store's callback takes money only as a JSON number, to the cent", async () => {
    const order = await pendingOrder(store.url, [[9, 1]]);
    const confirm = (amount: unknown) => call('POST', `${unsignedStore.url}/payments/confirm`, { order_id: order.order_id, status: 'success', amount });
    for (const text of [String(order.total), '1e2', ` ${order.total} `]) {
      const res = await confirm(text);
      expect(res.status, res.text).toBe(422);
      expect(res.body.detail[0]).toMatchObject({ type: 'float_parsing', loc: ['body', 'amount'] });
    }
    const finer = await confirm(order.total + 0.001);
    expect([finer.status, finer.body]).toEqual([400, { detail: 'Amount must have at most two decimal places' }]);
    expect((await orderOf(store.url, order.order_id)).status).toBe('pending_payment');
    const close = await confirm(order.total + 1e-12);
    expect(close.status, close.text).toBe(200);
    expect((await orderOf(store.url, order.order_id)).status).toBe('paid');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startStore, type ServerProcess } from './helpers/processes.js';
import { cartWith, orderOf, pendingOrder, shutdown, stockOf, stocksOf } from './helpers/shop.js';

/**
 * One store process hammered with concurrent requests: stock is never oversold or lost, an order
 * leaves pending_payment exactly once, and Idempotency-Key requests do their work once.
 * Each test uses its own products so that the others' reservations do not disturb its arithmetic.
 */
describe('concurrent requests on one store', () => {
  let store: ServerProcess;

  beforeAll(async () => {
    store = await startStore();
  });
  afterAll(async () => {
    await shutdown(store);
  });

  it('concurrent checkouts of one product never oversell', async () => {
    const PRODUCT = 4;
    const initial = await stockOf(store.url, PRODUCT);
    expect(initial).toBeGreaterThan(0);
    const carts = await Promise.all(Array.from({ length: 40 }, () => cartWith(store.url, [[PRODUCT, 2]])));

    const results = await Promise.all(carts.map((id) => call('POST', `${store.url}/cart/${id}/checkout`)));

    const succeeded = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    const expected = Math.min(carts.length, Math.floor(initial / 2));
    expect(succeeded).toHaveLength(expected);
    for (const r of refused) {
      expect(r.status, r.text).toBe(400);
      expect(r.body.detail).toMatch(/^Not enough stock for '4K Webcam' \(requested 2, available [01]\)$/);
    }
    expect(new Set(succeeded.map((r) => r.body.order_id)).size).toBe(succeeded.length);
    const final = await stockOf(store.url, PRODUCT);
    expect(final).toBe(initial - 2 * succeeded.length);
    expect(final).toBeGreaterThanOrEqual(0);
  });

  it('30 concurrent confirms of one order: exactly one pays', async () => {
    const PRODUCT = 5;
    const before = await stockOf(store.url, PRODUCT);
    const order = await pendingOrder(store.url, [[PRODUCT, 1]]);

    const results = await Promise.all(
      Array.from({ length: 30 }, () => call('POST', `${store.url}/payments/confirm`, { order_id: order.order_id, status: 'success' })),
    );

    const paid = results.filter((r) => r.status === 200);
    expect(paid).toHaveLength(1);
    expect(paid[0]!.body).toEqual({ order_id: order.order_id, status: 'paid', message: 'Payment confirmed. Stock updated.' });
    const others = results.filter((r) => r.status !== 200);
    expect(others).toHaveLength(29);
    for (const r of others) {
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ detail: 'Order already processed (status: paid)' });
    }
    expect((await orderOf(store.url, order.order_id)).status).toBe('paid');
    expect(await stockOf(store.url, PRODUCT)).toBe(before - 1);
    expect((await call('GET', `${store.url}/cart/${order.cart_id}`)).status).toBe(404);
  });

  it('racing success, failure and cancel: paid quantity + stock = initial stock, per product', async () => {
    const PRODUCTS = [1, 2, 6];
    const initial = await stocksOf(store.url, PRODUCTS);
    const carts = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        cartWith(store.url, [
          [PRODUCTS[i % 3]!, 1 + (i % 4)],
          [PRODUCTS[(i + 1) % 3]!, 1 + (i % 2)],
        ]),
      ),
    );
    // Checked out at once: the carts lock the same products in different orders.
    const checkouts = await Promise.all(carts.map((id) => call('POST', `${store.url}/cart/${id}/checkout`)));
    expect.soft(checkouts.map((r) => `${r.status} ${r.status === 200 ? '' : r.text}`.trim())).toEqual(checkouts.map(() => '200'));
    const orders = checkouts.filter((r) => r.status === 200).map((r, i) => ({ order_id: r.body.order_id as string, index: i }));

    // Every order gets a confirm (even index: success, odd: failed) and two cancels, all at once.
    const raced = await Promise.all(
      orders.map(async (order) => {
        const [confirm, ...cancels] = await Promise.all([
          call('POST', `${store.url}/payments/confirm`, { order_id: order.order_id, status: order.index % 2 === 0 ? 'success' : 'failed' }),
          call('POST', `${store.url}/orders/${order.order_id}/cancel`),
          call('POST', `${store.url}/orders/${order.order_id}/cancel`),
        ]);
        return { order, confirm: confirm!, cancels };
      }),
    );

    let paidCount = 0;
    const paidQuantity = new Map<number, number>(PRODUCTS.map((id) => [id, 0]));
    for (const { order, confirm, cancels } of raced) {
      const winners = [confirm, ...cancels].filter((r) => r.status === 200);
      expect(winners, `order ${order.order_id}: exactly one state change`).toHaveLength(1);
      for (const loser of [confirm, ...cancels].filter((r) => r.status !== 200)) {
        expect(loser.status).toBe(400);
        expect(loser.body.detail).toMatch(/^Order already processed \(status: (paid|payment_failed|cancelled)\)$/);
      }
      const view = await orderOf(store.url, order.order_id);
      const expected = confirm.status === 200 ? confirm.body.status : 'cancelled';
      expect(view.status).toBe(expected);
      if (view.status === 'paid') {
        paidCount++;
        for (const item of view.items) paidQuantity.set(item.product_id, paidQuantity.get(item.product_id)! + item.quantity);
      }
    }
    expect(paidCount).toBeLessThanOrEqual(10);

    const final = await stocksOf(store.url, PRODUCTS);
    for (const id of PRODUCTS) {
      expect(final.get(id)! + paidQuantity.get(id)!, `product ${id}`).toBe(initial.get(id));
    }
  });

  it('10 concurrent checkouts with one Idempotency-Key make one order', async () => {
    const PRODUCT = 7;
    const before = await stockOf(store.url, PRODUCT);
    const cartId = await cartWith(store.url, [[PRODUCT, 3]]);
    const key = `checkout-${cartId}`;
    const url = `${store.url}/cart/${cartId}/checkout`;

    const results = await Promise.all(Array.from({ length: 10 }, () => call('POST', url, undefined, { 'Idempotency-Key': key })));

    for (const r of results) expect(r.status, r.text).toBe(200);
    const orderIds = new Set(results.map((r) => r.body.order_id));
    expect(orderIds.size).toBe(1);
    for (const r of results) expect(r.body).toEqual(results[0]!.body);
    // One request did the work; the others waited for it and replayed its answer.
    expect(results.filter((r) => r.headers.get('idempotent-replayed') !== 'true')).toHaveLength(1);
    expect(await stockOf(store.url, PRODUCT)).toBe(before - 3);
    const [orderId] = [...orderIds];
    expect((await orderOf(store.url, orderId)).status).toBe('pending_payment');

    const replay = await call('POST', url, undefined, { 'Idempotency-Key': key });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(results[0]!.body);
    expect(await stockOf(store.url, PRODUCT)).toBe(before - 3);

    const different = await call('POST', url, { note: 'another request' }, { 'Idempotency-Key': key });
    expect(different.status, different.text).toBe(422);
    expect(different.body.detail).toEqual(expect.any(String));
    const otherCart = await cartWith(store.url, [[PRODUCT, 1]]);
    const otherUrl = await call('POST', `${store.url}/cart/${otherCart}/checkout`, undefined, { 'Idempotency-Key': key });
    expect(otherUrl.status, otherUrl.text).toBe(422);
    expect(await stockOf(store.url, PRODUCT)).toBe(before - 3);

    // Without a key, checking out the same cart again is a new order (old contract).
    const again = await call('POST', url);
    expect(again.status).toBe(200);
    expect(again.body.order_id).not.toBe(orderId);
    expect(await stockOf(store.url, PRODUCT)).toBe(before - 6);
  });

  it('two concurrent item adds with one Idempotency-Key add the quantity once', async () => {
    const PRODUCT = 8;
    const cartId = await cartWith(store.url, []);
    const key = `add-${cartId}`;
    const body = { product_id: PRODUCT, quantity: 2 };

    const results = await Promise.all([
      call('POST', `${store.url}/cart/${cartId}/items`, body, { 'Idempotency-Key': key }),
      call('POST', `${store.url}/cart/${cartId}/items`, body, { 'Idempotency-Key': key }),
    ]);

    for (const r of results) {
      expect(r.status, r.text).toBe(200);
      expect(r.body).toEqual({ cart_id: cartId, product_id: PRODUCT, quantity: 2 });
    }
    expect(results.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(1);
    const cart = await call('GET', `${store.url}/cart/${cartId}`);
    expect(cart.body.items).toHaveLength(1);
    expect(cart.body.items[0].quantity).toBe(2);

    // A new key adds again (quantities accumulate); the old key with another body is refused.
    const more = await call('POST', `${store.url}/cart/${cartId}/items`, body, { 'Idempotency-Key': `${key}-2` });
    expect(more.body.quantity).toBe(4);
    const conflict = await call('POST', `${store.url}/cart/${cartId}/items`, { product_id: PRODUCT, quantity: 5 }, { 'Idempotency-Key': key });
    expect(conflict.status).toBe(422);
    expect((await call('GET', `${store.url}/cart/${cartId}`)).body.items[0].quantity).toBe(4);
  });
});

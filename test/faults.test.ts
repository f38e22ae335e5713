import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type ServerProcess } from './helpers/processes.js';
import { createSandbox, startPair } from './helpers/sandboxes.js';
import { cartWith, cents, orderOf, pendingOrder, shutdown, stockOf, waitFor } from './helpers/shop.js';

/**
 * Faults on demand (spec/sandboxes.md section 2) through a real store and gateway: every rule
 * kind with its observable effect, the X-Fault header, `times` and seeded `probability`, fired
 * counts, validation, and what reset and delete do to the rules.
 */
describe('faults', () => {
  let store: ServerProcess;
  let gateway: ServerProcess;

  beforeAll(async () => {
    // Fast callback retries: a dropped first attempt is retried within a few tens of milliseconds.
    const pair = await startPair({ env: { CALLBACK_BASE_DELAY_MS: '50', CALLBACK_POLL_INTERVAL_MS: '20' } });
    store = pair.stores[0]!;
    gateway = pair.gateway;
  });
  afterAll(() => shutdown(store, gateway));

  const setFaults = async (id: string, rules: unknown[]) => {
    const res = await call('PUT', `${store.url}/sandboxes/${id}/faults`, { rules });
    expect(res.status, res.text).toBe(200);
    return res.body;
  };
  const faultsOf = async (id: string) => (await call('GET', `${store.url}/sandboxes/${id}/faults`)).body.rules as any[];
  const pay = (box: { payments_url: string }, order: { order_id: string; total: number }) =>
    call('POST', `${box.payments_url}/payments/orders`, { order_id: order.order_id, amount: order.total });
  const balance = async (box: { payments_url: string }) => (await call('GET', `${box.payments_url}/balance`)).body.balance as number;

  it('validates rules: 422 naming the rule and field, 404 for an unknown sandbox, at most MAX_FAULT_RULES', async () => {
    const box = await createSandbox(store.url);
    const put = (body: unknown) => call('PUT', `${store.url}/sandboxes/${box.sandbox_id}/faults`, body);
    const cases: [unknown, string][] = [
      [{ rules: [{ kind: 'meteor' }] }, 'rules[0].kind must be one of latency, error, out_of_stock, price_change, payment_decline, callback'],
      [{ rules: [{ kind: 'latency', ms: 300 }, { kind: 'latency', ms: 600_001 }] }, 'rules[1].ms must be <= 60000'],
      [{ rules: [{ kind: 'error', status: 503, match: { path: 'products' } }] }, 'rules[0].match.path must match pattern "^/"'],
      [{ rules: [{ kind: 'error', status: 200 }] }, 'rules[0].status must be >= 400'],
      [{ rules: [{ kind: 'callback', mode: 'delay' }] }, "rules[0].ms is required with mode 'delay' and only there"],
      [{ rules: [{ kind: 'payment_decline', reason: 'stolen' }] }, 'rules[0].reason must be one of card_declined, insufficient_funds, processing_error'],
      [{ rules: [{ kind: 'latency', ms: 1, probability: 2 }] }, 'rules[0].probability must be <= 1'],
      [{ rules: [{ kind: 'out_of_stock', product_id: 3, colour: 'red' }] }, "rules[0]: unknown field 'colour'"],
      [{ rules: [{ kind: 'price_change', product_id: 3, price: 1.234 }] }, 'rules[0].price: Amount must have at most two decimal places'],
      [{ rules: Array.from({ length: 101 }, () => ({ kind: 'latency', ms: 1 })) }, 'At most 100 fault rules per sandbox (MAX_FAULT_RULES), got 101'],
      [{}, 'Body must be {"rules": [...]}'],
    ];
    for (const [body, detail] of cases) {
      const res = await put(body);
      expect(res.status, res.text).toBe(422);
      expect(res.body).toEqual({ detail });
    }
    expect(await faultsOf(box.sandbox_id)).toEqual([]);
    expect((await call('PUT', `${store.url}/sandboxes/nope/faults`, { rules: [] })).status).toBe(404);
    expect((await call('GET', `${store.url}/sandboxes/nope/faults`)).body).toEqual({ detail: 'Sandbox not found' });
  });

  it('error and latency rules: matched by method and path, no work done, Retry-After, times, fired counts, then cleared', async () => {
    const box = await createSandbox(store.url);
    const id = box.sandbox_id;
    const cartId = await cartWith(box.store_url, [[3, 1]]);
    const stock = await stockOf(box.store_url, 3);
    await setFaults(id, [
      { kind: 'latency', ms: 20, match: { method: 'GET', path: '/products*' } },
      { kind: 'error', status: 503, match: { method: 'POST', path: '/cart/*/checkout' }, times: 1 },
      { kind: 'error', status: 500, match: { server: 'gateway', path: '/balance' }, times: 2 },
    ]);
    const refused = await call('POST', `${box.store_url}/cart/${cartId}/checkout`);
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ detail: 'Injected fault' });
    expect(refused.headers.get('retry-after')).toBe('1');
    // Nothing was done: the stock is untouched and the cart still checks out (the rule is spent).
    expect(await stockOf(box.store_url, 3)).toBe(stock);
    expect((await call('GET', `${box.store_url}/products?search=keyboard`)).status).toBe(200);
    const checkout = await call('POST', `${box.store_url}/cart/${cartId}/checkout`);
    expect(checkout.status, checkout.text).toBe(200);

    const gatewayError = await call('GET', `${box.payments_url}/balance`);
    expect(gatewayError.status).toBe(500);
    expect(gatewayError.body).toEqual({ status: 'failed', message: 'Injected fault' });
    expect((await call('GET', `${box.payments_url}/transactions`)).status).toBe(200);

    const rules = await faultsOf(id);
    expect(rules.map((r) => [r.index, r.kind, r.fired])).toEqual([[0, 'latency', 2], [1, 'error', 1], [2, 'error', 1]]);
    const info = (await call('GET', `${store.url}/sandboxes/${id}`)).body;
    expect(info.faults).toEqual(rules);
    // Every firing is a fault.fired event of the sandbox (the gateway's in its own log, imported into this timeline).
    const events = (await call('GET', `${store.url}/sandboxes/${id}/events`)).body.events.filter((e: any) => e.type === 'fault.fired' && e.source === 'store');
    expect(events.map((e: any) => [e.data.rule, e.data.kind, e.data.method, e.data.path])).toEqual([
      [1, 'error', 'POST', `/cart/${cartId}/checkout`],
      [0, 'latency', 'GET', '/products/3'],
      [0, 'latency', 'GET', '/products?search=keyboard'],
    ]);

    expect((await call('DELETE', `${store.url}/sandboxes/${id}/faults`)).status).toBe(204);
    expect(await faultsOf(id)).toEqual([]);
    expect((await call('GET', `${box.payments_url}/balance`)).status).toBe(200);
  });

  it('X-Fault header: latency or status on one request of either server, in each server\'s error shape', async () => {
    const box = await createSandbox(store.url);
    const storeError = await call('GET', `${box.store_url}/products`, undefined, { 'x-fault': 'status=429' });
    expect(storeError.status).toBe(429);
    expect(storeError.body).toEqual({ detail: 'Injected fault' });
    expect(storeError.headers.get('retry-after')).toBe('1');
    expect((await call('GET', `${store.url}/categories`, undefined, { 'x-fault': 'status=503' })).status).toBe(503);
    expect((await call('GET', `${store.url}/categories`, undefined, { 'x-fault': 'latency=30' })).status).toBe(200);
    const gatewayError = await call('GET', `${gateway.url}/balance`, undefined, { 'x-fault': 'latency=10, status=502' });
    expect(gatewayError.status).toBe(502);
    expect(gatewayError.body).toEqual({ status: 'failed', message: 'Injected fault' });
    const bad = await call('GET', `${store.url}/categories`, undefined, { 'x-fault': 'explode=1' });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/^X-Fault must be latency=/);
    // An injected error on a POST creates nothing.
    const before = (await call('GET', `${store.url}/sandboxes/${box.sandbox_id}`)).body.counts.carts;
    expect((await call('POST', `${box.store_url}/cart`, undefined, { 'x-fault': 'status=500' })).status).toBe(500);
    expect((await call('GET', `${store.url}/sandboxes/${box.sandbox_id}`)).body.counts.carts).toBe(before);
  });

  it('out_of_stock: stock 0 in listings and details, the exact not-enough-stock 400 on add and checkout; clearing restores', async () => {
    const box = await createSandbox(store.url);
    const id = box.sandbox_id;
    const held = await cartWith(box.store_url, [[3, 2]]);
    const stock = await stockOf(box.store_url, 3);
    await setFaults(id, [{ kind: 'out_of_stock', product_id: 3 }]);
    expect(await stockOf(box.store_url, 3)).toBe(0);
    const listing = (await call('GET', `${box.store_url}/products?search=keyboard`)).body;
    expect(listing.products[0].stock).toBe(0);
    const inStock = (await call('GET', `${box.store_url}/products?in_stock=true&page_size=100`)).body;
    expect(inStock.products.map((p: any) => p.id)).not.toContain(3);
    expect(inStock.total).toBe(24);

    const cart = (await call('POST', `${box.store_url}/cart`)).body.cart_id;
    const add = await call('POST', `${box.store_url}/cart/${cart}/items`, { product_id: 3, quantity: 1 });
    expect(add.status).toBe(400);
    expect(add.body).toEqual({ detail: "Not enough stock for 'Mechanical Keyboard' (requested 1, available 0)" });
    const checkout = await call('POST', `${box.store_url}/cart/${held}/checkout`);
    expect(checkout.status).toBe(400);
    expect(checkout.body).toEqual({ detail: "Not enough stock for 'Mechanical Keyboard' (requested 2, available 0)" });
    expect((await faultsOf(id))[0].fired).toBe(2);

    expect((await call('DELETE', `${store.url}/sandboxes/${id}/faults`)).status).toBe(204);
    expect(await stockOf(box.store_url, 3)).toBe(stock);
    expect((await call('POST', `${box.store_url}/cart/${held}/checkout`)).status).toBe(200);
  });

  it('price_change: the order line takes the rule\'s price at checkout, so the order total differs from the cart\'s', async () => {
    const box = await createSandbox(store.url);
    const cartId = await cartWith(box.store_url, [[3, 2], [2, 1]]);
    const cart = (await call('GET', `${box.store_url}/cart/${cartId}`)).body;
    expect(cart.total).toBe(204.97);
    await setFaults(box.sandbox_id, [{ kind: 'price_change', product_id: 3, price: 99.99, times: 1 }]);
    // The cart still shows the catalog's price; the checkout takes the new one.
    expect((await call('GET', `${box.store_url}/cart/${cartId}`)).body.total).toBe(204.97);
    const checkout = await call('POST', `${box.store_url}/cart/${cartId}/checkout`);
    expect(checkout.status, checkout.text).toBe(200);
    expect(checkout.body.total).toBe(224.97);
    const order = await orderOf(box.store_url, checkout.body.order_id);
    expect(order.items.find((i: any) => i.product_id === 3)).toEqual({ product_id: 3, quantity: 2, price: 99.99, line_total: 199.98 });
    expect(order.total).toBe(224.97);
    // The catalog itself is unchanged, and the spent rule changes no later checkout.
    expect((await call('GET', `${box.store_url}/products/3`)).body.price).toBe(89.99);
    expect((await pendingOrder(box.store_url, [[3, 1]])).total).toBe(89.99);
    expect((await faultsOf(box.sandbox_id))[0].fired).toBe(1);
  });

  it('payment_decline: 402 with the reason, as the test card of that reason fails; the order ends payment_failed', async () => {
    const box = await createSandbox(store.url);
    await setFaults(box.sandbox_id, [{ kind: 'payment_decline', reason: 'insufficient_funds', times: 1 }]);
    const order = await pendingOrder(box.store_url, [[2, 1]]);
    const res = await pay(box, order);
    expect(res.status).toBe(402);
    expect(res.body).toMatchObject({ status: 'failed', message: 'Insufficient funds', reason: 'insufficient_funds', balance: 50000 });
    expect((await orderOf(box.store_url, order.order_id)).status).toBe('payment_failed');
    expect((await faultsOf(box.sandbox_id))[0].fired).toBe(1);
    // Fired on the gateway, recorded there, and imported into the sandbox's one timeline.
    const events = (await call('GET', `${store.url}/sandboxes/${box.sandbox_id}/events`)).body.events.filter((e: any) => e.type === 'fault.fired');
    expect(events.map((e: any) => [e.source, e.data.rule, e.data.kind, e.data.order_id, e.data.payment_id])).toEqual([
      ['gateway', 0, 'payment_decline', order.order_id, res.body.payment_id],
    ]);
    // Spent: the next payment goes through.
    const next = await pendingOrder(box.store_url, [[2, 1]]);
    expect((await pay(box, next)).status).toBe(200);
  });

  it('callback delay: the payment answers while the order is pending_payment; the worker delivers it later', async () => {
    const box = await createSandbox(store.url);
    await setFaults(box.sandbox_id, [{ kind: 'callback', mode: 'delay', ms: 1500 }]);
    const order = await pendingOrder(box.store_url, [[2, 1]]);
    const res = await pay(box, order);
    expect(res.status, res.text).toBe(200);
    expect(res.body.shop_notified).toBe(false);
    expect((await orderOf(box.store_url, order.order_id)).status).toBe('pending_payment');
    const paid = await waitFor(() => orderOf(box.store_url, order.order_id), (o) => o.status === 'paid', 10_000);
    expect(paid.status).toBe('paid');
  });

  it('callback duplicate: the success is delivered twice and paid once', async () => {
    const box = await createSandbox(store.url);
    await setFaults(box.sandbox_id, [{ kind: 'callback', mode: 'duplicate' }]);
    const order = await pendingOrder(box.store_url, [[2, 1]]);
    const res = await pay(box, order);
    expect(res.status, res.text).toBe(200);
    expect(res.body.shop_notified).toBe(true);
    expect((await orderOf(box.store_url, order.order_id)).status).toBe('paid');
    expect(cents(await balance(box))).toBe(cents(50000) - cents(order.total));
    expect((await call('GET', `${box.payments_url}/payments`)).body.payments).toHaveLength(1);
    expect((await faultsOf(box.sandbox_id))[0].fired).toBe(1);
  });

  it('callback drop_first: the first attempt is lost (recorded as failed) and the retry delivers it', async () => {
    const box = await createSandbox(store.url);
    await setFaults(box.sandbox_id, [{ kind: 'callback', mode: 'drop_first', times: 1 }]);
    const order = await pendingOrder(box.store_url, [[2, 1]]);
    const res = await pay(box, order);
    expect(res.status, res.text).toBe(200);
    expect(res.body.shop_notified).toBe(false);
    const paid = await waitFor(() => orderOf(box.store_url, order.order_id), (o) => o.status === 'paid');
    expect(paid.status).toBe('paid');
    const payment = (await call('GET', `${box.payments_url}/payments/${res.body.payment_id}`)).body.payment;
    expect(payment.callback.state).toBe('delivered');
    expect(payment.callback.attempts.map((a: any) => [a.attempt, a.error])).toEqual([[1, 'Injected fault: first attempt dropped'], [2, null]]);
  });

  it('callback reorder: a failed before the success ends payment_failed, and the refused success is refunded', async () => {
    const box = await createSandbox(store.url);
    await setFaults(box.sandbox_id, [{ kind: 'callback', mode: 'reorder' }]);
    const order = await pendingOrder(box.store_url, [[2, 1]]);
    const stock = await stockOf(box.store_url, 2);
    const res = await pay(box, order);
    expect(res.status, res.text).toBe(402);
    expect(res.body.reason).toBe('store_rejected');
    const after = await orderOf(box.store_url, order.order_id);
    expect(after.status).toBe('payment_failed');
    expect(await balance(box)).toBe(50000);
    expect((await call('GET', `${box.payments_url}/payments/${res.body.payment_id}`)).body.payment.status).toBe('refunded');
    // The failed order returned its stock.
    expect(await stockOf(box.store_url, 2)).toBe(stock + 1);
  });

  it('times and seeded probability: the same sequence on two fresh sandboxes with the same seed, at most `times` firings', async () => {
    const run = async () => {
      const box = await createSandbox(store.url, { seed: 7 });
      await setFaults(box.sandbox_id, [{ kind: 'error', status: 503, probability: 0.5, times: 4, match: { method: 'GET', path: '/categories' } }]);
      const statuses: number[] = [];
      for (let i = 0; i < 16; i++) statuses.push((await call('GET', `${box.store_url}/categories`)).status);
      return { statuses, fired: (await faultsOf(box.sandbox_id))[0].fired };
    };
    const first = await run();
    const second = await run();
    expect(second.statuses).toEqual(first.statuses);
    const injected = first.statuses.filter((s) => s === 503).length;
    expect(injected).toBe(first.fired);
    expect(injected).toBeGreaterThan(0);
    expect(injected).toBeLessThanOrEqual(4);
    expect(first.statuses).toContain(200);
  });

  it('times holds under concurrent requests: exactly `times` firings', async () => {
    const box = await createSandbox(store.url);
    await setFaults(box.sandbox_id, [{ kind: 'error', status: 503, times: 3, match: { method: 'GET', path: '/categories' } }]);
    const statuses = await Promise.all(Array.from({ length: 20 }, async () => (await call('GET', `${box.store_url}/categories`)).status));
    expect(statuses.filter((s) => s === 503)).toHaveLength(3);
    expect(statuses.filter((s) => s === 200)).toHaveLength(17);
    expect((await faultsOf(box.sandbox_id))[0].fired).toBe(3);
  });

  it('reset clears the rules on both servers; deleting a sandbox deletes them; default takes rules too', async () => {
    const box = await createSandbox(store.url);
    await setFaults(box.sandbox_id, [{ kind: 'error', status: 503, match: { path: '/categories' } }, { kind: 'payment_decline', reason: 'card_declined' }]);
    expect((await call('GET', `${store.url}/sandboxes`)).body.find((s: any) => s.sandbox_id === box.sandbox_id).faults).toHaveLength(2);
    const reset = await call('POST', `${store.url}/sandboxes/${box.sandbox_id}/reset`);
    expect(reset.status, reset.text).toBe(200);
    expect(reset.body.faults).toEqual([]);
    expect((await call('GET', `${box.store_url}/categories`)).status).toBe(200);
    const order = await pendingOrder(box.store_url, [[2, 1]]);
    expect((await pay(box, order)).status).toBe(200);

    // default: at the root and under its prefix alike, paths relative to its base.
    await setFaults('default', [{ kind: 'error', status: 503, match: { path: '/brands' }, times: 2 }]);
    expect((await call('GET', `${store.url}/brands`)).status).toBe(503);
    expect((await call('GET', `${store.url}/sandboxes/default/brands`)).status).toBe(503);
    expect((await call('GET', `${store.url}/brands`)).status).toBe(200);
    // The gateway's rules of default too.
    await setFaults('default', [{ kind: 'payment_decline', reason: 'processing_error' }]);
    expect(await faultsOf('default')).toEqual([{ index: 0, fired: 0, kind: 'payment_decline', reason: 'processing_error' }]);
    expect((await call('DELETE', `${store.url}/sandboxes/default/faults`)).status).toBe(204);
    expect(await faultsOf('default')).toEqual([]);

    // Snapshots do not carry faults: a restore keeps the rules in force, a fork starts without any.
    await setFaults(box.sandbox_id, [{ kind: 'error', status: 503, match: { path: '/categories' } }]);
    expect((await call('POST', `${store.url}/sandboxes/${box.sandbox_id}/snapshots`, { name: 'with-rules' })).status).toBe(201);
    const fork = await createSandbox(store.url, { from: { sandbox_id: box.sandbox_id, snapshot: 'with-rules' } });
    expect(await faultsOf(fork.sandbox_id)).toEqual([]);
    expect((await call('GET', `${fork.store_url}/categories`)).status).toBe(200);
    expect((await call('POST', `${store.url}/sandboxes/${box.sandbox_id}/snapshots/with-rules/restore`)).status).toBe(200);
    expect((await call('GET', `${box.store_url}/categories`)).status).toBe(503);

    await setFaults(box.sandbox_id, [{ kind: 'payment_decline', reason: 'card_declined' }]);
    expect((await call('DELETE', `${store.url}/sandboxes/${box.sandbox_id}`)).status).toBe(204);
    expect((await call('GET', `${gateway.url}/admin/sandboxes/${box.sandbox_id}/faults`)).status).toBe(404);
  });
});

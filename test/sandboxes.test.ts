import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGuideScript } from './helpers/flow.js';
import { call, type ServerProcess } from './helpers/processes.js';
import { createSandbox, startPair } from './helpers/sandboxes.js';
import { cartWith, cents, orderOf, pendingOrder, shutdown, stockOf, waitFor } from './helpers/shop.js';

/**
 * Sandboxes (spec/sandboxes.md section 1) through both real servers: isolation, the guide's
 * flow in a sandbox, reset, snapshots and forks, the clock, seeded ids and catalog administration.
 */
describe('sandboxes', () => {
  let store: ServerProcess;
  let gateway: ServerProcess;

  beforeAll(async () => {
    const pair = await startPair();
    store = pair.stores[0]!;
    gateway = pair.gateway;
  });
  afterAll(() => shutdown(store, gateway));

  const balance = async (paymentsUrl: string) => (await call('GET', `${paymentsUrl}/balance`)).body.balance as number;

  /** Pays an order through the sandbox's gateway and waits until the store has it paid. */
  async function pay(box: { store_url: string; payments_url: string }, order: { order_id: string; total: number }) {
    const res = await call('POST', `${box.payments_url}/payments/orders`, { order_id: order.order_id, amount: order.total });
    expect(res.status, res.text).toBeLessThan(300);
    return waitFor(() => orderOf(box.store_url, order.order_id), (o) => o.status === 'paid');
  }

  it('two sandboxes side by side: carts, purchases and stock of one are invisible in the other and at the root', async () => {
    const a = await createSandbox(store.url);
    const b = await createSandbox(store.url, { sandbox_id: `side-b-${Date.now()}` });
    expect(a.sandbox_id).toMatch(/^[a-z0-9][a-z0-9_-]{0,63}$/);
    expect(a.store_url).toBe(`${store.url}/sandboxes/${a.sandbox_id}`);
    expect(a.payments_url).toBe(`${gateway.url}/sandboxes/${a.sandbox_id}`);
    const rootStock = await stockOf(store.url, 3);
    const rootBalance = await balance(gateway.url);

    const order = await pendingOrder(a.store_url, [[3, 2]]);
    const paid = await pay(a, order);
    expect(paid.status).toBe('paid');
    expect(await stockOf(a.store_url, 3)).toBe(rootStock - 2);
    expect(cents(await balance(a.payments_url))).toBe(cents(50000) - cents(order.total));

    expect(await stockOf(b.store_url, 3)).toBe(rootStock);
    expect(await stockOf(store.url, 3)).toBe(rootStock);
    expect(await balance(b.payments_url)).toBe(50000);
    expect(await balance(gateway.url)).toBe(rootBalance);
    for (const base of [b.store_url, store.url]) {
      expect((await call('GET', `${base}/orders/${order.order_id}`)).status).toBe(404);
      expect((await call('GET', `${base}/cart/${order.cart_id}`)).status).toBe(404);
    }
    const info = await call('GET', `${store.url}/sandboxes/${a.sandbox_id}`);
    expect(info.body.counts).toEqual({ products: 25, carts: 0, orders: 1, payments: 1 });
  });

  it("the guide's flow script against a sandbox's store_url and payments_url prints paid; the root balance is untouched", async () => {
    const box = await createSandbox(store.url);
    const rootBalance = await balance(gateway.url);
    const { orderId } = await runGuideScript(box.store_url, box.payments_url);
    expect((await orderOf(box.store_url, orderId)).status).toBe('paid');
    expect(await balance(gateway.url)).toBe(rootBalance);
    expect(await balance(box.payments_url)).toBeLessThan(50000);
  });

  it('an unknown sandbox is 404 before its body is looked at', async () => {
    const res = await call('POST', `${store.url}/sandboxes/nope-${Date.now()}/cart/x/items`, '{bad json');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ detail: 'Sandbox not found' });
    expect((await call('GET', `${store.url}/sandboxes/Bad%20Id/products`)).status).toBe(404);
  });

  it('reset gives back the creation state: catalog, stock, balance, no orders', async () => {
    const box = await createSandbox(store.url);
    const catalog = (await call('GET', `${box.store_url}/products?page_size=100`)).body;
    const order = await pendingOrder(box.store_url, [[1, 3]]);
    await pay(box, order);
    await call('POST', `${box.store_url}/admin/products`, { id: 99, name: 'Extra', price: 1.5, category_id: 1, brand: 'X', rating: 1, stock: 1, description: '' });
    const reset = await call('POST', `${store.url}/sandboxes/${box.sandbox_id}/reset`);
    expect(reset.status, reset.text).toBe(200);
    expect((await call('GET', `${box.store_url}/products?page_size=100`)).body).toEqual(catalog);
    expect((await call('GET', `${box.store_url}/orders/${order.order_id}`)).status).toBe(404);
    expect(await balance(box.payments_url)).toBe(50000);
    expect(reset.body.counts).toEqual({ products: 25, carts: 0, orders: 0, payments: 0 });
  });

  it('a snapshot restores exactly, and two forks of it diverge independently', async () => {
    const box = await createSandbox(store.url);
    const cartId = await cartWith(box.store_url, [[2, 1], [4, 2]]);
    const order = await pendingOrder(box.store_url, [[5, 1]]);
    const state = async (base: string, orderId = order.order_id, cart = cartId) => ({
      products: (await call('GET', `${base}/products?page_size=100`)).body,
      cart: (await call('GET', `${base}/cart/${cart}`)).body,
      order: (await call('GET', `${base}/orders/${orderId}`)).body,
    });
    const saved = await state(box.store_url);
    const snap = await call('POST', `${store.url}/sandboxes/${box.sandbox_id}/snapshots`, { name: 'before-pay' });
    expect(snap.status, snap.text).toBe(201);

    await pay(box, order);
    await call('DELETE', `${box.store_url}/cart/${cartId}/items/2`);
    expect(await state(box.store_url)).not.toEqual(saved);

    const restored = await call('POST', `${store.url}/sandboxes/${box.sandbox_id}/snapshots/before-pay/restore`);
    expect(restored.status, restored.text).toBe(200);
    expect(await state(box.store_url)).toEqual(saved);
    expect(await balance(box.payments_url)).toBe(50000);
    expect((await call('GET', `${store.url}/sandboxes/${box.sandbox_id}/snapshots`)).body.map((s: any) => s.name)).toEqual(['before-pay']);

    const fork1 = await createSandbox(store.url, { from: { sandbox_id: box.sandbox_id, snapshot: 'before-pay' } });
    const fork2 = await createSandbox(store.url, { from: { sandbox_id: box.sandbox_id, snapshot: 'before-pay' } });
    expect(await state(fork1.store_url)).toEqual(saved);
    await pay(fork1, order);
    expect((await orderOf(fork1.store_url, order.order_id)).status).toBe('paid');
    expect((await orderOf(fork2.store_url, order.order_id)).status).toBe('pending_payment');
    expect(await state(fork2.store_url)).toEqual(saved);
    expect(await balance(fork2.payments_url)).toBe(50000);
  });

  it('advancing the clock expires a pending order and returns its stock at once; a cart past its TTL is 404', async () => {
    const box = await createSandbox(store.url, { now: '2030-01-01T00:00:00Z' });
    const clock = `${store.url}/sandboxes/${box.sandbox_id}/clock`;
    expect((await call('GET', clock)).body).toEqual({ now: '2030-01-01T00:00:00.000Z' });
    const before = await stockOf(box.store_url, 6);
    const order = await pendingOrder(box.store_url, [[6, 2]]);
    expect((await orderOf(box.store_url, order.order_id)).expires_at).toBe('2030-01-01T00:15:00.000Z');
    expect(await stockOf(box.store_url, 6)).toBe(before - 2);
    const cart = await cartWith(box.store_url, [[7, 1]]);

    const moved = await call('POST', clock, { advance_seconds: 901 });
    expect(moved.body).toEqual({ now: '2030-01-01T00:15:01.000Z' });
    expect(await stockOf(box.store_url, 6)).toBe(before);
    expect((await orderOf(box.store_url, order.order_id)).status).toBe('expired');
    expect((await call('GET', `${box.store_url}/cart/${cart}`)).status).toBe(200);

    expect((await call('POST', clock, { now: '2030-01-09T00:00:00Z' })).status).toBe(200);
    expect((await call('GET', `${box.store_url}/cart/${cart}`)).status).toBe(404);
    const back = await call('POST', clock, { now: '2030-01-01T00:00:00Z' });
    expect(back.status).toBe(400);
    expect(back.body.detail).toMatch(/^The clock never goes backwards/);
  });

  it('two new sandboxes with the same seed and now give identical ids and answers to the same script', async () => {
    const run = async () => {
      const box = await createSandbox(store.url, { seed: 42, now: '2030-06-01T12:00:00Z' });
      const answers: unknown[] = [];
      const cart = await call('POST', `${box.store_url}/cart`);
      answers.push(cart.body);
      answers.push((await call('POST', `${box.store_url}/cart/${cart.body.cart_id}/items`, { product_id: 1, quantity: 2 })).body);
      const checkout = await call('POST', `${box.store_url}/cart/${cart.body.cart_id}/checkout`);
      answers.push(checkout.body);
      const payment = await call('POST', `${box.payments_url}/payments/orders`, { order_id: checkout.body.order_id, amount: checkout.body.total });
      answers.push(payment.text);
      answers.push(await waitFor(() => orderOf(box.store_url, checkout.body.order_id), (o) => o.status === 'paid'));
      return answers;
    };
    const first = await run();
    expect(first).toEqual(await run());
    expect((first[0] as { cart_id: string }).cart_id).toMatch(/^[0-9a-f]{24}$/);
  });

  it('admin catalog changes are visible only in their sandbox', async () => {
    const a = await createSandbox(store.url);
    const b = await createSandbox(store.url);
    const product = { id: 500, name: 'Sandbox Lamp', price: 12.5, category_id: 2, brand: 'Lumo', rating: 4, stock: 3, description: 'Only here' };
    const added = await call('POST', `${a.store_url}/admin/products`, product);
    expect(added.status, added.text).toBe(201);
    expect(added.body).toEqual(product);
    expect((await call('GET', `${a.store_url}/products?search=sandbox lamp`)).body.total).toBe(1);
    expect((await call('PATCH', `${a.store_url}/admin/products/1`, { price: 1.25, stock: 7 })).body).toMatchObject({ id: 1, price: 1.25, stock: 7 });
    expect((await call('DELETE', `${a.store_url}/admin/products/2`)).status).toBe(204);
    expect((await call('POST', `${a.store_url}/admin/categories`, { id: 9, name: 'Garden', slug: 'garden' })).status).toBe(201);

    for (const base of [b.store_url, store.url]) {
      expect((await call('GET', `${base}/products/500`)).status).toBe(404);
      expect((await call('GET', `${base}/products/1`)).body.price).toBe(59.99);
      expect((await call('GET', `${base}/products/2`)).status).toBe(200);
      expect((await call('GET', `${base}/categories/9`)).status).toBe(404);
    }
    const replaced = await call('PUT', `${b.store_url}/admin/catalog`, { categories: [{ id: 1, name: 'Only', slug: 'only' }], products: [{ ...product, category_id: 1 }] });
    expect(replaced.body).toEqual({ categories: 1, products: 1 });
    expect((await call('GET', `${b.store_url}/products`)).body.total).toBe(1);
    expect((await call('GET', `${a.store_url}/products`)).body.total).toBe(25);
  });

  it('a product deleted while in a cart: the cart no longer shows it, checkout names it, the order keeps its lines', async () => {
    const box = await createSandbox(store.url);
    const order = await pendingOrder(box.store_url, [[8, 1]]);
    const cart = await cartWith(box.store_url, [[8, 1], [9, 1]]);
    expect((await call('DELETE', `${box.store_url}/admin/products/8`)).status).toBe(204);
    expect((await call('GET', `${box.store_url}/cart/${cart}`)).body.items.map((i: any) => i.product_id)).toEqual([9]);
    const checkout = await call('POST', `${box.store_url}/cart/${cart}/checkout`);
    expect(checkout.status).toBe(400);
    expect(checkout.body.detail).toBe('Product 8 no longer exists');
    expect((await orderOf(box.store_url, order.order_id)).items.map((i: any) => i.product_id)).toEqual([8]);
  });

  it('bad input to the management endpoints gets a clear 4xx and changes nothing', async () => {
    const box = await createSandbox(store.url, { sandbox_id: `dup-${Date.now()}` });
    const count = (await call('GET', `${store.url}/sandboxes`)).body.length;
    const cases: [string, string, unknown, number, unknown][] = [
      ['POST', '/sandboxes', { sandbox_id: box.sandbox_id }, 409, { detail: 'Sandbox already exists' }],
      ['POST', '/sandboxes', { sandbox_id: 'default' }, 409, { detail: 'Sandbox already exists' }],
      ['POST', '/sandboxes', { sandbox_id: 'Bad Id' }, 422, undefined],
      ['POST', '/sandboxes', { catalog: { categories: [], products: [{ id: 1 }] } }, 422, { detail: 'catalog.products[0].name must be a string' }],
      ['POST', '/sandboxes', { catalog: { categories: [] } }, 422, undefined],
      ['POST', '/sandboxes', { from: { sandbox_id: box.sandbox_id, snapshot: 'none' } }, 404, { detail: 'Snapshot not found' }],
      ['POST', '/sandboxes', { now: 'yesterday' }, 400, { detail: "now must be an ISO 8601 time, got 'yesterday'" }],
      ['POST', '/sandboxes', { seed: 1.5 }, 422, undefined],
      ['GET', '/sandboxes/nope', undefined, 404, { detail: 'Sandbox not found' }],
      ['DELETE', '/sandboxes/default', undefined, 409, { detail: 'The default sandbox cannot be deleted' }],
      ['POST', '/sandboxes/nope/reset', undefined, 404, { detail: 'Sandbox not found' }],
      // An unknown sandbox wins over a bad body, as under the shop prefix.
      ['POST', '/sandboxes/nope/snapshots', {}, 404, { detail: 'Sandbox not found' }],
      ['POST', '/sandboxes/nope/clock', { advance_seconds: -1 }, 404, { detail: 'Sandbox not found' }],
      ['POST', `/sandboxes/${box.sandbox_id}/snapshots`, { name: '../x' }, 422, undefined],
      ['POST', `/sandboxes/${box.sandbox_id}/snapshots/none/restore`, undefined, 404, { detail: 'Snapshot not found' }],
      ['POST', `/sandboxes/${box.sandbox_id}/clock`, { advance_seconds: -1 }, 422, undefined],
      ['POST', `/sandboxes/${box.sandbox_id}/clock`, {}, 400, { detail: 'Give either advance_seconds or now' }],
      ['POST', '/sandboxes/default/clock', { advance_seconds: 5 }, 409, { detail: 'The clock of the default sandbox follows real time' }],
      ['POST', `/sandboxes/${box.sandbox_id}/admin/products`, { id: 1, name: 'x', price: 1, category_id: 1, brand: 'b', rating: 1, stock: 1, description: '' }, 409, { detail: 'Product already exists' }],
      ['POST', `/sandboxes/${box.sandbox_id}/admin/products`, { id: 77, name: 'x', price: 1.234, category_id: 1, brand: 'b', rating: 1, stock: 1, description: '' }, 422, { detail: 'price must have at most two decimals' }],
      ['PATCH', `/sandboxes/${box.sandbox_id}/admin/products/1`, { category_id: 99 }, 422, { detail: 'category_id 99 is not a category of this catalog' }],
      ['DELETE', `/sandboxes/${box.sandbox_id}/admin/categories/1`, undefined, 409, { detail: 'Category has products: move or delete them first' }],
      ['PUT', `/sandboxes/${box.sandbox_id}/admin/catalog`, { categories: [], products: [{ id: 1, name: 'a', brand: 'b', description: '', price: 1, rating: 1, stock: 1, category_id: 5 }] }, 422, undefined],
    ];
    for (const [method, path, body, status, answer] of cases) {
      const res = await call(method, `${store.url}${path}`, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}: ${res.text}`).toBe(status);
      if (answer !== undefined) expect(res.body).toEqual(answer);
    }
    expect((await call('GET', `${store.url}/sandboxes`)).body.length).toBe(count);
    expect((await call('GET', `${box.store_url}/products`)).body.total).toBe(25);
    expect((await call('GET', `${box.store_url}/products/1`)).body.price).toBe(59.99);
  });

  it('delete removes a sandbox on both servers', async () => {
    const box = await createSandbox(store.url);
    expect((await call('DELETE', `${store.url}/sandboxes/${box.sandbox_id}`)).status).toBe(204);
    expect((await call('GET', `${box.store_url}/products`)).status).toBe(404);
    expect((await call('GET', `${box.payments_url}/balance`)).status).toBe(404);
    expect((await call('GET', `${store.url}/sandboxes/${box.sandbox_id}`)).status).toBe(404);
  });
});

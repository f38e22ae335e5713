import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useStore } from './helpers/processes.js';
import type { Product } from '../src/catalog/model.js';

/**
 * Black-box tests of carts, checkout, orders and the payment callback against
 * docs/compatibility.md. Tests run in order on one store: stock is read before each change and
 * the expectations are computed from it (and from seed/catalog.json where the contract quotes seed values).
 */

const seed = JSON.parse(readFileSync(new URL('../seed/catalog.json', import.meta.url), 'utf8')) as { products: Product[] };
const seedProduct = (id: number): Product => {
  const product = seed.products.find((p) => p.id === id);
  if (!product) throw new Error(`no product ${id} in the seed`);
  return product;
};

const KEYBOARD = seedProduct(3); // Mechanical Keyboard, 89.99, stock 75
const CHARGER = seedProduct(2); // USB-C Fast Charger, 24.99
const CHECKOUT_MESSAGE = 'Send order_id and total to the payments backend to complete purchase.';
const HEX32 = /^[0-9a-f]{32}$/;
const cents = (amount: number) => Math.round(amount * 100);
/** Every JSON number in the answer is printed with at most two decimals (no float noise such as 74.97000000000001). */
function expectNoFloatNoise(value: unknown): void {
  if (typeof value === 'number') expect(String(value)).toMatch(/^-?\d+(\.\d{1,2})?$/);
  else if (Array.isArray(value)) value.forEach(expectNoFloatNoise);
  else if (value && typeof value === 'object') Object.values(value).forEach(expectNoFloatNoise);
}
const notEnough = (name: string, requested: number, available: number) =>
  `Not enough stock for '${name}' (requested ${requested}, available ${available})`;

describe('store carts, checkout, orders and payments', () => {
  const store = useStore();

  const { req } = store;
  const newCart = async (): Promise<string> => {
    const res = await req('POST', '/cart');
    expect(res.status).toBe(200);
    return res.body.cart_id;
  };
  const add = (cartId: string, product_id: unknown, quantity?: unknown) =>
    req('POST', `/cart/${cartId}/items`, quantity === undefined ? { product_id } : { product_id, quantity });
  const cartWith = async (lines: [number, number][]): Promise<string> => {
    const id = await newCart();
    for (const [pid, q] of lines) expect((await add(id, pid, q)).status).toBe(200);
    return id;
  };
  const stock = async (productId: number): Promise<number> => {
    const res = await req('GET', `/products/${productId}`);
    expect(res.status).toBe(200);
    return res.body.stock;
  };
  const checkout = (cartId: string) => req('POST', `/cart/${cartId}/checkout`);
  const confirm = (body: unknown) => req('POST', '/payments/confirm', body);
  const order = (orderId: string) => req('GET', `/orders/${orderId}`);
  const expectDetail = (res: { status: number; body: any; text: string }, status: number, detail: string) => {
    expect(res.status, res.text).toBe(status);
    expect(res.body, res.text).toEqual({ detail });
  };

  describe('carts', () => {
    it('POST /cart returns {cart_id}: random hex of at least 24 characters, different every time', async () => {
      const a = await req('POST', '/cart');
      const b = await req('POST', '/cart');
      expect(a.status).toBe(200);
      expect(Object.keys(a.body)).toEqual(['cart_id']);
      for (const id of [a.body.cart_id, b.body.cart_id]) expect(id).toMatch(/^[0-9a-f]{24,}$/);
      expect(a.body.cart_id).not.toBe(b.body.cart_id);
      // A JSON content type with an empty body is "no body", as curl -X POST -H 'Content-Type: application/json' sends it.
      expect((await req('POST', '/cart', '', { 'content-type': 'application/json' })).status).toBe(200);
    });

    it('an empty cart is {cart_id, items: [], total: 0}; an unknown cart is 404', async () => {
      const id = await newCart();
      const res = await req('GET', `/cart/${id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ cart_id: id, items: [], total: 0 });
      expect(Object.keys(res.body)).toEqual(['cart_id', 'items', 'total']);
      expectDetail(await req('GET', '/cart/0123456789abcdef01234567'), 404, 'Cart not found');
      expectDetail(await req('GET', '/cart/nope'), 404, 'Cart not found');
    });

    it('adding items: {cart_id, product_id, quantity}, quantities accumulate, quantity defaults to 1', async () => {
      const id = await newCart();
      const first = await add(id, 3, 2);
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ cart_id: id, product_id: 3, quantity: 2 });
      expect(Object.keys(first.body)).toEqual(['cart_id', 'product_id', 'quantity']);
      const defaulted = await add(id, 3);
      expect(defaulted.body).toEqual({ cart_id: id, product_id: 3, quantity: 3 });
      const other = await add(id, 2);
      expect(other.body).toEqual({ cart_id: id, product_id: 2, quantity: 1 });
      const view = await req('GET', `/cart/${id}`);
      expect(view.body.items.map((i: any) => [i.product_id, i.quantity])).toEqual([
        [3, 3],
        [2, 1],
      ]);
    });

    it('the cart view: lines in the order first added, exact line totals and total', async () => {
      const id = await newCart();
      await add(id, 3, 2);
      await add(id, 2, 3);
      await add(id, 3, 0 + 1); // accumulating does not move the line
      await add(id, 1, 1);
      const res = await req('GET', `/cart/${id}`);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body)).toEqual(['cart_id', 'items', 'total']);
      const lines: [Product, number][] = [
        [KEYBOARD, 3],
        [CHARGER, 3],
        [seedProduct(1), 1],
      ];
      expect(res.body.items).toEqual(
        lines.map(([p, q]) => ({ product_id: p.id, name: p.name, price: p.price, quantity: q, line_total: (cents(p.price) * q) / 100 })),
      );
      for (const item of res.body.items) expect(Object.keys(item)).toEqual(['product_id', 'name', 'price', 'quantity', 'line_total']);
      expect(res.body.items[1].line_total).toBe(74.97); // 3 × 24.99, no float noise
      expect(res.body.total).toBe(lines.reduce((sum, [p, q]) => sum + cents(p.price) * q, 0) / 100);
      expectNoFloatNoise(res.body);
    });

    it("the guide's cart: 2 × 89.99 = 179.98 exactly", async () => {
      const id = await newCart();
      await add(id, 3, 2);
      const res = await req('GET', `/cart/${id}`);
      expect(res.body).toEqual({
        cart_id: id,
        items: [{ product_id: 3, name: 'Mechanical Keyboard', price: 89.99, quantity: 2, line_total: 179.98 }],
        total: 179.98,
      });
      expect(res.text).toContain('179.98');
      expectNoFloatNoise(res.body);
    });

    it('add-item errors, in check order', async () => {
      const id = await newCart();
      const unknownCart = 'ffffffffffffffffffffffff';
      expectDetail(await add(unknownCart, 999, 1), 404, 'Cart not found');
      expectDetail(await add(unknownCart, 3, 0), 404, 'Cart not found');
      expectDetail(await add(id, 999, 1), 404, 'Product not found');
      expectDetail(await add(id, 999, 0), 404, 'Product not found'); // product is checked before quantity
      expectDetail(await add(id, 99999999999, 1), 404, 'Product not found');
      expectDetail(await add(id, 3, 0), 400, 'Quantity must be at least 1');
      expectDetail(await add(id, 3, -1), 400, 'Quantity must be at least 1');
      expect(KEYBOARD.stock).toBe(75);
      expectDetail(await add(id, 3, 76), 400, notEnough('Mechanical Keyboard', 76, 75));
      // requested is the line's new total, including what the cart already holds
      expect((await add(id, 3, 70)).body.quantity).toBe(70);
      expectDetail(await add(id, 3, 6), 400, notEnough('Mechanical Keyboard', 76, 75));
      expect((await add(id, 3, 5)).body.quantity).toBe(75);
      expectDetail(await add(id, 3), 400, notEnough('Mechanical Keyboard', 76, 75));
      // nothing changed by the refusals
      expect((await req('GET', `/cart/${id}`)).body.items.map((i: any) => [i.product_id, i.quantity])).toEqual([[3, 75]]);
    });

    it('add-item body validation: 422 in FastAPI form, 415 for non-JSON, 413 for over 1 MiB', async () => {
      const id = await newCart();
      const abc = await add(id, 'abc', 1);
      expect(abc.status, abc.text).toBe(422);
      expect(abc.body.detail[0]).toMatchObject({ loc: ['body', 'product_id'], input: 'abc' });
      expect(abc.body.detail[0].type).toMatch(/^int_/);

      const missing = await req('POST', `/cart/${id}/items`, { quantity: 1 });
      expect(missing.status).toBe(422);
      expect(missing.body.detail).toEqual([expect.objectContaining({ type: 'missing', loc: ['body', 'product_id'], msg: 'Field required' })]);
      expect(Object.keys(missing.body.detail[0])).toEqual(expect.arrayContaining(['type', 'loc', 'msg', 'input']));

      expect((await add(id, 3, 'lots')).status).toBe(422);
      expect((await add(id, 3, 1.5)).status).toBe(422);

      const malformed = await req('POST', `/cart/${id}/items`, '{"product_id": 3,', { 'content-type': 'application/json' });
      expect(malformed.status).toBe(422);
      expect(Array.isArray(malformed.body.detail)).toBe(true);
      expect(malformed.body.detail[0].type).toBe('json_invalid');

      const text = await req('POST', `/cart/${id}/items`, 'product_id=3', { 'content-type': 'text/plain' });
      expect(text.status).toBe(415);
      expect(typeof text.body.detail).toBe('string');

      const huge = await req('POST', `/cart/${id}/items`, JSON.stringify({ product_id: 3, quantity: 1, pad: 'x'.repeat(1024 * 1024) }));
      expect(huge.status).toBe(413);
      expect(typeof huge.body.detail).toBe('string');

      // None of the refused requests touched the cart.
      expect((await req('GET', `/cart/${id}`)).body.items).toEqual([]);
    });

    it('null is not an integer: product_id or quantity null is 422 (POST and PATCH)', async () => {
      const id = await newCart();
      const nullProduct = await req('POST', `/cart/${id}/items`, { product_id: null, quantity: 1 });
      expect(nullProduct.status, nullProduct.text).toBe(422);
      expect(nullProduct.body.detail[0]).toMatchObject({ loc: ['body', 'product_id'], input: null });
      const nullQuantity = await req('POST', `/cart/${id}/items`, { product_id: 3, quantity: null });
      expect(nullQuantity.status, nullQuantity.text).toBe(422);
      expect(nullQuantity.body.detail[0]).toMatchObject({ loc: ['body', 'quantity'], input: null });
      expect((await req('GET', `/cart/${id}`)).body.items).toEqual([]);
      // PATCH {quantity: null} must not be read as 0 (which would remove the line).
      await add(id, 3, 2);
      const nullPatch = await req('PATCH', `/cart/${id}/items/3`, { quantity: null });
      expect(nullPatch.status, nullPatch.text).toBe(422);
      expect((await req('GET', `/cart/${id}`)).body.items.map((i: any) => [i.product_id, i.quantity])).toEqual([[3, 2]]);
    });

    it('a POST with no body where one is required is 422 with a detail list, not 500', async () => {
      const id = await newCart();
      for (const [path, headers] of [
        [`/cart/${id}/items`, {}],
        [`/cart/${id}/items`, { 'content-type': 'application/json' }],
        ['/payments/confirm', {}],
        ['/payments/confirm', { 'content-type': 'application/json' }],
      ] as const) {
        const res = await req('POST', path, headers['content-type'] ? '' : undefined, { ...headers });
        expect(res.status, `${path} ${JSON.stringify(headers)}: ${res.text}`).toBe(422);
        expect(Array.isArray(res.body.detail), res.text).toBe(true);
        expect(res.body.detail[0].loc[0]).toBe('body');
      }
    });

    it("PATCH sets a line's quantity; 0 removes it", async () => {
      const id = await cartWith([
        [3, 2],
        [2, 1],
      ]);
      const set = await req('PATCH', `/cart/${id}/items/3`, { quantity: 5 });
      expect(set.status, set.text).toBe(200);
      expect(set.body).toEqual({ cart_id: id, product_id: 3, quantity: 5 });
      expect(Object.keys(set.body)).toEqual(['cart_id', 'product_id', 'quantity']);
      expect((await req('PATCH', `/cart/${id}/items/3`, { quantity: 1 })).body.quantity).toBe(1);
      let view = (await req('GET', `/cart/${id}`)).body;
      expect(view.items.map((i: any) => [i.product_id, i.quantity])).toEqual([
        [3, 1],
        [2, 1],
      ]);
      expect(view.total).toBe((cents(KEYBOARD.price) + cents(CHARGER.price)) / 100);

      expectDetail(await req('PATCH', `/cart/${id}/items/3`, { quantity: -1 }), 400, 'Quantity must be at least 0');
      expectDetail(await req('PATCH', `/cart/${id}/items/3`, { quantity: 76 }), 400, notEnough('Mechanical Keyboard', 76, 75));
      expectDetail(await req('PATCH', `/cart/ffffffffffffffffffffffff/items/3`, { quantity: 1 }), 404, 'Cart not found');
      expectDetail(await req('PATCH', `/cart/${id}/items/999`, { quantity: 1 }), 404, 'Product not found');
      expect((await req('PATCH', `/cart/${id}/items/3`, {})).status).toBe(422);
      expect((await req('PATCH', `/cart/${id}/items/abc`, { quantity: 1 })).status).toBe(422);

      const removed = await req('PATCH', `/cart/${id}/items/3`, { quantity: 0 });
      expect(removed.status, removed.text).toBe(200);
      expect(removed.body).toMatchObject({ cart_id: id, product_id: 3 });
      view = (await req('GET', `/cart/${id}`)).body;
      expect(view.items.map((i: any) => i.product_id)).toEqual([2]);
      expect(view.total).toBe(CHARGER.price);
    });

    it('DELETE removes a line: {cart_id, removed_product_id}; again 404 Item not in cart', async () => {
      const id = await cartWith([
        [3, 2],
        [2, 1],
      ]);
      const res = await req('DELETE', `/cart/${id}/items/3`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ cart_id: id, removed_product_id: 3 });
      expect(Object.keys(res.body)).toEqual(['cart_id', 'removed_product_id']);
      expect((await req('GET', `/cart/${id}`)).body).toEqual({
        cart_id: id,
        items: [{ product_id: 2, name: CHARGER.name, price: CHARGER.price, quantity: 1, line_total: CHARGER.price }],
        total: CHARGER.price,
      });
      expectDetail(await req('DELETE', `/cart/${id}/items/3`), 404, 'Item not in cart');
      expectDetail(await req('DELETE', `/cart/${id}/items/999`), 404, 'Item not in cart');
      expectDetail(await req('DELETE', `/cart/ffffffffffffffffffffffff/items/2`), 404, 'Cart not found');
      expectDetail(await req('DELETE', `/cart/ffffffffffffffffffffffff/items/999`), 404, 'Cart not found');
      expect((await req('DELETE', `/cart/${id}/items/abc`)).status).toBe(422);
    });
  });

  describe('checkout and orders', () => {
    it('checkout of more than is available is refused and reserves nothing', async () => {
      expect(await stock(3)).toBe(75);
      const first = await cartWith([[3, 50]]);
      const second = await cartWith([
        [2, 1],
        [3, 50],
      ]);
      const chargerBefore = await stock(2);
      const ok = await checkout(first);
      expect(ok.status, ok.text).toBe(200);
      expect(await stock(3)).toBe(25);
      expectDetail(await checkout(second), 400, notEnough('Mechanical Keyboard', 50, 25));
      // nothing reserved for the refused cart, not even its other line
      expect(await stock(3)).toBe(25);
      expect(await stock(2)).toBe(chargerBefore);
      expect((await req('GET', `/cart/${second}`)).body.items).toHaveLength(2);

      // Cancelling the pending order returns its stock.
      const cancelled = await req('POST', `/orders/${ok.body.order_id}/cancel`);
      expect(cancelled.status, cancelled.text).toBe(200);
      expect(cancelled.body.status).toBe('cancelled');
      expect(cancelled.body.order_id).toBe(ok.body.order_id);
      expect((await order(ok.body.order_id)).body.status).toBe('cancelled');
      expect(await stock(3)).toBe(75);
      // A cancelled order is final.
      expectDetail(await req('POST', `/orders/${ok.body.order_id}/cancel`), 400, 'Order already processed (status: cancelled)');
      expectDetail(await req('POST', '/orders/0123456789abcdef0123456789abcdef/cancel'), 404, 'Order not found');
    });

    it('checkout: {order_id, total, message}, stock reserved, the order is pending_payment', async () => {
      const keyboardBefore = await stock(3);
      const chargerBefore = await stock(2);
      const id = await cartWith([
        [3, 2],
        [2, 3],
      ]);
      const res = await checkout(id);
      expect(res.status, res.text).toBe(200);
      expect(Object.keys(res.body)).toEqual(['order_id', 'total', 'message']);
      expect(res.body.order_id).toMatch(HEX32);
      expect(res.body.total).toBe(254.95); // 179.98 + 74.97
      expect(res.body.message).toBe(CHECKOUT_MESSAGE);
      expect(await stock(3)).toBe(keyboardBefore - 2);
      expect(await stock(2)).toBe(chargerBefore - 3);

      const got = await order(res.body.order_id);
      expect(got.status).toBe(200);
      expect(Object.keys(got.body).slice(0, 5)).toEqual(['order_id', 'cart_id', 'items', 'total', 'status']);
      expect(got.body).toMatchObject({
        order_id: res.body.order_id,
        cart_id: id,
        items: [
          { product_id: 3, quantity: 2, price: 89.99, line_total: 179.98 },
          { product_id: 2, quantity: 3, price: 24.99, line_total: 74.97 },
        ],
        total: 254.95,
        status: 'pending_payment',
      });
      for (const item of got.body.items) expect(Object.keys(item)).toEqual(['product_id', 'quantity', 'price', 'line_total']);
      expectNoFloatNoise(got.body);

      // The cart survives checkout (until paid).
      expect((await req('GET', `/cart/${id}`)).status).toBe(200);
      expectDetail(await order('0123456789abcdef0123456789abcdef'), 404, 'Order not found');
      expectDetail(await order('nope'), 404, 'Order not found');
    });

    it('checkout errors: unknown cart 404, empty cart 400', async () => {
      expectDetail(await checkout('ffffffffffffffffffffffff'), 404, 'Cart not found');
      const empty = await newCart();
      expectDetail(await checkout(empty), 400, 'Cart is empty');
      // emptied by a delete
      const emptied = await cartWith([[2, 1]]);
      await req('DELETE', `/cart/${emptied}/items/2`);
      expectDetail(await checkout(emptied), 400, 'Cart is empty');
    });

    it('checking out the same cart twice makes two pending orders, each reserving stock', async () => {
      const before = await stock(2);
      const id = await cartWith([[2, 4]]);
      const a = await checkout(id);
      const b = await checkout(id);
      expect(a.status).toBe(200);
      expect(b.status).toBe(200);
      expect(a.body.order_id).not.toBe(b.body.order_id);
      for (const o of [a, b]) {
        expect(o.body.total).toBe(99.96);
        expect((await order(o.body.order_id)).body).toMatchObject({ cart_id: id, status: 'pending_payment', total: 99.96 });
      }
      expect(await stock(2)).toBe(before - 8);
    });

    it('in_stock=true hides a product whose whole stock is reserved', async () => {
      const boots = seedProduct(24);
      const before = await stock(24);
      const id = await cartWith([[24, before]]);
      const res = await checkout(id);
      expect(res.status, res.text).toBe(200);
      expect(await stock(24)).toBe(0);
      const inStock = await req('GET', '/products?in_stock=true&page_size=100');
      expect(inStock.body.total).toBe(24);
      expect(inStock.body.products.map((p: Product) => p.id)).not.toContain(24);
      expect(inStock.body.products.every((p: Product) => p.stock > 0)).toBe(true);
      expect((await req('GET', '/products?in_stock=false&page_size=100')).body.total).toBe(25);
      expect((await req('GET', '/products?page_size=100')).body.products.find((p: Product) => p.id === 24).stock).toBe(0);
      // Nothing more can be put in a cart.
      expectDetail(await add(await newCart(), 24, 1), 400, notEnough(boots.name, 1, 0));
      await req('POST', `/orders/${res.body.order_id}/cancel`);
      expect(await stock(24)).toBe(before);
      expect((await req('GET', '/products?in_stock=true&page_size=100')).body.total).toBe(25);
    });
  });

  describe('payment confirmation', () => {
    it('success: paid, cart deleted, stock stays decreased; a second confirm is refused', async () => {
      const before = await stock(3);
      const cartId = await cartWith([[3, 2]]);
      const placed = await checkout(cartId);
      expect(placed.body.total).toBe(179.98);
      const orderId = placed.body.order_id;
      expect(await stock(3)).toBe(before - 2);

      const res = await confirm({ order_id: orderId, status: 'success' });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({ order_id: orderId, status: 'paid', message: 'Payment confirmed. Stock updated.' });
      expect(Object.keys(res.body)).toEqual(['order_id', 'status', 'message']);

      const got = await order(orderId);
      expect(got.body).toMatchObject({ order_id: orderId, cart_id: cartId, total: 179.98, status: 'paid' });
      expectDetail(await req('GET', `/cart/${cartId}`), 404, 'Cart not found');
      expectDetail(await checkout(cartId), 404, 'Cart not found');
      expect(await stock(3)).toBe(before - 2);

      expectDetail(await confirm({ order_id: orderId, status: 'success' }), 400, 'Order already processed (status: paid)');
      expectDetail(await confirm({ order_id: orderId, status: 'failed' }), 400, 'Order already processed (status: paid)');
      expectDetail(await req('POST', `/orders/${orderId}/cancel`), 400, 'Order already processed (status: paid)');
      expect((await order(orderId)).body.status).toBe('paid');
      expect(await stock(3)).toBe(before - 2);
    });

    it('status is lower-cased first: SUCCESS is accepted', async () => {
      const placed = await checkout(await cartWith([[2, 1]]));
      const res = await confirm({ order_id: placed.body.order_id, status: 'SUCCESS' });
      expect(res.status, res.text).toBe(200);
      expect(res.body.status).toBe('paid');
    });

    it('a bad status is 400; an unknown order is 404 even with a bad status', async () => {
      const placed = await checkout(await cartWith([[2, 1]]));
      expectDetail(await confirm({ order_id: placed.body.order_id, status: 'maybe' }), 400, "status must be either 'success' or 'failed'");
      expect((await order(placed.body.order_id)).body.status).toBe('pending_payment');
      expectDetail(await confirm({ order_id: '0123456789abcdef0123456789abcdef', status: 'success' }), 404, 'Order not found');
      expectDetail(await confirm({ order_id: '0123456789abcdef0123456789abcdef', status: 'maybe' }), 404, 'Order not found');
    });

    it('failed: payment_failed, stock returned, the cart stays and checks out again into a new order', async () => {
      const before = await stock(3);
      const cartId = await cartWith([[3, 4]]);
      const placed = await checkout(cartId);
      expect(await stock(3)).toBe(before - 4);
      const res = await confirm({ order_id: placed.body.order_id, status: 'failed' });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({ order_id: placed.body.order_id, status: 'payment_failed', message: 'Payment failed. Order not fulfilled.' });
      expect(Object.keys(res.body)).toEqual(['order_id', 'status', 'message']);
      expect((await order(placed.body.order_id)).body.status).toBe('payment_failed');
      expect(await stock(3)).toBe(before);
      expectDetail(await confirm({ order_id: placed.body.order_id, status: 'success' }), 400, 'Order already processed (status: payment_failed)');
      expectDetail(await req('POST', `/orders/${placed.body.order_id}/cancel`), 400, 'Order already processed (status: payment_failed)');

      const view = await req('GET', `/cart/${cartId}`);
      expect(view.status).toBe(200);
      expect(view.body.items.map((i: any) => [i.product_id, i.quantity])).toEqual([[3, 4]]);
      const again = await checkout(cartId);
      expect(again.status).toBe(200);
      expect(again.body.order_id).not.toBe(placed.body.order_id);
      expect(await stock(3)).toBe(before - 4);
      expect((await order(again.body.order_id)).body).toMatchObject({ cart_id: cartId, status: 'pending_payment' });
      // Paying the new order deletes the cart and keeps the stock reserved.
      expect((await confirm({ order_id: again.body.order_id, status: 'Success' })).body.status).toBe('paid');
      expect((await req('GET', `/cart/${cartId}`)).status).toBe(404);
      expect(await stock(3)).toBe(before - 4);
    });

    it('missing or mistyped fields are 422', async () => {
      const placed = await checkout(await cartWith([[2, 1]]));
      const noStatus = await confirm({ order_id: placed.body.order_id });
      expect(noStatus.status).toBe(422);
      expect(noStatus.body.detail).toEqual([expect.objectContaining({ type: 'missing', loc: ['body', 'status'] })]);
      const noOrder = await confirm({ status: 'success' });
      expect(noOrder.status).toBe(422);
      expect(noOrder.body.detail).toEqual([expect.objectContaining({ type: 'missing', loc: ['body', 'order_id'] })]);
      expect((await confirm({})).status).toBe(422);
      expect((await confirm({ order_id: placed.body.order_id, status: 'success', amount: 'lots' })).status).toBe(422);
      expect((await order(placed.body.order_id)).body.status).toBe('pending_payment');
    });

    it('cancel: a pending order becomes cancelled and its stock returns', async () => {
      const before = await stock(2);
      const placed = await checkout(await cartWith([[2, 7]]));
      expect(await stock(2)).toBe(before - 7);
      const res = await req('POST', `/orders/${placed.body.order_id}/cancel`);
      expect(res.status, res.text).toBe(200);
      expect(Object.keys(res.body).slice(0, 5)).toEqual(['order_id', 'cart_id', 'items', 'total', 'status']);
      expect(res.body).toMatchObject({ order_id: placed.body.order_id, status: 'cancelled', total: 174.93 });
      expect(await stock(2)).toBe(before);
      expectDetail(await confirm({ order_id: placed.body.order_id, status: 'success' }), 400, 'Order already processed (status: cancelled)');
      expect(await stock(2)).toBe(before);
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, freshDatabaseUrl, startStore, type ServerProcess } from './helpers/processes.js';
import { cartWith, pendingOrder, sleep, stockOf } from './helpers/shop.js';

/**
 * Issue 8, item 3: stock held by an order past its deadline is never counted as held, on any
 * path, in any process, although no sweep has run (the sweep interval is ten minutes here).
 * Process `a` takes all the stock of a product; once the order's deadline has passed, process
 * `b` (same database) must see and sell that stock. Nothing reads the order itself, which would
 * expire it by another path.
 */
describe('an order past its deadline holds no stock', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  const TTL_MS = 1000;

  beforeAll(async () => {
    const databaseUrl = freshDatabaseUrl();
    const env = { ORDER_TTL_SECONDS: String(TTL_MS / 1000), SWEEP_INTERVAL_MS: '600000' };
    a = await startStore({ databaseUrl, env });
    b = await startStore({ databaseUrl, env });
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  /**
   * `a` checks out every unit of the product, `b` sees none (and runs `whileHeld`, e.g. to cache a
   * page that shows the hold), then the order's deadline passes.
   */
  async function holdAllUntilExpired(productId: number, whileHeld?: () => Promise<void>): Promise<number> {
    const stock = await stockOf(b.url, productId);
    expect(stock).toBeGreaterThan(0);
    await pendingOrder(a.url, [[productId, stock]]);
    expect(await stockOf(b.url, productId)).toBe(0);
    await whileHeld?.();
    await sleep(TTL_MS + 100);
    return stock;
  }

  it('product detail', async () => {
    const stock = await holdAllUntilExpired(1);
    expect(await stockOf(b.url, 1)).toBe(stock);
  });

  it('listing, with in_stock=true', async () => {
    const listing = () => call('GET', `${b.url}/products?in_stock=true&page_size=100`);
    // The same page read while the hold is live: `b` keeps it, and must not send it again once the deadline has passed.
    const stock = await holdAllUntilExpired(2, async () => {
      expect((await listing()).body.products.some((p: { id: number }) => p.id === 2)).toBe(false);
    });
    const page = await listing();
    expect(page.status).toBe(200);
    expect(page.body.products.find((p: { id: number }) => p.id === 2)?.stock).toBe(stock);
  });

  it("another customer's add to cart", async () => {
    const stock = await holdAllUntilExpired(3);
    const cart = await call('POST', `${b.url}/cart`);
    const added = await call('POST', `${b.url}/cart/${cart.body.cart_id}/items`, { product_id: 3, quantity: stock });
    expect(added.status, added.text).toBe(200);
  });

  it("another customer's checkout", async () => {
    // The cart is filled while the stock is free; the hold comes after and expires before checkout.
    const productId = 5;
    const stock = await stockOf(b.url, productId);
    const cartId = await cartWith(b.url, [[productId, stock]]);
    expect(await holdAllUntilExpired(productId)).toBe(stock);
    const checkout = await call('POST', `${b.url}/cart/${cartId}/checkout`);
    expect(checkout.status, checkout.text).toBe(200);
    expect(await stockOf(a.url, productId)).toBe(0);
  });
});

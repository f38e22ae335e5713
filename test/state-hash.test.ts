import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, freePort, freshDatabaseUrl, startGateway, startStore, type ServerProcess } from './helpers/processes.js';
import { createSandbox } from './helpers/sandboxes.js';
import { orderOf, shutdown, waitFor } from './helpers/shop.js';

/**
 * GET /sandboxes/{id}/state (spec/sandboxes.md section 3): equal states give equal hashes across
 * sandboxes driven alike (same seed and now), store instances, databases and restarts; any change
 * gives another hash.
 */
describe('state hash', () => {
  const databaseUrl = freshDatabaseUrl();
  let gatewayPort: number;
  let stores: ServerProcess[] = [];
  let gateway: ServerProcess;
  const storeEnv = () => ({ databaseUrl, env: { PAYMENTS_URL: `http://127.0.0.1:${gatewayPort}` } });

  beforeAll(async () => {
    gatewayPort = await freePort();
    stores = [await startStore(storeEnv()), await startStore(storeEnv())];
    gateway = await startGateway({ storeUrl: stores[0]!.url, port: gatewayPort });
  });
  afterAll(() => shutdown(...stores, gateway));

  const stateOf = async (storeUrl: string, id: string): Promise<{ state: any; hash: string }> => {
    const res = await call('GET', `${storeUrl}/sandboxes/${id}/state`);
    expect(res.status, res.text).toBe(200);
    return res.body;
  };

  /** The same purchase script: two carts, one paid order, one pending. */
  async function drive(box: { store_url: string; payments_url: string }): Promise<void> {
    const cart = (await call('POST', `${box.store_url}/cart`)).body.cart_id as string;
    await call('POST', `${box.store_url}/cart/${cart}/items`, { product_id: 3, quantity: 2 });
    await call('POST', `${box.store_url}/cart/${cart}/items`, { product_id: 1, quantity: 1 });
    const order = (await call('POST', `${box.store_url}/cart/${cart}/checkout`)).body;
    const paid = await call('POST', `${box.payments_url}/payments/orders`, { order_id: order.order_id, amount: order.total });
    expect(paid.status, paid.text).toBe(200);
    await waitFor(() => orderOf(box.store_url, order.order_id), (o) => o.status === 'paid');
    const other = (await call('POST', `${box.store_url}/cart`)).body.cart_id as string;
    await call('POST', `${box.store_url}/cart/${other}/items`, { product_id: 5, quantity: 1 });
  }

  it('two sandboxes with the same seed and now, driven alike, hash equal on both instances, and after a restart', async () => {
    const start = { seed: 42, now: '2026-03-01T09:00:00Z' };
    const a = await createSandbox(stores[0]!.url, start);
    const b = await createSandbox(stores[1]!.url, start);
    await drive(a);
    await drive(b);

    const first = await stateOf(stores[0]!.url, a.sandbox_id);
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect((await stateOf(stores[1]!.url, b.sandbox_id)).hash).toBe(first.hash);
    expect((await stateOf(stores[1]!.url, a.sandbox_id)).hash).toBe(first.hash);

    const { state } = first;
    expect(Object.keys(state)).toEqual(['catalog', 'carts', 'orders', 'gateway']);
    expect(state.orders).toHaveLength(1);
    expect(state.orders[0]).toMatchObject({ status: 'paid', created_at: '2026-03-01T09:00:00.000Z', items: [{ product_id: 3, quantity: 2 }, { product_id: 1, quantity: 1 }] });
    expect(state.orders[0].total).toMatch(/^\d+\.\d{2}$/);
    expect(state.carts).toEqual([{ cart_id: expect.any(String), created_at: '2026-03-01T09:00:00.000Z', updated_at: '2026-03-01T09:00:00.000Z', items: [{ product_id: 5, quantity: 1 }] }]);
    expect(state.gateway.payments).toEqual([expect.objectContaining({ order_id: state.orders[0].order_id, amount: state.orders[0].total, status: 'succeeded' })]);
    expect(state.gateway.balance).toMatch(/^\d+\.\d{2}$/);
    expect(state.catalog.products.find((p: { id: number }) => p.id === 3).price).toMatch(/^\d+\.\d{2}$/);

    await stores[1]!.stop();
    stores[1] = await startStore(storeEnv());
    expect((await stateOf(stores[1]!.url, b.sandbox_id)).hash).toBe(first.hash);

    // One add to a cart: another hash; the other sandbox keeps its own.
    await call('POST', `${stores[1]!.url}/sandboxes/${b.sandbox_id}/cart/${state.carts[0].cart_id}/items`, { product_id: 5, quantity: 1 });
    expect((await stateOf(stores[1]!.url, b.sandbox_id)).hash).not.toBe(first.hash);
    expect((await stateOf(stores[0]!.url, a.sandbox_id)).hash).toBe(first.hash);
  });

  it('a reset brings back the hash of a fresh sandbox; the root has a state too', async () => {
    const fresh = await createSandbox(stores[0]!.url, { now: '2026-03-01T09:00:00Z' });
    const used = await createSandbox(stores[0]!.url, { now: '2026-03-01T09:00:00Z' });
    const empty = (await stateOf(stores[0]!.url, fresh.sandbox_id)).hash;
    expect((await stateOf(stores[0]!.url, used.sandbox_id)).hash).toBe(empty);
    await call('POST', `${used.store_url}/cart`);
    expect((await stateOf(stores[0]!.url, used.sandbox_id)).hash).not.toBe(empty);
    await call('POST', `${stores[0]!.url}/sandboxes/${used.sandbox_id}/reset`);
    expect((await stateOf(stores[0]!.url, used.sandbox_id)).hash).toBe(empty);

    const root = await stateOf(stores[0]!.url, 'default');
    expect(root.state.gateway.balance).toMatch(/^\d+\.\d{2}$/);
    expect((await call('GET', `${stores[0]!.url}/sandboxes/nope-${Date.now()}/state`)).status).toBe(404);
  });
});

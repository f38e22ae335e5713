import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type ServerProcess } from './helpers/processes.js';
import { createSandbox, startPair } from './helpers/sandboxes.js';
import { shutdown } from './helpers/shop.js';

/** The event timeline of a sandbox (spec/sandboxes.md section 3) through both real servers. */
describe('events', () => {
  let store: ServerProcess;
  let gateway: ServerProcess;

  beforeAll(async () => {
    const pair = await startPair();
    store = pair.stores[0]!;
    gateway = pair.gateway;
  });
  afterAll(() => shutdown(store, gateway));

  const eventsOf = async (id: string, query = '') => {
    const res = await call('GET', `${store.url}/sandboxes/${id}/events${query}`);
    expect(res.status, res.text).toBe(200);
    return res.body.events as { seq: number; at: string; source: string; type: string; data: Record<string, unknown> }[];
  };

  it('cart changes are recorded in order with gapless seqs; after= pages on', async () => {
    const box = await createSandbox(store.url, { now: '2026-01-01T12:00:00Z' });
    const cart = (await call('POST', `${box.store_url}/cart`)).body.cart_id as string;
    await call('POST', `${box.store_url}/cart/${cart}/items`, { product_id: 3, quantity: 1 });
    await call('POST', `${box.store_url}/cart/${cart}/items`, { product_id: 3, quantity: 2 });
    await call('PATCH', `${box.store_url}/cart/${cart}/items/3`, { quantity: 1 });
    await call('DELETE', `${box.store_url}/cart/${cart}/items/3`);

    const changes = (await eventsOf(box.sandbox_id)).filter((e) => e.type !== 'request');
    expect(changes.map((e) => e.type)).toEqual(['cart.created', 'cart.item_added', 'cart.item_added', 'cart.item_updated', 'cart.item_removed']);
    expect(changes[0]).toMatchObject({ at: '2026-01-01T12:00:00.000Z', source: 'store', data: { cart_id: cart } });
    expect(changes[2]!.data).toEqual({ cart_id: cart, product_id: 3, quantity: 3, added: 2 });

    const all = await eventsOf(box.sandbox_id);
    expect(all.map((e) => e.seq)).toEqual(all.map((_e, i) => i + 1));
    const page = await eventsOf(box.sandbox_id, `?after=${all[1]!.seq}&limit=2`);
    expect(page.map((e) => e.seq)).toEqual([all[2]!.seq, all[3]!.seq]);
  });

  it('unknown sandbox 404; a bad after is 422; default has a timeline too', async () => {
    expect((await call('GET', `${store.url}/sandboxes/nope-${Date.now()}/events`)).status).toBe(404);
    expect((await call('GET', `${store.url}/sandboxes/default/events?after=x`)).status).toBe(422);
    const before = await eventsOf('default');
    await call('POST', `${store.url}/cart`);
    const after = await eventsOf('default', `?after=${before.at(-1)?.seq ?? 0}`);
    expect(after.map((e) => e.type)).toEqual(['cart.created']);
  });
});

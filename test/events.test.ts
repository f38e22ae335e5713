import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGuideScript } from './helpers/flow.js';
import { call, type ServerProcess } from './helpers/processes.js';
import { createSandbox, startPair } from './helpers/sandboxes.js';
import { shutdown, waitFor } from './helpers/shop.js';

interface TimelineEvent {
  seq: number;
  at: string;
  source: string;
  type: string;
  data: Record<string, unknown>;
}

/** Events kept per sandbox in this file's servers: small, so retention shows within a few requests. */
const KEEP = 40;

/** Reads a Server-Sent-Events response until `count` events arrived; returns them with their raw id lines. */
async function readEvents(res: Response, count: number): Promise<{ id: string; event: string; data: TimelineEvent }[]> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: { id: string; event: string; data: TimelineEvent }[] = [];
  let buffer = '';
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':') && l.includes(': ')).map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]));
      if (fields.data !== undefined) events.push({ id: fields.id!, event: fields.event!, data: JSON.parse(fields.data) as TimelineEvent });
    }
  }
  await reader.cancel();
  return events;
}

/** The event timeline of a sandbox (spec/sandboxes.md section 3) through both real servers. */
describe('events', () => {
  let store: ServerProcess;
  let gateway: ServerProcess;

  beforeAll(async () => {
    // ROOT_EVENTS=changes: the root records its state changes (not its requests); off by default.
    const pair = await startPair({ env: { MAX_EVENTS_PER_SANDBOX: String(KEEP), SWEEP_INTERVAL_MS: '200', ROOT_EVENTS: 'changes' } });
    store = pair.stores[0]!;
    gateway = pair.gateway;
  });
  afterAll(() => shutdown(store, gateway));

  const eventsOf = async (id: string, query = ''): Promise<TimelineEvent[]> => {
    const res = await call('GET', `${store.url}/sandboxes/${id}/events${query}`);
    expect(res.status, res.text).toBe(200);
    return res.body.events as TimelineEvent[];
  };
  const changesOf = async (id: string) => (await eventsOf(id)).filter((e) => e.type !== 'request');

  it("the guide's flow in a sandbox reads in order, store and gateway in one gapless timeline", async () => {
    const box = await createSandbox(store.url, { seed: 3, now: '2026-01-01T12:00:00Z' });
    const { orderId, total } = await runGuideScript(box.store_url, box.payments_url);

    // Request events are written in batches, a moment after their answers.
    const all = await waitFor(() => eventsOf(box.sandbox_id), (list) => list.filter((e) => e.type === 'request').length === 5);
    expect(all.map((e) => e.seq)).toEqual(all.map((_e, i) => i + 1));
    const changes = all.filter((e) => e.type !== 'request');
    expect(changes.map((e) => `${e.source} ${e.type}`)).toEqual([
      'store cart.created',
      'store cart.item_added',
      'store order.created',
      'gateway payment.succeeded',
      'store order.paid',
      'gateway callback.attempted',
    ]);
    for (const e of changes) expect(e.at).toBe('2026-01-01T12:00:00.000Z');
    const [cart, added, created, paid, orderPaid, callback] = changes;
    expect(added!.data).toEqual({ cart_id: cart!.data.cart_id, product_id: 3, quantity: 1, added: 1 });
    expect(created!.data).toMatchObject({ order_id: orderId, cart_id: cart!.data.cart_id, total: Number(total), items: [{ product_id: 3, quantity: 1 }] });
    expect(paid!.data).toEqual({ payment_id: expect.stringMatching(/^pay_/), order_id: orderId, amount: Number(total) });
    expect(orderPaid!.data).toEqual({ order_id: orderId, payment_id: paid!.data.payment_id, total: Number(total) });
    expect(callback!.data).toMatchObject({ payment_id: paid!.data.payment_id, order_id: orderId, event: 'success', attempt: 1, status: 200, error: null });

    // Request events: path relative to the sandbox base; the callback's own request is one of them.
    const requests = all.filter((e) => e.type === 'request').map((e) => `${e.data.method} ${e.data.path} ${e.data.status}`);
    expect(requests).toEqual([
      'POST /cart 200',
      `POST /cart/${cart!.data.cart_id}/items 200`,
      `POST /cart/${cart!.data.cart_id}/checkout 200`,
      'POST /payments/confirm 200',
      `GET /orders/${orderId} 200`,
    ]);
    expect(typeof all.find((e) => e.type === 'request')!.data.ms).toBe('number');

    const page = await eventsOf(box.sandbox_id, `?after=${all[1]!.seq}&limit=2`);
    expect(page.map((e) => e.seq)).toEqual([all[2]!.seq, all[3]!.seq]);
    expect(await eventsOf(box.sandbox_id, `?after=${all.at(-1)!.seq}`)).toEqual([]);
  });

  it('cart edits, cancel, clock and expiry, reset (seq counts on) and delete', async () => {
    const box = await createSandbox(store.url, { now: '2026-01-01T12:00:00Z' });
    const cart = (await call('POST', `${box.store_url}/cart`)).body.cart_id as string;
    await call('POST', `${box.store_url}/cart/${cart}/items`, { product_id: 3, quantity: 1 });
    await call('POST', `${box.store_url}/cart/${cart}/items`, { product_id: 3, quantity: 2 });
    await call('PATCH', `${box.store_url}/cart/${cart}/items/3`, { quantity: 1 });
    await call('POST', `${box.store_url}/cart/${cart}/items`, { product_id: 1, quantity: 1 });
    await call('DELETE', `${box.store_url}/cart/${cart}/items/1`);
    const first = (await call('POST', `${box.store_url}/cart/${cart}/checkout`)).body.order_id as string;
    await call('POST', `${box.store_url}/orders/${first}/cancel`);
    const second = (await call('POST', `${box.store_url}/cart/${cart}/checkout`)).body.order_id as string;
    await call('POST', `${store.url}/sandboxes/${box.sandbox_id}/clock`, { advance_seconds: 3600 });

    const changes = await changesOf(box.sandbox_id);
    expect(changes.map((e) => e.type)).toEqual([
      'cart.created', 'cart.item_added', 'cart.item_added', 'cart.item_updated', 'cart.item_added', 'cart.item_removed',
      'order.created', 'order.cancelled', 'order.created', 'clock.advanced', 'order.expired',
    ]);
    expect(changes[2]!.data).toEqual({ cart_id: cart, product_id: 3, quantity: 3, added: 2 });
    expect(changes[7]!.data).toMatchObject({ order_id: first });
    expect(changes[9]).toMatchObject({ at: '2026-01-01T13:00:00.000Z', data: { from: '2026-01-01T12:00:00.000Z', to: '2026-01-01T13:00:00.000Z', advanced_seconds: 3600 } });
    expect(changes[10]).toMatchObject({ at: '2026-01-01T13:00:00.000Z', data: { order_id: second } });

    const requests = await waitFor(() => eventsOf(box.sandbox_id), (list) => list.filter((e) => e.type === 'request').length === 9);
    const last = requests.at(-1)!.seq;
    expect((await call('POST', `${store.url}/sandboxes/${box.sandbox_id}/reset`)).status).toBe(200);
    const afterReset = await eventsOf(box.sandbox_id);
    expect(afterReset).toEqual([{ seq: last + 1, at: '2026-01-01T12:00:00.000Z', source: 'store', type: 'sandbox.reset', data: {} }]);

    await call('POST', `${store.url}/sandboxes/${box.sandbox_id}/snapshots`, { name: 's1' });
    await call('POST', `${box.store_url}/cart`);
    await call('POST', `${store.url}/sandboxes/${box.sandbox_id}/snapshots/s1/restore`);
    expect((await changesOf(box.sandbox_id)).map((e) => e.type)).toEqual(['sandbox.reset', 'cart.created', 'snapshot.restored']);

    expect((await call('DELETE', `${store.url}/sandboxes/${box.sandbox_id}`)).status).toBe(204);
    expect((await call('GET', `${store.url}/sandboxes/${box.sandbox_id}/events`)).status).toBe(404);
  });

  it('a decline and a refund come from the gateway; the root has a timeline without request events', async () => {
    const box = await createSandbox(store.url);
    const cart = (await call('POST', `${box.store_url}/cart`)).body.cart_id as string;
    await call('POST', `${box.store_url}/cart/${cart}/items`, { product_id: 3, quantity: 1 });
    const order = (await call('POST', `${box.store_url}/cart/${cart}/checkout`)).body;
    const declined = await call('POST', `${box.payments_url}/payments/orders`, { order_id: order.order_id, amount: order.total, card_number: '4000000000000002' });
    expect(declined.status).toBe(402);
    const types = (await changesOf(box.sandbox_id)).map((e) => `${e.source} ${e.type}`);
    expect(types.slice(-3)).toEqual(['gateway payment.failed', 'store order.payment_failed', 'gateway callback.attempted']);

    const cart2 = (await call('POST', `${box.store_url}/cart`)).body.cart_id as string;
    await call('POST', `${box.store_url}/cart/${cart2}/items`, { product_id: 3, quantity: 1 });
    const order2 = (await call('POST', `${box.store_url}/cart/${cart2}/checkout`)).body;
    const paid = await call('POST', `${box.payments_url}/payments/orders`, { order_id: order2.order_id, amount: order2.total });
    await call('POST', `${box.payments_url}/payments/${paid.body.payment_id}/refund`);
    const refunded = await waitFor(() => changesOf(box.sandbox_id), (list) => list.filter((e) => e.type === 'callback.attempted').length === 3);
    expect(refunded.find((e) => e.type === 'payment.refunded')!.data).toEqual({ payment_id: paid.body.payment_id, order_id: order2.order_id, amount: order2.total, reason: 'refund_requested' });

    expect((await call('GET', `${store.url}/sandboxes/default/events?after=x`)).status).toBe(422);
    expect((await call('GET', `${store.url}/sandboxes/nope-${Date.now()}/events`)).status).toBe(404);
    const before = await eventsOf('default');
    await call('GET', `${store.url}/products`);
    await call('POST', `${store.url}/cart`);
    const after = await eventsOf('default', `?after=${before.at(-1)?.seq ?? 0}`);
    expect(after.map((e) => e.type)).toEqual(['cart.created']);
  });

  it(`keeps the newest ${KEEP} events of a sandbox, oldest dropped first`, async () => {
    const box = await createSandbox(store.url);
    for (let i = 0; i < KEEP + 10; i++) await call('GET', `${box.store_url}/products/1`);
    const events = await waitFor(() => eventsOf(box.sandbox_id), (list) => list.at(-1)?.seq === KEEP + 10);
    expect(events).toHaveLength(KEEP);
    expect(events.at(-1)!.seq).toBe(KEEP + 10);
    expect(events[0]!.seq).toBe(11);
  });

  it('streams live with Server-Sent Events, resumes with Last-Event-ID, and ends when the server stops', async () => {
    const box = await createSandbox(store.url);
    const url = `${store.url}/sandboxes/${box.sandbox_id}/events`;
    const live = await fetch(url, { headers: { accept: 'text/event-stream' } });
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const firstCart = (await call('POST', `${box.store_url}/cart`)).body.cart_id as string;
    const received = await readEvents(live, 2);
    expect(received.map((e) => `${e.id} ${e.event}`)).toEqual(['1 cart.created', '2 request']);
    expect(received[0]!.data).toMatchObject({ seq: 1, source: 'store', type: 'cart.created', data: { cart_id: firstCart } });

    // Missed while disconnected: the stream picks up after the last id it delivered.
    const secondCart = (await call('POST', `${box.store_url}/cart`)).body.cart_id as string;
    const resumed = await fetch(url, { headers: { accept: 'text/event-stream', 'last-event-id': '2' } });
    const again = await readEvents(resumed, 2);
    expect(again.map((e) => `${e.id} ${e.event}`)).toEqual(['3 cart.created', '4 request']);
    expect(again[0]!.data.data).toEqual({ cart_id: secondCart });

    // A stream left open does not hold the server's shutdown.
    const open = await fetch(`${url}?after=4`, { headers: { accept: 'text/event-stream' } });
    const ended = readEvents(open, 1);
    await store.stop();
    expect(await ended).toEqual([]);
    expect(store.child.exitCode).toBe(0);
  });
});

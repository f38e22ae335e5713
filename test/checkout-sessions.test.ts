import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, freePort, startGateway, startStore, type ServerProcess } from './helpers/processes.js';
import { createSandbox, usePair } from './helpers/sandboxes.js';
import { orderOf, shutdown, stockOf } from './helpers/shop.js';

/**
 * Agentic Commerce Protocol checkout sessions (spec/sandboxes.md section 4) through both real
 * servers: each test works in a sandbox of its own, so stock and balances are its alone.
 */
describe('checkout sessions (ACP)', () => {
  const servers = usePair();
  const store = {
    get url() {
      return servers.store().url;
    },
  };

  let keys = 0;
  const newKey = () => `key-${process.pid}-${keys++}`;
  /** A POST with a fresh Idempotency-Key (or the given one). */
  const post = (url: string, body?: unknown, key = newKey(), headers: Record<string, string> = {}) => call('POST', url, body, { 'idempotency-key': key, ...headers });
  const balance = async (paymentsUrl: string) => (await call('GET', `${paymentsUrl}/balance`)).body.balance as number;
  const PAY = { payment_data: { token: '4242424242424242', provider: 'stripe' } };
  const DECLINE = { payment_data: { token: '4000000000000002' } };

  it('create, update, complete: completed with an order that reads paid at GET /orders/{id}', async () => {
    const box = await createSandbox(store.url);
    const before = await stockOf(box.store_url, 3);
    const created = await post(`${box.store_url}/checkout_sessions`, { items: [{ id: '3', quantity: 2 }], buyer: { first_name: 'Ada', last_name: 'L', email: 'ada@example.com' } });
    expect(created.status, created.text).toBe(201);
    const session = created.body;
    expect(session).toMatchObject({ status: 'ready_for_payment', currency: 'usd', messages: [], links: [], fulfillment_options: [], buyer: { first_name: 'Ada' } });
    expect(session.id).toMatch(/^cs_[0-9a-f]{24}$/);
    expect(session.line_items).toEqual([
      { id: 'line_item_1', item: { id: '3', quantity: 2 }, name: 'Mechanical Keyboard', unit_amount: 8999, base_amount: 17998, discount: 0, subtotal: 17998, tax: 0, total: 17998 },
    ]);
    expect(session.totals.find((t: { type: string }) => t.type === 'total').amount).toBe(17998);
    expect(await stockOf(box.store_url, 3)).toBe(before - 2); // the pending order's hold

    const updated = await post(`${box.store_url}/checkout_sessions/${session.id}`, { items: [{ id: '3', quantity: 1 }, { id: '1', quantity: 1 }] });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.body.status).toBe('ready_for_payment');
    expect(updated.body.totals.at(-1)).toEqual({ type: 'total', display_text: 'Total', amount: 8999 + 5999 });
    expect(await stockOf(box.store_url, 3)).toBe(before - 1);

    const completed = await post(`${box.store_url}/checkout_sessions/${session.id}/complete`, PAY);
    expect(completed.status, completed.text).toBe(200);
    expect(completed.body.status).toBe('completed');
    const order = completed.body.order;
    expect(order).toEqual({ id: expect.any(String), checkout_session_id: session.id, permalink_url: `${box.store_url}/orders/${order.id}` });
    const paid = await orderOf(box.store_url, order.id);
    expect(paid).toMatchObject({ status: 'paid', total: 149.98 });
    expect((await call('GET', order.permalink_url)).body.status).toBe('paid');
    expect(await balance(box.payments_url)).toBe(50000 - 149.98);
    const read = await call('GET', `${box.store_url}/checkout_sessions/${session.id}`);
    expect(read.body).toEqual(completed.body);
    // A final session refuses every change.
    const again = await post(`${box.store_url}/checkout_sessions/${session.id}/cancel`);
    expect(again.status).toBe(405);
    expect(again.body).toEqual({ type: 'invalid_request', code: 'session_completed', message: 'Checkout session is completed: it cannot be canceled' });
  });

  it('a stock-out and an unknown product are messages with their param inside a 201 session, not HTTP errors; nothing is held', async () => {
    const box = await createSandbox(store.url);
    const stock = await stockOf(box.store_url, 1);
    const res = await post(`${box.store_url}/checkout_sessions`, { items: [{ id: '2', quantity: 1 }, { id: '1', quantity: stock + 1 }, { id: '9999', quantity: 1 }] });
    expect(res.status, res.text).toBe(201);
    expect(res.body.status).toBe('not_ready_for_payment');
    expect(res.body.messages).toEqual([
      { type: 'error', code: 'out_of_stock', param: '$.line_items[1]', content_type: 'plain', content: expect.stringContaining(`Only ${stock} of`), resolution: 'recoverable' },
      { type: 'error', code: 'invalid', param: '$.line_items[2]', content_type: 'plain', content: expect.stringContaining("'9999'"), resolution: 'recoverable' },
    ]);
    expect(res.body.line_items[2]).toEqual({ id: 'line_item_3', item: { id: '9999', quantity: 1 }, unit_amount: 0, base_amount: 0, discount: 0, subtotal: 0, tax: 0, total: 0 });
    expect(await stockOf(box.store_url, 1)).toBe(stock);

    // Completing it pays nothing: the session comes back as it is, its messages saying why.
    const complete = await post(`${box.store_url}/checkout_sessions/${res.body.id}/complete`, PAY);
    expect(complete.status).toBe(200);
    expect(complete.body.status).toBe('not_ready_for_payment');
    expect(await balance(box.payments_url)).toBe(50000);

    // Fixing the items makes it ready.
    const fixed = await post(`${box.store_url}/checkout_sessions/${res.body.id}`, { items: [{ id: '1', quantity: stock }] });
    expect(fixed.body).toMatchObject({ status: 'ready_for_payment', messages: [] });
    expect(await stockOf(box.store_url, 1)).toBe(0);
  });

  it('the decline card is a payment_declined message; the session stays payable and another card completes it', async () => {
    const box = await createSandbox(store.url);
    const before = await stockOf(box.store_url, 5);
    const session = (await post(`${box.store_url}/checkout_sessions`, { items: [{ id: '5', quantity: 1 }] })).body;
    const declined = await post(`${box.store_url}/checkout_sessions/${session.id}/complete`, DECLINE);
    expect(declined.status, declined.text).toBe(200);
    expect(declined.body.status).toBe('ready_for_payment');
    expect(declined.body.messages).toEqual([
      expect.objectContaining({ type: 'error', code: 'payment_declined', resolution: 'requires_buyer_input', content: expect.stringContaining('card_declined') }),
    ]);
    expect(declined.body.order).toBeUndefined();
    expect(await stockOf(box.store_url, 5)).toBe(before - 1); // held again by the new order
    expect(await balance(box.payments_url)).toBe(50000);

    const paid = await post(`${box.store_url}/checkout_sessions/${session.id}/complete`, PAY);
    expect(paid.body.status).toBe('completed');
    expect((await orderOf(box.store_url, paid.body.order.id)).status).toBe('paid');
    expect(await stockOf(box.store_url, 5)).toBe(before - 1);
  });

  it('Idempotency-Key: a repeat replays, another body is 422 idempotency_conflict, none is 400; concurrent duplicates act once', async () => {
    const box = await createSandbox(store.url);
    const url = `${box.store_url}/checkout_sessions`;
    const missing = await call('POST', url, { items: [{ id: '1', quantity: 1 }] });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ type: 'invalid_request', code: 'idempotency_key_required', message: 'Idempotency-Key header is required on all POST requests' });

    const key = newKey();
    const first = await post(url, { items: [{ id: '1', quantity: 1 }] }, key);
    const repeat = await post(url, { items: [{ quantity: 1, id: '1' }] }, key); // key order does not matter
    expect(repeat.status).toBe(201);
    expect(repeat.text).toBe(first.text);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(repeat.headers.get('idempotency-key')).toBe(key);
    const conflict = await post(url, { items: [{ id: '1', quantity: 2 }] }, key);
    expect(conflict.status).toBe(422);
    expect(conflict.body).toEqual({ type: 'invalid_request', code: 'idempotency_conflict', message: 'Idempotency-Key has already been used with a different request body' });
    // Keys are per path: the same key completes the session.
    const stock = await stockOf(box.store_url, 1);
    const completes = await Promise.all([1, 2, 3].map(() => post(`${url}/${first.body.id}/complete`, PAY, key)));
    for (const res of completes) {
      expect(res.status, res.text).toBe(200);
      expect(res.text).toBe(completes[0]!.text);
    }
    expect(completes[0]!.body.status).toBe('completed');
    expect(await balance(box.payments_url)).toBe(50000 - 59.99);
    expect(await stockOf(box.store_url, 1)).toBe(stock);
    const info = await call('GET', `${store.url}/sandboxes/${box.sandbox_id}`);
    expect(info.body.counts).toMatchObject({ orders: 1, payments: 1 });
  });

  it('cancel releases the stock; a canceled session cannot be completed', async () => {
    const box = await createSandbox(store.url);
    const before = await stockOf(box.store_url, 4);
    const session = (await post(`${box.store_url}/checkout_sessions`, { items: [{ id: '4', quantity: 3 }] })).body;
    expect(await stockOf(box.store_url, 4)).toBe(before - 3);
    const canceled = await post(`${box.store_url}/checkout_sessions/${session.id}/cancel`, { intent_trace: { reason_code: 'price_sensitivity' } });
    expect(canceled.status, canceled.text).toBe(200);
    expect(canceled.body).toMatchObject({ status: 'canceled', messages: [{ type: 'info', content: 'Checkout session has been canceled.' }] });
    expect(await stockOf(box.store_url, 4)).toBe(before);
    const complete = await post(`${box.store_url}/checkout_sessions/${session.id}/complete`, PAY);
    expect(complete.status).toBe(405);
    expect(complete.body.code).toBe('session_canceled');
  });

  it('past its deadline on the sandbox clock a session is expired: it cannot complete and its stock is back', async () => {
    const box = await createSandbox(store.url, { now: '2026-03-01T10:00:00Z' });
    const before = await stockOf(box.store_url, 2);
    const session = (await post(`${box.store_url}/checkout_sessions`, { items: [{ id: '2', quantity: 2 }] })).body;
    expect(session.expires_at).toBe('2026-03-01T10:15:00.000Z'); // ORDER_TTL_SECONDS, on the sandbox's clock
    const advanced = await call('POST', `${store.url}/sandboxes/${box.sandbox_id}/clock`, { advance_seconds: 901 });
    expect(advanced.status).toBe(200);
    const read = await call('GET', `${box.store_url}/checkout_sessions/${session.id}`);
    expect(read.body.status).toBe('expired');
    const complete = await post(`${box.store_url}/checkout_sessions/${session.id}/complete`, PAY);
    expect(complete.status).toBe(405);
    expect(complete.body).toEqual({ type: 'invalid_request', code: 'session_expired', message: 'Checkout session is expired: it cannot be completed' });
    expect(await balance(box.payments_url)).toBe(50000);
    expect(await stockOf(box.store_url, 2)).toBe(before);
  });

  it('concurrent sessions for the last units never oversell: the ones that miss out are out_of_stock, not errors', async () => {
    const box = await createSandbox(store.url);
    expect((await call('PATCH', `${box.store_url}/admin/products/7`, { stock: 4 })).status).toBe(200);
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(`${box.store_url}/checkout_sessions`, { items: [{ id: '7', quantity: 1 }] })));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(201));
    const statuses = answers.map((a) => a.body.status);
    expect(statuses.filter((s) => s === 'ready_for_payment')).toHaveLength(4);
    expect(answers.filter((a) => a.body.status === 'not_ready_for_payment').every((a) => a.body.messages[0].code === 'out_of_stock')).toBe(true);
    expect(await stockOf(box.store_url, 7)).toBe(0);
  });

  it('discovery names the API version and the endpoints, at the root and in a sandbox', async () => {
    const box = await createSandbox(store.url);
    for (const base of [store.url, box.store_url]) {
      const res = await call('GET', `${base}/.well-known/acp.json`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
      expect(res.body).toMatchObject({
        protocol: { name: 'acp', version: '2026-01-16', supported_versions: ['2026-01-16'] },
        api_base_url: base,
        capabilities: { services: ['checkout'] },
        endpoints: { create_checkout_session: 'POST /checkout_sessions', complete_checkout_session: 'POST /checkout_sessions/{checkout_session_id}/complete' },
      });
    }
  });

  it("HTTP errors are in the protocol's shape: validation 400 with its JSONPath, unknown session 404, unsupported API-Version 400", async () => {
    const box = await createSandbox(store.url);
    const url = `${box.store_url}/checkout_sessions`;
    const bad = await post(url, { items: [{ id: '1', quantity: 0 }] });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ type: 'invalid_request', code: 'invalid', message: '$.items[0].quantity must be >= 1', param: '$.items[0].quantity' });
    expect((await post(url, {})).body).toMatchObject({ code: 'missing', param: '$.items' });
    expect((await post(url, '{"items": [')).body).toMatchObject({ type: 'invalid_request', code: 'invalid_json' });
    const session = (await post(url, { items: [{ id: '1', quantity: 1 }] })).body;
    expect((await post(`${url}/${session.id}/cancel`, { intent_trace: { reason_code: 7 } })).body).toMatchObject({ code: 'invalid', param: '$.intent_trace.reason_code' });
    const twice = await post(url, { items: [{ id: '1', quantity: 1 }, { id: '1', quantity: 2 }] });
    expect(twice.body).toMatchObject({ code: 'invalid', param: '$.items[1].id' });
    const unknown = await call('GET', `${url}/cs_nope`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ type: 'invalid_request', code: 'session_not_found', message: 'Checkout session not found' });
    const version = await call('GET', `${url}/cs_nope`, undefined, { 'api-version': '2025-09-29', 'request-id': 'r-1' });
    expect(version.status).toBe(400);
    expect(version.body).toMatchObject({ code: 'unsupported_api_version', supported_versions: ['2026-01-16'] });
    expect(version.headers.get('request-id')).toBe('r-1');
    const text = await post(url, { items: [{ id: 'a\u0000', quantity: 1 }] });
    expect(text.status).toBe(400);
    expect(text.body).toMatchObject({ type: 'invalid_request', param: '$.items[0].id' });
  });

  it('seeded sandboxes give the same session ids; snapshots, restore and reset carry the sessions', async () => {
    const ids = [];
    for (const _ of [1, 2]) {
      const box = await createSandbox(store.url, { seed: 11, now: '2026-03-01T10:00:00Z' });
      ids.push((await post(`${box.store_url}/checkout_sessions`, { items: [{ id: '1', quantity: 1 }] })).body.id);
    }
    expect(ids[0]).toMatch(/^cs_[0-9a-f]{24}$/);
    expect(ids[1]).toBe(ids[0]);

    const box = await createSandbox(store.url);
    const admin = `${store.url}/sandboxes/${box.sandbox_id}`;
    const session = (await post(`${box.store_url}/checkout_sessions`, { items: [{ id: '1', quantity: 1 }] })).body;
    expect((await call('POST', `${admin}/snapshots`, { name: 'ready' })).status).toBe(201);
    await post(`${box.store_url}/checkout_sessions/${session.id}/cancel`);
    expect((await call('POST', `${admin}/snapshots/ready/restore`)).status).toBe(200);
    expect((await call('GET', `${box.store_url}/checkout_sessions/${session.id}`)).body.status).toBe('ready_for_payment');
    expect((await call('POST', `${admin}/reset`)).status).toBe(200);
    expect((await call('GET', `${box.store_url}/checkout_sessions/${session.id}`)).status).toBe(404);
  });
});

describe('checkout sessions when the gateway cannot reach the store, then is down', () => {
  // Its own pair: the gateway calls back a port nothing listens on, so payments stay unconfirmed.
  let store: ServerProcess | undefined;
  let gateway: ServerProcess | undefined;
  beforeAll(async () => {
    const port = await freePort();
    gateway = await startGateway({ storeUrl: 'http://127.0.0.1:9', port });
    store = await startStore({ env: { PAYMENTS_URL: gateway.url } });
  });
  afterAll(() => shutdown(store, gateway));
  const post = (path: string, body: unknown, key: string) => call('POST', `${store!.url}${path}`, body, { 'idempotency-key': key });
  const PAY = { payment_data: { token: '4242424242424242' } };

  it('a payment the gateway has not confirmed is in_progress; the confirmation, when it comes, completes the session', async () => {
    const session = (await post('/checkout_sessions', { items: [{ id: '3', quantity: 1 }] }, 'slow-1')).body;
    const pending = await post(`/checkout_sessions/${session.id}/complete`, PAY, 'slow-2');
    expect(pending.status, pending.text).toBe(200);
    expect(pending.body).toMatchObject({ status: 'in_progress', messages: [{ type: 'info' }] });
    expect((await post(`/checkout_sessions/${session.id}`, {}, 'slow-3')).body.code).toBe('payment_in_progress');
    // The gateway's retry, by hand: the store hears of the payment; the session reads completed.
    const payment = (await call('GET', `${gateway!.url}/payments`)).body.payments[0];
    const confirmed = await call('POST', `${store!.url}/payments/confirm`, { order_id: payment.order_id, status: 'success', payment_id: payment.payment_id });
    expect(confirmed.status, confirmed.text).toBe(200);
    const read = await call('GET', `${store!.url}/checkout_sessions/${session.id}`);
    expect(read.body).toMatchObject({ status: 'completed', order: { id: payment.order_id } });
  });

  it('with the gateway down, complete is 503 payment_gateway_unavailable, not kept, and the session stays payable', async () => {
    await gateway!.stop();
    const session = (await post('/checkout_sessions', { items: [{ id: '3', quantity: 1 }] }, 'down-1')).body;
    for (const _ of [1, 2]) {
      const res = await post(`/checkout_sessions/${session.id}/complete`, PAY, 'down-2');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ type: 'service_unavailable', code: 'payment_gateway_unavailable' });
      expect(res.headers.get('idempotent-replayed')).toBeNull(); // 5xx answers are not kept
    }
    expect((await call('GET', `${store!.url}/checkout_sessions/${session.id}`)).body.status).toBe('ready_for_payment');
  });
});

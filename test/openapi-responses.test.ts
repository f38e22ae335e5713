import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv } from 'ajv';
import type { OpenAPI } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, Receiver } from './gateway-receiver.js';
import { call, freePort, startGateway, startStore, type ServerProcess } from './helpers/processes.js';
import { cartWith, pendingOrder, shutdown } from './helpers/shop.js';

/**
 * Real answers of both servers, for the whole flow and for every error, checked against their
 * OpenAPI documents: the status must be documented for that operation and the body must match
 * the documented schema (Ajv over the dereferenced document), so the two cannot drift apart.
 */
type Doc = { paths: Record<string, Record<string, { responses: Record<string, any> }>> };

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });

class Checker {
  constructor(private readonly doc: Doc, private readonly base: string) {}

  /** Calls `method path` and checks the answer against the operation `template` (default: path without query). */
  async check(method: string, path: string, expected: number, options: { body?: unknown; headers?: Record<string, string>; template?: string } = {}) {
    const res = await call(method, `${this.base}${path}`, options.body, options.headers);
    const template = options.template ?? path.split('?')[0]!;
    const operation = this.doc.paths[template]?.[method.toLowerCase()];
    expect(operation, `${method} ${template} is documented`).toBeDefined();
    expect(res.status, `${method} ${path}: ${res.text}`).toBe(expected);
    const response = operation!.responses[String(res.status)];
    expect(response, `${method} ${template} documents ${res.status}`).toBeDefined();
    const schema = response.content?.['application/json']?.schema;
    if (schema) {
      const validate = ajv.compile(schema);
      expect(validate(res.body), `${method} ${path} ${res.status}: ${JSON.stringify(validate.errors)} in ${res.text}`).toBe(true);
    }
    for (const header of Object.keys(response.headers ?? {})) {
      if (res.headers.has(header)) expect(response.headers[header].schema.enum ?? [res.headers.get(header)]).toContain(res.headers.get(header));
    }
    return res;
  }
}

describe('real answers match the OpenAPI documents', () => {
  let store: ServerProcess | undefined;
  let gateway: ServerProcess | undefined;
  let s: Checker;
  let g: Checker;
  const big = JSON.stringify({ product_id: 1, pad: 'x'.repeat(1024 * 1024) });

  beforeAll(async () => {
    // The store pays checkout sessions at this gateway.
    const gatewayPort = await freePort();
    store = await startStore({ env: { PAYMENTS_URL: `http://127.0.0.1:${gatewayPort}` } });
    gateway = await startGateway({ storeUrl: store.url, port: gatewayPort });
    const load = async (server: ServerProcess) =>
      (await SwaggerParser.dereference((await call('GET', `${server.url}/openapi.json`)).body as OpenAPI.Document)) as unknown as Doc;
    s = new Checker(await load(store), store.url);
    g = new Checker(await load(gateway), gateway.url);
  });
  afterAll(() => shutdown(store, gateway));

  it('catalog, health and root answers', async () => {
    await s.check('GET', '/', 200);
    await s.check('GET', '/healthz', 200);
    await s.check('GET', '/categories', 200);
    await s.check('GET', '/categories/1', 200, { template: '/categories/{category_id}' });
    await s.check('GET', '/categories/999', 404, { template: '/categories/{category_id}' });
    await s.check('GET', '/categories/abc', 422, { template: '/categories/{category_id}' });
    await s.check('GET', '/products?sort_by=price&order=desc&page_size=3', 200);
    await s.check('GET', '/products?page_size=500', 422);
    await s.check('GET', '/products?search=%00', 422);
    await s.check('GET', '/products/1', 200, { template: '/products/{product_id}' });
    await s.check('GET', '/products/999', 404, { template: '/products/{product_id}' });
    await s.check('GET', '/products/x', 422, { template: '/products/{product_id}' });
    await s.check('GET', '/products/1/related', 200, { template: '/products/{product_id}/related' });
    await s.check('GET', '/products/999/related', 404, { template: '/products/{product_id}/related' });
    await s.check('GET', '/products/1/related?limit=50', 422, { template: '/products/{product_id}/related' });
    await s.check('GET', '/brands?category_id=1', 200);
    await s.check('GET', '/brands?category_id=x', 422);
  });

  it('cart and order answers, errors included', async () => {
    const cart = await s.check('POST', '/cart', 200, { headers: { 'idempotency-key': 'k-cart' } });
    const replay = await s.check('POST', '/cart', 200, { headers: { 'idempotency-key': 'k-cart' } });
    expect([replay.headers.get('idempotent-replayed'), replay.body]).toEqual(['true', cart.body]);
    await s.check('POST', '/cart', 413, { body: big });
    const id = cart.body.cart_id as string;
    const items = '/cart/{cart_id}/items';
    const line = '/cart/{cart_id}/items/{product_id}';
    await s.check('POST', `/cart/${id}/items`, 200, { body: { product_id: 1, quantity: 2 }, template: items });
    await s.check('POST', `/cart/${id}/items`, 422, { body: { product_id: 2 }, headers: { 'idempotency-key': 'k-cart' }, template: items });
    await s.check('POST', `/cart/${id}/items`, 400, { body: { product_id: 1, quantity: 0 }, template: items });
    await s.check('POST', `/cart/${id}/items`, 404, { body: { product_id: 999 }, template: items });
    await s.check('POST', `/cart/${id}/items`, 422, { body: { product_id: 'x' }, template: items });
    await s.check('POST', `/cart/${id}/items`, 413, { body: big, template: items });
    await s.check('POST', `/cart/${id}/items`, 415, { body: '{}', headers: { 'content-type': 'text/plain' }, template: items });
    await s.check('PATCH', `/cart/${id}/items/1`, 200, { body: { quantity: 3 }, template: line });
    await s.check('PATCH', `/cart/${id}/items/1`, 400, { body: { quantity: -1 }, template: line });
    await s.check('PATCH', `/cart/${id}/items/999`, 404, { body: { quantity: 1 }, template: line });
    await s.check('PATCH', `/cart/${id}/items/1`, 422, { body: {}, template: line });
    await s.check('PATCH', `/cart/${id}/items/1`, 415, { body: '{}', headers: { 'content-type': 'text/plain' }, template: line });
    await s.check('GET', `/cart/${id}`, 200, { template: '/cart/{cart_id}' });
    await s.check('GET', '/cart/nope', 404, { template: '/cart/{cart_id}' });
    await s.check('GET', '/cart/%00', 422, { template: '/cart/{cart_id}' });
    await s.check('DELETE', `/cart/${id}/items/2`, 404, { template: line });
    await s.check('DELETE', `/cart/${id}/items/x`, 422, { template: line });
    await s.check('DELETE', `/cart/${id}/items/1`, 200, { template: line });
    await s.check('POST', `/cart/${id}/checkout`, 400, { template: '/cart/{cart_id}/checkout' });
    await s.check('POST', '/cart/nope/checkout', 404, { template: '/cart/{cart_id}/checkout' });
    await s.check('POST', '/cart/%00/checkout', 422, { template: '/cart/{cart_id}/checkout' });
    const full = await cartWith(store!.url, [[3, 1]]);
    const order = await s.check('POST', `/cart/${full}/checkout`, 200, { template: '/cart/{cart_id}/checkout' });
    await s.check('GET', `/orders/${order.body.order_id}`, 200, { template: '/orders/{order_id}' });
    await s.check('GET', '/orders/nope', 404, { template: '/orders/{order_id}' });
    await s.check('GET', '/orders/%00', 422, { template: '/orders/{order_id}' });
    await s.check('POST', `/orders/${order.body.order_id}/cancel`, 200, { template: '/orders/{order_id}/cancel' });
    await s.check('POST', `/orders/${order.body.order_id}/cancel`, 400, { template: '/orders/{order_id}/cancel' });
    await s.check('POST', '/orders/nope/cancel', 404, { template: '/orders/{order_id}/cancel' });
  });

  it('payment callback answers', async () => {
    const paid = await pendingOrder(store!.url, [[4, 1]]);
    await s.check('POST', '/payments/confirm', 200, { body: { order_id: paid.order_id, status: 'SUCCESS' } });
    await s.check('POST', '/payments/confirm', 400, { body: { order_id: paid.order_id, status: 'success' } });
    const failed = await pendingOrder(store!.url, [[4, 1]]);
    await s.check('POST', '/payments/confirm', 400, { body: { order_id: failed.order_id, status: 'maybe' } });
    await s.check('POST', '/payments/confirm', 200, { body: { order_id: failed.order_id, status: 'failed' } });
    await s.check('POST', '/payments/confirm', 404, { body: { order_id: 'nope', status: 'success' } });
    await s.check('POST', '/payments/confirm', 422, { body: { status: 'success' } });
    await s.check('POST', '/payments/confirm', 413, { body: big });
    await s.check('POST', '/payments/confirm', 415, { body: '{}', headers: { 'content-type': 'text/plain' } });
  });

  it('checkout session answers, errors included', async () => {
    const key = (k: string) => ({ 'idempotency-key': k });
    const sessions = '/checkout_sessions';
    const one = '/checkout_sessions/{checkout_session_id}';
    await s.check('GET', '/.well-known/acp.json', 200);
    const created = await s.check('POST', sessions, 201, { body: { items: [{ id: '6', quantity: 1 }] }, headers: key('acp-1') });
    const replay = await s.check('POST', sessions, 201, { body: { items: [{ id: '6', quantity: 1 }] }, headers: key('acp-1') });
    expect([replay.headers.get('idempotent-replayed'), replay.body]).toEqual(['true', created.body]);
    await s.check('POST', sessions, 422, { body: { items: [{ id: '6', quantity: 2 }] }, headers: key('acp-1') });
    await s.check('POST', sessions, 400, { body: { items: [{ id: '6', quantity: 1 }] } });
    await s.check('POST', sessions, 400, { body: { items: [] }, headers: key('acp-2') });
    await s.check('POST', sessions, 400, { body: { items: [{ id: '6', quantity: 1 }] }, headers: { ...key('acp-3'), 'api-version': '2025-09-29' } });
    await s.check('POST', sessions, 413, { body: big, headers: key('acp-4') });
    await s.check('POST', sessions, 415, { body: '{}', headers: { ...key('acp-5'), 'content-type': 'text/plain' } });
    const id = created.body.id as string;
    await s.check('GET', `${sessions}/${id}`, 200, { template: one });
    await s.check('GET', `${sessions}/nope`, 404, { template: one });
    await s.check('GET', `${sessions}/${id}`, 400, { template: one, headers: { 'api-version': '2025-09-29' } });
    await s.check('POST', `${sessions}/${id}`, 200, { body: { items: [{ id: '6', quantity: 1_000_000 }] }, headers: key('acp-6'), template: one });
    await s.check('POST', `${sessions}/${id}`, 200, { body: {}, headers: key('acp-7'), template: one });
    await s.check('POST', `${sessions}/nope`, 404, { body: {}, headers: key('acp-8'), template: one });
    await s.check('POST', `${sessions}/${id}`, 200, { body: { items: [{ id: '6', quantity: 1 }] }, headers: key('acp-9'), template: one });
    const complete = `${one}/complete`;
    const declined = await s.check('POST', `${sessions}/${id}/complete`, 200, { body: { payment_data: { token: '4000000000000002' } }, headers: key('acp-10'), template: complete });
    expect(declined.body.messages[0].code).toBe('payment_declined');
    await s.check('POST', `${sessions}/${id}/complete`, 400, { body: { payment_data: { token: 'x' } }, headers: key('acp-11'), template: complete });
    const paid = await s.check('POST', `${sessions}/${id}/complete`, 200, { body: { payment_data: { token: '4242424242424242' } }, headers: key('acp-12'), template: complete });
    expect(paid.body.status).toBe('completed');
    await s.check('POST', `${sessions}/${id}/complete`, 405, { body: { payment_data: { token: '4242424242424242' } }, headers: key('acp-13'), template: complete });
    await s.check('POST', `${sessions}/nope/complete`, 404, { body: { payment_data: { token: '4242424242424242' } }, headers: key('acp-14'), template: complete });
    await s.check('POST', `${sessions}/${id}`, 405, { body: {}, headers: key('acp-15'), template: one });
    const other = await s.check('POST', sessions, 201, { body: { items: [{ id: '6', quantity: 1 }] }, headers: key('acp-16') });
    await s.check('POST', `${sessions}/${other.body.id}/cancel`, 200, { headers: key('acp-17'), template: `${one}/cancel` });
    await s.check('POST', `${sessions}/${other.body.id}/cancel`, 405, { headers: key('acp-18'), template: `${one}/cancel` });
    await s.check('POST', `${sessions}/nope/cancel`, 404, { headers: key('acp-19'), template: `${one}/cancel` });
  });

  it('webhook answers, errors included', async () => {
    const receiver = await new Receiver().start();
    try {
      const hooks = '/sandboxes/{sandbox_id}/webhooks';
      const one = `${hooks}/{webhook_id}`;
      // The root records no events by default (ROOT_EVENTS=off): subscribing there says so.
      await s.check('POST', '/sandboxes/default/webhooks', 409, { body: { url: `${receiver.url}/h`, events: ['*'] }, template: hooks });
      // ...and the carts and orders the tests above made at the root left no events.
      expect((await call('GET', `${store!.url}/sandboxes/default/events`)).body).toEqual({ events: [] });
      expect((await call('POST', `${store!.url}/sandboxes`, { sandbox_id: 'oa-hooks' })).status).toBe(201);
      const created = await s.check('POST', '/sandboxes/oa-hooks/webhooks', 201, { body: { url: `${receiver.url}/h`, events: ['cart.created'] }, template: hooks });
      await s.check('POST', '/sandboxes/oa-hooks/webhooks', 422, { body: { url: 'http://example.com/h', events: ['*'] }, template: hooks });
      await s.check('POST', '/sandboxes/oa-hooks/webhooks', 422, { body: { url: `${receiver.url}/h`, events: ['order.shipped'] }, template: hooks });
      await s.check('POST', '/sandboxes/nope/webhooks', 404, { body: { url: `${receiver.url}/h`, events: ['*'] }, template: hooks });
      await s.check('POST', '/sandboxes/oa-hooks/webhooks', 415, { body: '{}', headers: { 'content-type': 'text/plain' }, template: hooks });
      await s.check('GET', '/sandboxes/oa-hooks/webhooks', 200, { template: hooks });
      const id = created.body.webhook_id as string;
      await s.check('GET', `/sandboxes/oa-hooks/webhooks/${id}`, 200, { template: one });
      await s.check('GET', '/sandboxes/oa-hooks/webhooks/wh_nope', 404, { template: one });
      await pendingOrder(`${store!.url}/sandboxes/oa-hooks`, [[6, 1]]);
      const log = `${one}/deliveries`;
      await eventually(async () => receiver.calls.length > 0);
      const attempts = await eventually(async () => {
        const res = await s.check('GET', `/sandboxes/oa-hooks/webhooks/${id}/deliveries`, 200, { template: log });
        return res.body.length > 0 ? res.body : undefined;
      });
      await s.check('GET', `/sandboxes/oa-hooks/webhooks/${id}/deliveries?limit=0`, 422, { template: log });
      await s.check('GET', '/sandboxes/oa-hooks/webhooks/wh_nope/deliveries', 404, { template: log });
      const redeliver = `${log}/{delivery_id}/redeliver`;
      await s.check('POST', `/sandboxes/oa-hooks/webhooks/${id}/deliveries/${attempts[0].delivery_id}/redeliver`, 202, { template: redeliver });
      await s.check('POST', `/sandboxes/oa-hooks/webhooks/${id}/deliveries/dlv_nope/redeliver`, 404, { template: redeliver });
      await s.check('DELETE', `/sandboxes/oa-hooks/webhooks/${id}`, 204, { template: one });
      await s.check('DELETE', `/sandboxes/oa-hooks/webhooks/${id}`, 404, { template: one });
    } finally {
      await receiver.stop();
    }
  });

  it('gateway answers, errors included', async () => {
    await g.check('GET', '/', 200);
    await g.check('GET', '/healthz', 200);
    await g.check('POST', '/reset', 200);
    await g.check('GET', '/balance', 200);
    await g.check('POST', '/pay', 200, { body: { amount: 100, recipient: 'Alice' } });
    await g.check('POST', '/pay', 400, { body: { amount: 100 } });
    await g.check('POST', '/pay', 400, { body: { amount: 1, recipient: 'a\u0000' } });
    await g.check('POST', '/pay', 402, { body: { amount: 1_000_000, recipient: 'Alice' } });
    await g.check('POST', '/pay', 413, { body: big });
    const order = await pendingOrder(store!.url, [[5, 1]]);
    const paid = await g.check('POST', '/payments/orders', 200, { body: { order_id: order.order_id, amount: order.total } });
    await g.check('POST', '/pay/order', 200, { body: { order_id: order.order_id, amount: order.total } });
    await g.check('POST', '/payments/orders', 400, { body: { order_id: order.order_id } });
    await g.check('POST', '/payments/orders', 402, { body: { order_id: 'declined-1', amount: 1, card_number: '4000000000000002' } });
    await g.check('POST', '/pay/order', 413, { body: big });
    await g.check('GET', '/transactions', 200);
    await g.check('GET', `/payments?order_id=${order.order_id}`, 200);
    await g.check('GET', '/payments?order_id=%00', 400);
    const payment = `/payments/${paid.body.payment_id}`;
    await g.check('GET', payment, 200, { template: '/payments/{payment_id}' });
    await g.check('GET', '/payments/nope', 404, { template: '/payments/{payment_id}' });
    await g.check('GET', '/payments/%00', 400, { template: '/payments/{payment_id}' });
    await g.check('POST', `${payment}/refund`, 200, { template: '/payments/{payment_id}/refund' });
    await g.check('POST', `${payment}/refund`, 400, { template: '/payments/{payment_id}/refund' });
    await g.check('POST', '/payments/nope/refund', 404, { template: '/payments/{payment_id}/refund' });
  });
});

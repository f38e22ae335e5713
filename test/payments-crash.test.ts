import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, freePort, freshDatabaseUrl, startGateway, startStore, tempDir, type ServerProcess } from './helpers/processes.js';
import { openDatabase } from '../src/db/database.js';
import type { StoreSchema } from '../src/db/schema.js';
import { cartWith, cents, shutdown, sleep, stocksOf, waitFor } from './helpers/shop.js';

/**
 * Money and goods agree through crashes (issue 7): two store instances on one database (this
 * project's dialect) and the gateway, under 8 concurrent shoppers for a bounded time, while each
 * process in turn is killed with SIGKILL and restarted. Shoppers retry as real clients do
 * (checkout with an Idempotency-Key, payments repeated), and refund some payments. Afterwards,
 * through the APIs only: stock per product, the gateway's balance, and one kept payment per paid order.
 */
const SECRET = 'crash-test-webhook-secret-0123456789';
const PRODUCTS = [1, 2, 3, 4];
const CLIENTS = 8;
const LOAD_MS = 7000;
const ORDER_TTL_SECONDS = 3;

interface Placed {
  order_id: string;
  product_id: number;
  quantity: number;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** A request that may meet a dead process: undefined instead of a network error. */
const attempt = (method: string, url: string, body?: unknown, headers?: Record<string, string>) => call(method, url, body, headers).catch(() => undefined);

/** Repeats a request (same body, same key) until it gets a final answer (not a network error, 5xx or 409), or time is up. */
async function persist(send: () => ReturnType<typeof attempt>, until: number) {
  for (;;) {
    const res = await send();
    if (res && res.status < 500 && res.status !== 409) return res;
    if (Date.now() > until) return undefined;
    await sleep(100);
  }
}

describe('crashes under load', () => {
  const storeDatabaseUrl = freshDatabaseUrl();
  const gatewayDatabaseUrl = `sqlite:${join(tempDir('gateway-test-'), 'payments.db')}`;
  const storeEnv = { PAYMENTS_WEBHOOK_SECRET: SECRET, ORDER_TTL_SECONDS: String(ORDER_TTL_SECONDS), SWEEP_INTERVAL_MS: '200' };
  const gatewayEnv = { PAYMENTS_WEBHOOK_SECRET: SECRET, CALLBACK_TIMEOUT_MS: '1000', CALLBACK_BASE_DELAY_MS: '100', CALLBACK_MAX_ATTEMPTS: '40', CALLBACK_POLL_INTERVAL_MS: '50' };
  const ports = { a: 0, b: 0, gateway: 0 };
  const procs: { a?: ServerProcess; b?: ServerProcess; gateway?: ServerProcess } = {};

  const start = {
    a: () => startStore({ databaseUrl: storeDatabaseUrl, port: ports.a, env: storeEnv }),
    b: () => startStore({ databaseUrl: storeDatabaseUrl, port: ports.b, env: storeEnv }),
    gateway: () => startGateway({ storeUrl: `http://127.0.0.1:${ports.a}`, databaseUrl: gatewayDatabaseUrl, port: ports.gateway, env: gatewayEnv }),
  };
  const storeUrls = () => [ports.a, ports.b].map((port) => `http://127.0.0.1:${port}`);
  const gatewayUrl = () => `http://127.0.0.1:${ports.gateway}`;

  beforeAll(async () => {
    [ports.a, ports.b, ports.gateway] = [await freePort(), await freePort(), await freePort()];
    procs.a = await start.a();
    procs.b = await start.b();
    procs.gateway = await start.gateway();
  });
  afterAll(async () => {
    await shutdown(procs.gateway, procs.a, procs.b);
  });

  /** One shopper: cart, item, checkout (retried with its key), payment (repeated on failure), sometimes a refund. */
  async function shop(stopAt: number, placed: Placed[]): Promise<void> {
    while (Date.now() < stopAt) {
      const store = pick(storeUrls());
      const product_id = pick(PRODUCTS);
      const quantity = 1 + Math.floor(Math.random() * 2);
      const cart = await attempt('POST', `${store}/cart`);
      if (cart?.status !== 200) {
        await sleep(50);
        continue;
      }
      const added = await attempt('POST', `${store}/cart/${cart.body.cart_id}/items`, { product_id, quantity });
      if (added?.status !== 200) continue;
      const key = `checkout-${cart.body.cart_id}`;
      // Either store will do: they share the database, and the key makes the retry replay rather than redo.
      const checkout = await persist(() => attempt('POST', `${pick(storeUrls())}/cart/${cart.body.cart_id}/checkout`, undefined, { 'Idempotency-Key': key }), stopAt + 8000);
      if (checkout?.status !== 200) continue;
      placed.push({ order_id: checkout.body.order_id, product_id, quantity });
      const paid = await persist(() => attempt('POST', `${gatewayUrl()}/payments/orders`, { order_id: checkout.body.order_id, amount: checkout.body.total }), stopAt + 8000);
      if (paid?.status === 200 && Math.random() < 0.2) {
        await persist(() => attempt('POST', `${gatewayUrl()}/payments/${paid.body.payment_id}/refund`), stopAt + 8000);
      }
    }
  }

  /** Kills each process in turn with SIGKILL, and starts it again on its port and database. */
  async function crashEach(stopAt: number): Promise<void> {
    for (const name of ['a', 'b', 'gateway'] as const) {
      await sleep(Math.max(0, Math.min(2000, stopAt - Date.now() - 1000)));
      await procs[name]!.kill();
      await sleep(300);
      procs[name] = await start[name]();
    }
  }

  it(`kill -9 of each store instance and the gateway under ${CLIENTS} shoppers: stock, balance and payments agree`, async () => {
    expect((await call('POST', `${gatewayUrl()}/reset`)).status).toBe(200);
    const initial = await stocksOf(storeUrls()[0]!, PRODUCTS);
    const placed: Placed[] = [];
    const stopAt = Date.now() + LOAD_MS;
    await Promise.all([crashEach(stopAt), ...Array.from({ length: CLIENTS }, () => shop(stopAt, placed))]);
    expect(placed.length).toBeGreaterThan(CLIENTS);

    // Quiet: every known order settled (unpaid ones expire), every callback delivered.
    const store = storeUrls()[0]!;
    const orderView = async (id: string) => (await call('GET', `${store}/orders/${id}`)).body;
    const paymentsOf = async (id: string): Promise<any[]> => (await call('GET', `${gatewayUrl()}/payments?order_id=${id}`)).body.payments;
    const settled = await waitFor(
      async () => Promise.all(placed.map(async (p) => ({ ...p, order: await orderView(p.order_id), payments: await paymentsOf(p.order_id) }))),
      (all) => all.every((o) => o.order.status !== 'pending_payment' && o.payments.every((pay: any) => pay.callback.state !== 'pending')),
      20_000,
      250,
    );
    for (const o of settled) {
      expect(o.order.status, o.order_id).not.toBe('pending_payment');
      for (const pay of o.payments) expect(pay.callback.state, pay.payment_id).not.toBe('pending');
    }

    // Every paid order has exactly one kept payment, the one it was paid with; no other order has one.
    let keptCents = 0;
    for (const o of settled) {
      const kept = o.payments.filter((pay: any) => pay.status === 'succeeded');
      keptCents += kept.reduce((sum: number, pay: any) => sum + cents(pay.amount), 0);
      if (o.order.status === 'paid') expect(kept.map((pay: any) => pay.payment_id), JSON.stringify(o)).toEqual([o.order.payment_id]);
      else expect(kept, `${o.order_id} is ${o.order.status}`).toEqual([]);
      if (o.order.status === 'refunded') expect(o.payments.find((pay: any) => pay.payment_id === o.order.payment_id)?.status).toBe('refunded');
    }
    // Balance = start - kept payments: nothing kept for an order the store does not count as paid.
    const balance = (await call('GET', `${gatewayUrl()}/balance`)).body.balance as number;
    expect(cents(balance)).toBe(5_000_000 - keptCents);

    // Stock: what paid and refunded orders took (refunds are not restocked); everything else came back,
    // including orders whose checkout answer was lost in a crash (they expire).
    const sold = new Map(PRODUCTS.map((id) => [id, 0]));
    for (const o of settled) if (o.order.status === 'paid' || o.order.status === 'refunded') sold.set(o.product_id, sold.get(o.product_id)! + o.quantity);
    const expected = new Map(PRODUCTS.map((id) => [id, initial.get(id)! - sold.get(id)!]));
    const stock = await waitFor(() => stocksOf(store, PRODUCTS), (s) => PRODUCTS.every((id) => s.get(id) === expected.get(id)), (ORDER_TTL_SECONDS + 2) * 1000, 200);
    expect(stock).toEqual(expected);
  }, 90_000);

  it('an Idempotency-Key claim left unanswered by a dead process is taken over within seconds, and the work is done once', async () => {
    const store = storeUrls()[1]!;
    const cartId = await cartWith(store, [[2, 1]]);
    const key = `abandoned-${cartId}`;
    const path = `/cart/${cartId}/checkout`;
    // The claim a process killed before its transaction committed leaves behind: no answer, an owner that is gone.
    const database = openDatabase<StoreSchema>({ url: storeDatabaseUrl });
    try {
      await database.db
        .insertInto('idempotency_keys')
        .values({
          sandbox: 0, // the root shop
          scope: 'store',
          key,
          request_hash: createHash('sha256').update(`POST ${path}\nnull`).digest('hex'),
          status_code: null,
          response_body: null,
          created_at: Date.now() - 6000,
          owner: 'dead-process',
        })
        .execute();
    } finally {
      await database.close();
    }
    const first = await call('POST', `${store}${path}`, undefined, { 'Idempotency-Key': key });
    expect(first.status, first.text).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await call('POST', `${storeUrls()[0]}${path}`, undefined, { 'Idempotency-Key': key });
    expect([again.status, again.headers.get('idempotent-replayed'), again.body]).toEqual([200, 'true', first.body]);
  });
});

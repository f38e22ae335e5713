import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CompiledQuery, Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/database.js';
import type { StoreSchema } from '../src/db/schema.js';
import { webhookRepository } from '../src/webhooks/repository.js';
import { eventually, Receiver, type ReceivedCallback } from './gateway-receiver.js';
import { explainPlan, openRecordingStore } from './helpers/plans.js';
import { call, freePort, freshDatabaseUrl, startGateway, startStore, type ServerProcess } from './helpers/processes.js';
import { createSandbox } from './helpers/sandboxes.js';
import { cartWith, pendingOrder, shutdown, sleep } from './helpers/shop.js';

/**
 * Webhooks (spec/sandboxes.md section 3) through real servers and a real receiver: signed
 * deliveries a receiver verifies with its own HMAC, type filters, retries of a failing receiver,
 * a store restart in the middle of a delivery, redelivery, the host allow-list and redirects.
 */
// ROOT_EVENTS=changes: the root's timeline (off by default) feeds the test of webhooks on `default`.
const ENV = { WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_POLL_INTERVAL_MS: '50', ROOT_EVENTS: 'changes' };

/** The receiver's check, as the README shows it: HMAC-SHA256(secret, "<t>.<raw body>"), fresh t. */
function verify(secret: string, call: ReceivedCallback): boolean {
  const header = String(call.headers['x-store-signature'] ?? '');
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(`${match[1]}.${call.raw}`).digest('hex');
  return expected === match[2] && Math.abs(Date.now() / 1000 - Number(match[1])) < 300;
}

/** Polls until fn gives a value (see eventually), typed without its undefined. */
const until = async <T>(fn: () => Promise<T | undefined>): Promise<T> => (await eventually(fn))!;

describe('webhooks', () => {
  let store: ServerProcess;
  let gateway: ServerProcess;
  let databaseUrl: string;
  let storeEnv: Record<string, string>;
  const receiver = new Receiver();

  beforeAll(async () => {
    const gatewayPort = await freePort();
    databaseUrl = freshDatabaseUrl();
    storeEnv = { ...ENV, PAYMENTS_URL: `http://127.0.0.1:${gatewayPort}` };
    store = await startStore({ databaseUrl, env: storeEnv });
    gateway = await startGateway({ storeUrl: store.url, port: gatewayPort });
    await receiver.start();
  });
  afterAll(async () => {
    await receiver.stop();
    await shutdown(store, gateway);
  });

  const admin = (method: string, path: string, body?: unknown) => call(method, `${store.url}${path}`, body);
  const callsFor = (hook: string) => receiver.calls.filter((c) => c.path === `/${hook}`);
  const deliveries = async (box: string, hook: string) => {
    const res = await admin('GET', `/sandboxes/${box}/webhooks/${hook}/deliveries`);
    expect(res.status, res.text).toBe(200);
    return res.body as any[];
  };

  it('a receiver gets signed deliveries of the types it subscribed to; "*" gets every type', async () => {
    const box = await createSandbox(store.url);
    const some = await admin('POST', `/sandboxes/${box.sandbox_id}/webhooks`, { url: `${receiver.url}/some`, events: ['cart.created', 'cart.item_added'] });
    expect(some.status, some.text).toBe(201);
    expect(some.body).toMatchObject({ webhook_id: expect.stringMatching(/^wh_[0-9a-f]{24}$/), secret: expect.stringMatching(/^[0-9a-f]{64}$/), events: ['cart.created', 'cart.item_added'] });
    const secret = 'my-own-secret-of-16+-characters';
    const all = await admin('POST', `/sandboxes/${box.sandbox_id}/webhooks`, { url: `${receiver.url}/all`, events: ['*'], secret });
    expect(all.status, all.text).toBe(201);
    expect(all.body.secret).toBe(secret);

    const cartId = await cartWith(box.store_url, [[1, 1], [2, 1]]);
    const got = await until(async () => (callsFor('some').length >= 3 ? callsFor('some') : undefined));
    // Sent in event order, but a first attempt lost on a reused connection is retried after later events.
    const seqOf = (b: { event_id: string }) => Number(b.event_id.split('_').at(-1));
    const bodies = got.map((c) => c.body).sort((a, b) => seqOf(a) - seqOf(b));
    expect(bodies.map((b) => b.type)).toEqual(['cart.created', 'cart.item_added', 'cart.item_added']);
    for (const c of got) {
      expect(verify(some.body.secret, c), c.headers['x-store-signature'] as string).toBe(true);
      expect(verify(secret, c)).toBe(false);
      expect(Object.keys(c.body)).toEqual(['event_id', 'type', 'created_at', 'sandbox_id', 'data']);
      expect(c.body.sandbox_id).toBe(box.sandbox_id);
      expect(c.headers['x-store-event']).toBe(c.body.type);
      expect(new Date(c.body.created_at).toISOString()).toBe(c.body.created_at);
    }
    expect(bodies[0].data.cart_id).toBe(cartId);
    expect(new Set(bodies.map((b) => b.event_id)).size).toBe(3);

    // The catch-all webhook gets the same events with the same ids, signed with its own secret.
    // "*" also gets the sandbox's request events: wait for the three cart events among them.
    const has = (list: ReceivedCallback[]) => bodies.every((b) => list.some((c) => c.body.event_id === b.event_id));
    const everything = await until(async () => (has(callsFor('all')) ? callsFor('all') : undefined));
    for (const c of everything) expect(verify(secret, c)).toBe(true);
    const ids = new Set(everything.map((c) => c.body.event_id));
    for (const b of bodies) expect(ids.has(b.event_id)).toBe(true);

    // An attempt is recorded once the receiver has answered: the log can trail the receiver a little.
    const log = await until(async () => {
      const rows = await deliveries(box.sandbox_id, some.body.webhook_id);
      return rows.length >= 3 ? rows : undefined;
    });
    expect(log).toHaveLength(3);
    for (const row of log) expect(row).toMatchObject({ attempt: 1, http_status: 200, error: null, state: 'delivered' });
    expect(log.map((r) => r.event_id).reverse()).toEqual(bodies.map((b) => b.event_id));

    const listed = await admin('GET', `/sandboxes/${box.sandbox_id}/webhooks`);
    expect(listed.body.map((w: any) => w.webhook_id)).toEqual([some.body.webhook_id, all.body.webhook_id]);
    expect(listed.body[0].secret).toBeUndefined();
    expect((await admin('GET', `/sandboxes/${box.sandbox_id}/webhooks/${all.body.webhook_id}`)).body.secret).toBe(secret);
  });

  it("gateway events (callback.attempted) are delivered without anyone reading the timeline", async () => {
    const box = await createSandbox(store.url);
    const hook = await admin('POST', `/sandboxes/${box.sandbox_id}/webhooks`, { url: `${receiver.url}/gw`, events: ['payment.succeeded', 'callback.attempted'] });
    expect(hook.status, hook.text).toBe(201);
    const order = await pendingOrder(box.store_url, [[1, 1]]);
    const paid = await call('POST', `${box.payments_url}/payments/orders`, { order_id: order.order_id, amount: order.total });
    expect(paid.status, paid.text).toBe(200);
    const got = await until(async () => (callsFor('gw').length >= 2 ? callsFor('gw') : undefined));
    expect(got.map((c) => c.body.type)).toEqual(['payment.succeeded', 'callback.attempted']);
    expect(got[1]!.body.data).toMatchObject({ order_id: order.order_id, payment_id: paid.body.payment_id, status: 200 });
  });

  it('a failing receiver (500 twice, then 200) gets retries of the same body; redelivery sends it once more as a new attempt', async () => {
    const box = await createSandbox(store.url);
    const hook = (await admin('POST', `/sandboxes/${box.sandbox_id}/webhooks`, { url: `${receiver.url}/flaky`, events: ['cart.created'] })).body;
    receiver.plan = [500, 500];
    await call('POST', `${box.store_url}/cart`);
    const got = await until(async () => (callsFor('flaky').length >= 3 ? callsFor('flaky') : undefined));
    expect(new Set(got.map((c) => c.raw)).size).toBe(1);
    for (const c of got) expect(verify(hook.secret, c)).toBe(true);
    const log = await until(async () => {
      const rows = await deliveries(box.sandbox_id, hook.webhook_id);
      return rows.length === 3 && rows[0].state === 'delivered' ? rows : undefined;
    });
    expect(log.map((r) => [r.attempt, r.http_status])).toEqual([[3, 200], [2, 500], [1, 500]]);
    expect(new Set(log.map((r) => r.delivery_id)).size).toBe(1);

    const again = await admin('POST', `/sandboxes/${box.sandbox_id}/webhooks/${hook.webhook_id}/deliveries/${log[0].delivery_id}/redeliver`);
    expect(again.status, again.text).toBe(202);
    expect(again.body).toMatchObject({ delivery_id: log[0].delivery_id, event_id: log[0].event_id, state: 'pending', attempt: 4 });
    const after = await until(async () => {
      const rows = await deliveries(box.sandbox_id, hook.webhook_id);
      return rows.length === 4 ? rows : undefined;
    });
    expect(after[0]).toMatchObject({ delivery_id: log[0].delivery_id, attempt: 4, http_status: 200, state: 'delivered' });
    await until(async () => callsFor('flaky').length === 4);
    expect(callsFor('flaky')[3]!.raw).toBe(got[0]!.raw);
    expect((await admin('POST', `/sandboxes/${box.sandbox_id}/webhooks/${hook.webhook_id}/deliveries/dlv_nope/redeliver`)).status).toBe(404);
  });

  it('a redirect is not followed: the 3xx is a failed attempt', async () => {
    const target = new Receiver();
    await target.start();
    const redirector: Server = createServer((_req, res) => res.writeHead(307, { location: `${target.url}/moved` }).end());
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    try {
      const box = await createSandbox(store.url);
      const url = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/hook`;
      const hook = (await admin('POST', `/sandboxes/${box.sandbox_id}/webhooks`, { url, events: ['cart.created'] })).body;
      await call('POST', `${box.store_url}/cart`);
      const log = await until(async () => {
        const rows = await deliveries(box.sandbox_id, hook.webhook_id);
        return rows.length >= 2 ? rows : undefined;
      });
      for (const row of log) expect(row).toMatchObject({ http_status: 307, error: `redirect to ${target.url}/moved not followed` });
      // Retried (pending) until WEBHOOK_MAX_ATTEMPTS, then failed: never delivered.
      expect(['pending', 'failed']).toContain(log[0].state);
      expect(target.calls).toHaveLength(0);
      // Unsubscribing stops the retries.
      expect((await admin('DELETE', `/sandboxes/${box.sandbox_id}/webhooks/${hook.webhook_id}`)).status).toBe(204);
      expect((await admin('GET', `/sandboxes/${box.sandbox_id}/webhooks/${hook.webhook_id}`)).status).toBe(404);
      expect((await admin('GET', `/sandboxes/${box.sandbox_id}/webhooks`)).body).toEqual([]);
    } finally {
      redirector.closeAllConnections();
      await new Promise<void>((resolve) => redirector.close(() => resolve()));
      await target.stop();
    }
  });

  it('refuses what it must: a host outside WEBHOOK_ALLOWED_HOSTS, other schemes, unknown types, the 11th webhook', async () => {
    const box = await createSandbox(store.url);
    const path = `/sandboxes/${box.sandbox_id}/webhooks`;
    const foreign = await admin('POST', path, { url: 'http://example.com/hook', events: ['*'] });
    expect(foreign.status).toBe(422);
    expect(foreign.body.detail).toBe("Webhook host 'example.com' is not allowed: WEBHOOK_ALLOWED_HOSTS allows loopback (127.0.0.0/8, ::1, localhost)");
    expect((await admin('POST', path, { url: 'ftp://127.0.0.1/hook', events: ['*'] })).body.detail).toBe("url must use http or https, got 'ftp'");
    const unknown = await admin('POST', path, { url: `${receiver.url}/x`, events: ['order.shipped'] });
    expect(unknown.status).toBe(422);
    expect(unknown.body.detail[0].loc).toEqual(['body', 'events', 0]);
    expect((await admin('POST', path, { url: `${receiver.url}/x`, events: [] })).status).toBe(422);
    expect((await admin('POST', path, { url: `${receiver.url}/x`, events: ['*'], secret: 'short' })).status).toBe(422);
    expect((await admin('POST', '/sandboxes/nope/webhooks', { url: `${receiver.url}/x`, events: ['*'] })).status).toBe(404);
    for (let i = 0; i < 10; i++) expect((await admin('POST', path, { url: `http://localhost:9/${i}`, events: ['cart.created'] })).status).toBe(201);
    const full = await admin('POST', path, { url: `http://[::1]:9/x`, events: ['*'] });
    expect(full.status).toBe(409);
    expect(full.body.detail).toBe('Webhook limit reached (MAX_WEBHOOKS=10): delete one first');

    // Reset keeps the subscriptions; deleting the sandbox deletes them with their deliveries and attempts.
    expect((await admin('POST', `/sandboxes/${box.sandbox_id}/reset`)).status).toBe(200);
    const hooks = (await admin('GET', path)).body as any[];
    expect(hooks).toHaveLength(10);
    await call('POST', `${box.store_url}/cart`);
    await until(async () => ((await deliveries(box.sandbox_id, hooks[0].webhook_id)).length > 0 ? true : undefined));
    expect((await admin('DELETE', `/sandboxes/${box.sandbox_id}`)).status).toBe(204);
    expect((await admin('GET', path)).status).toBe(404);
    const database = openDatabase<StoreSchema>({ url: databaseUrl });
    try {
      for (const table of ['webhooks', 'webhook_deliveries', 'webhook_attempts'] as const) {
        const left = await database.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('sandbox', 'not in', (eb) => eb.selectFrom('sandboxes').select('sandbox')).executeTakeFirstOrThrow();
        expect(Number(left.n), table).toBe(0);
      }
    } finally {
      await database.close();
    }
  });

  it('works on default, the root shop', async () => {
    const hook = await admin('POST', '/sandboxes/default/webhooks', { url: `${receiver.url}/root`, events: ['cart.created'] });
    expect(hook.status, hook.text).toBe(201);
    const cart = await call('POST', `${store.url}/cart`);
    const got = await until(async () => callsFor('root').find((c) => c.body.data.cart_id === cart.body.cart_id));
    expect(got.body.sandbox_id).toBe('default');
    expect(verify(hook.body.secret, got)).toBe(true);
    expect((await admin('DELETE', `/sandboxes/default/webhooks/${hook.body.webhook_id}`)).status).toBe(204);
  });

  it('two store processes on one database: each event is delivered once, by one of them', async () => {
    const second = await startStore({ databaseUrl, env: storeEnv });
    try {
      const box = await createSandbox(store.url);
      const hook = (await admin('POST', `/sandboxes/${box.sandbox_id}/webhooks`, { url: `${receiver.url}/twice`, events: ['cart.created'] })).body;
      const carts = [];
      for (let i = 0; i < 10; i++) carts.push((await call('POST', `${[store, second][i % 2]!.url}/sandboxes/${box.sandbox_id}/cart`)).body.cart_id);
      await until(async () => callsFor('twice').length >= 10);
      // Both workers poll every 50 ms: a delivery created or attempted twice would show by now.
      await sleep(500);
      expect(callsFor('twice').map((c) => c.body.data.cart_id).sort()).toEqual([...carts].sort());
      const log = await until(async () => {
        const rows = await deliveries(box.sandbox_id, hook.webhook_id);
        return rows.length >= 10 ? rows : undefined;
      });
      expect(log.map((r) => r.attempt)).toEqual(Array(10).fill(1));
    } finally {
      await shutdown(second);
    }
  });

  it('a delivery pending when the store stops goes out after it restarts', async () => {
    const down = new Receiver(await freePort());
    const box = await createSandbox(store.url);
    const hook = (await admin('POST', `/sandboxes/${box.sandbox_id}/webhooks`, { url: `${down.url}/late`, events: ['cart.created'] })).body;
    await call('POST', `${box.store_url}/cart`);
    // The receiver is not listening: the first attempt fails, a retry is due.
    const failed = await until(async () => {
      const rows = await deliveries(box.sandbox_id, hook.webhook_id);
      return rows.length >= 1 ? rows : undefined;
    });
    expect(failed[0]).toMatchObject({ http_status: null, state: 'pending' });
    expect(failed[0].error).toMatch(/ECONNREFUSED/);
    await store.stop();
    await down.start();
    try {
      store = await startStore({ databaseUrl, port: store.port, env: storeEnv });
      const got = await until(async () => down.calls[0]);
      expect(got.body.type).toBe('cart.created');
      expect(verify(hook.secret, got)).toBe(true);
      const log = await until(async () => {
        const rows = await deliveries(box.sandbox_id, hook.webhook_id);
        return rows[0]?.state === 'delivered' ? rows : undefined;
      });
      expect(log[0].http_status).toBe(200);
      expect(log[0].attempt).toBe(log.length);
    } finally {
      await down.stop();
    }
  });
});

/**
 * The worker's polls run in every store process every WEBHOOK_POLL_INTERVAL_MS, subscriptions or
 * not: the due-delivery scan and the per-subscription event read go through an index, never a
 * scan of the deliveries or events tables (PostgreSQL asked with enable_seqscan off, as in
 * query-plans.test.ts).
 */
describe('webhook worker query plans', () => {
  let database: Database<StoreSchema>;
  let issued: CompiledQuery[] = [];

  beforeAll(async () => {
    ({ database, issued } = await openRecordingStore());
  });
  afterAll(async () => {
    await database?.close();
  });

  const plan = (query: CompiledQuery) => explainPlan(database, query);

  it.each([
    ['due deliveries', (db: Kysely<StoreSchema>) => webhookRepository.due(db, Date.now(), 20), 'webhook_deliveries|d'],
    ['new events of a subscription', (db: Kysely<StoreSchema>) => webhookRepository.eventsBetween(db, 0, 10, 20, 200), 'events'],
  ] as const)('%s are read through an index', async (_name, run, table) => {
    issued.length = 0;
    await run(database.db);
    expect(issued).toHaveLength(1);
    const text = await plan(issued[0]!);
    const scan = new RegExp(`^SCAN (${table})$|Seq Scan on (${table.split('|')[0]})`, 'm');
    expect(scan.test(text), `${issued[0]!.sql}\n${text}`).toBe(false);
  });
});

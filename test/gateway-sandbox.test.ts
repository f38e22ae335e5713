import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { Receiver, eventually } from './gateway-receiver.js';
import { call, freshDatabaseUrl, startGateway, type ServerProcess } from './helpers/processes.js';

/**
 * The gateway's half of sandboxes (issue 9): every shop path under /sandboxes/{id} against the
 * sandbox's own account, payments and callbacks; the management endpoints the store calls
 * (create, fork, snapshot, restore, reset, clock, delete); seeded ids. Real gateway processes on
 * SQLite and, when it is reachable, PostgreSQL; a recording receiver plays the store.
 */
const ADMIN_KEY = 'sandbox-admin-key-0123456789';
const FAST = { CALLBACK_BASE_DELAY_MS: '50', CALLBACK_POLL_INTERVAL_MS: '20' };
const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const frozen = (at: number) => ({ frozen_at: at, offset_ms: 0 });

const dialects = ['sqlite', ...(inject('postgresAvailable') ? ['postgres' as const] : [])] as const;

/** A gateway with its receiver, and shortcuts for its shop and admin paths. */
function useGateway(dialect: 'sqlite' | 'postgres') {
  const receiver = new Receiver();
  let gateway: ServerProcess;
  beforeAll(async () => {
    await receiver.start();
    const databaseUrl = dialect === 'postgres' ? freshDatabaseUrl('postgres') : undefined;
    gateway = await startGateway({ storeUrl: receiver.url, ...(databaseUrl ? { databaseUrl } : {}), env: { ...FAST, ADMIN_API_KEY: ADMIN_KEY } });
  });
  afterAll(async () => {
    await gateway?.stop();
    await receiver.stop();
  });
  beforeEach(() => {
    receiver.calls.length = 0;
    receiver.plan = [];
    receiver.fallback = 200;
  });
  const auth = { authorization: `Bearer ${ADMIN_KEY}` };
  const shop = (sandbox: string | undefined) => {
    const base = () => (sandbox === undefined ? gateway.url : `${gateway.url}/sandboxes/${sandbox}`);
    return {
      get: (path: string) => call('GET', base() + path),
      post: (path: string, body?: unknown) => call('POST', base() + path, body),
      /** The sandbox's whole visible state, as text: balance, movements, payments with their callbacks. */
      state: async () => Promise.all(['/balance', '/transactions', '/payments'].map(async (p) => (await call('GET', base() + p)).text)),
      /** Waits until no callback of the sandbox is due at `now` (its frozen time): nothing moves until the clock does. */
      quiet: (now: number) =>
        eventually(async () => {
          const { payments } = (await call('GET', `${base()}/payments`)).body;
          return payments.every((p: any) => p.callback.state !== 'pending' || Date.parse(p.callback.next_attempt_at) > now);
        }),
    };
  };
  return {
    receiver,
    url: () => gateway.url,
    shop,
    admin: (method: string, path: string, body?: unknown, headers: Record<string, string> = auth) => call(method, `${gateway.url}/admin/sandboxes${path}`, body, headers),
  };
}

let counter = 0;
/** A sandbox id unused in this run (ids must be unique per gateway, and tests share one). */
const newId = (label: string) => `${label}-${process.pid}-${++counter}`;

describe.each(dialects)('sandboxes on %s', (dialect) => {
  const g = useGateway(dialect);
  const create = async (sandboxId: string, extra: Record<string, unknown> = {}) => {
    const res = await g.admin('POST', '', { sandbox_id: sandboxId, seed: null, clock: { frozen_at: null, offset_ms: 0 }, ...extra });
    expect(res.status, res.text).toBe(201);
    return res.body;
  };

  it('two sandboxes side by side: payments, balances and movements are invisible to each other and to the root', async () => {
    const [a, b] = [newId('a'), newId('b')];
    expect(await create(a)).toEqual({ sandbox_id: a, balance: 50000 });
    await create(b);
    const rootBefore = await g.shop(undefined).state();

    const paid = await g.shop(a).post('/payments/orders', { order_id: 'order-1', amount: 100 });
    expect(paid.status).toBe(200);
    expect(paid.body.balance).toBe(49900);
    expect((await g.shop(a).post('/pay', { amount: 0.5, recipient: 'Alice' })).body.balance).toBe(49899.5);
    // The same order id in b is another order: paid anew from b's own account.
    const inB = await g.shop(b).post('/payments/orders', { order_id: 'order-1', amount: 30 });
    expect(inB.status).toBe(200);
    expect(inB.body.balance).toBe(49970);

    expect((await g.shop(a).get('/balance')).body).toEqual({ status: 'success', account_id: 'ACC-001', holder: 'John Doe', balance: 49899.5 });
    expect((await g.shop(b).get('/balance')).body.balance).toBe(49970);
    expect((await g.shop(a).get('/transactions')).body.transactions.map((t: any) => t.amount)).toEqual([100, 0.5]);
    expect((await g.shop(b).get('/transactions')).body.transactions.map((t: any) => t.amount)).toEqual([30]);
    expect((await g.shop(b).get(`/payments/${paid.body.payment_id}`)).status).toBe(404);
    expect((await g.shop(a).get('/payments')).body.payments.map((p: any) => p.payment_id)).toEqual([paid.body.payment_id]);
    expect(await g.shop(undefined).state()).toEqual(rootBefore);
    expect((await g.admin('GET', `/${a}`)).body).toEqual({ sandbox_id: a, balance: 49899.5, payments: 1 });

    // A shop reset of one sandbox leaves the other alone.
    expect((await g.shop(a).post('/reset')).body.balance).toBe(50000);
    expect((await g.shop(b).get('/balance')).body.balance).toBe(49970);
  });

  it("callbacks of a sandbox go to that sandbox's store path; the root's to the root path", async () => {
    const id = newId('cb');
    await create(id);
    const inSandbox = await g.shop(id).post('/payments/orders', { order_id: 'cb-order', amount: 12 });
    expect(inSandbox.body.shop_notified).toBe(true);
    const atRoot = await g.shop(undefined).post('/payments/orders', { order_id: `root-${id}`, amount: 1 });
    expect(atRoot.body.shop_notified).toBe(true);
    expect(g.receiver.calls.map((c) => [c.path, c.body.payment_id])).toEqual([
      [`/sandboxes/${id}/payments/confirm`, inSandbox.body.payment_id],
      ['/payments/confirm', atRoot.body.payment_id],
    ]);
    // A refund's news goes to the same path.
    expect((await g.shop(id).post(`/payments/${inSandbox.body.payment_id}/refund`)).status).toBe(200);
    await eventually(async () => g.receiver.calls.some((c) => c.body.status === 'refunded'));
    expect(g.receiver.calls.find((c) => c.body.status === 'refunded')!.path).toBe(`/sandboxes/${id}/payments/confirm`);
  });

  it('a snapshot restores exactly; two forks of it start equal and diverge independently; reset returns to the creation state', async () => {
    const id = newId('snap');
    await create(id, { clock: frozen(T0) });
    const s = g.shop(id);
    g.receiver.plan = [500]; // one pending retry in the saved state
    const first = await s.post('/payments/orders', { order_id: 'o1', amount: 10 });
    const second = await s.post('/payments/orders', { order_id: 'o2', amount: 20.25 });
    await s.post('/payments/orders', { order_id: 'o3', amount: 5, card_number: '4000000000000002' });
    await s.post(`/payments/${second.body.payment_id}/refund`);
    await s.post('/pay', { amount: 1.99, recipient: 'Bob' });
    await s.quiet(T0); // the refund's news delivered; o1's retry waits for the clock
    const saved = await s.state();
    expect(JSON.parse(saved[2]!).payments).toHaveLength(3);

    expect((await g.admin('PUT', `/${id}/snapshots/before.change_1`)).status).toBe(201);
    await s.post('/payments/orders', { order_id: 'o4', amount: 300 });
    await s.post(`/payments/${first.body.payment_id}/refund`);
    await s.quiet(T0);
    expect(await s.state()).not.toEqual(saved);

    const restored = await g.admin('POST', `/${id}/snapshots/before.change_1/restore`, { clock: frozen(T0) });
    expect(restored.status).toBe(200);
    expect(restored.body).toEqual({ sandbox_id: id, balance: JSON.parse(saved[0]!).balance });
    expect(await s.state()).toEqual(saved);

    const [f1, f2] = [newId('fork'), newId('fork')];
    await create(f1, { clock: frozen(T0), from: { sandbox_id: id, snapshot: 'before.change_1' } });
    await create(f2, { clock: frozen(T0), from: { sandbox_id: id, snapshot: 'before.change_1' } });
    expect(await g.shop(f1).state()).toEqual(saved);
    expect(await g.shop(f2).state()).toEqual(saved);
    await g.shop(f1).post('/payments/orders', { order_id: 'only-in-f1', amount: 7 });
    await g.shop(f2).post(`/payments/${first.body.payment_id}/refund`);
    await g.shop(f2).quiet(T0);
    expect((await g.shop(f1).get('/payments?order_id=only-in-f1')).body.payments).toHaveLength(1);
    expect((await g.shop(f2).get('/payments?order_id=only-in-f1')).body.payments).toHaveLength(0);
    expect((await g.shop(f1).get(`/payments/${first.body.payment_id}`)).body.payment.status).toBe('succeeded');
    expect((await g.shop(f2).get(`/payments/${first.body.payment_id}`)).body.payment.status).toBe('refunded');
    expect(await s.state()).toEqual(saved);

    // Reset: a fork returns to what it was created from, a fresh sandbox to a fresh account.
    expect((await g.admin('POST', `/${f1}/reset`, { clock: frozen(T0) })).status).toBe(200);
    expect(await g.shop(f1).state()).toEqual(saved);
    const reset = await g.admin('POST', `/${id}/reset`, { clock: frozen(T0) });
    expect(reset.body).toEqual({ sandbox_id: id, balance: 50000 });
    expect((await s.get('/transactions')).body.transactions).toEqual([]);
    expect((await s.get('/payments')).body.payments).toEqual([]);
    // Snapshots outlive a reset and can be deleted (twice: the second is a no-op).
    expect((await g.admin('DELETE', `/${id}/snapshots/before.change_1`)).status).toBe(204);
    expect((await g.admin('DELETE', `/${id}/snapshots/before.change_1`)).status).toBe(204);
    expect((await g.admin('POST', `/${id}/snapshots/before.change_1/restore`, { clock: frozen(T0) })).body).toEqual({ status: 'failed', message: 'Snapshot not found' });
  });

  it("the sandbox clock stamps the answers and schedules retries: a retry waits for the clock, then goes out at once", async () => {
    const id = newId('clock');
    await create(id, { clock: frozen(T0) });
    g.receiver.plan = [500];
    const paid = await g.shop(id).post('/payments/orders', { order_id: 'late', amount: 10 });
    expect(paid.body.shop_notified).toBe(false);
    expect(paid.body.transaction.created_at).toBe('2030-01-01T00:00:00.000Z');
    const pending = (await g.shop(id).get(`/payments/${paid.body.payment_id}`)).body.payment;
    expect(pending.created_at).toBe('2030-01-01T00:00:00.000Z');
    expect(pending.callback.attempts.map((a: any) => a.at)).toEqual(['2030-01-01T00:00:00.000Z']);
    // Attempt 1 failed: the retry is due 25..75 ms later on the sandbox's clock, which stands still.
    const due = Date.parse(pending.callback.next_attempt_at);
    expect(due - T0).toBeGreaterThanOrEqual(25);
    expect(due - T0).toBeLessThanOrEqual(75);
    await new Promise((r) => setTimeout(r, 400)); // 20 polls of the worker
    expect((await g.shop(id).get(`/payments/${paid.body.payment_id}`)).body.payment.callback.state).toBe('pending');
    expect(g.receiver.calls).toHaveLength(1);

    const moved = await g.admin('PUT', `/${id}/clock`, { clock: frozen(T0 + 60_000) });
    expect(moved.body).toEqual({ sandbox_id: id, now: '2030-01-01T00:01:00.000Z' });
    const delivered = await eventually(async () => {
      const payment = (await g.shop(id).get(`/payments/${paid.body.payment_id}`)).body.payment;
      return payment.callback.state === 'delivered' && payment;
    });
    expect(delivered.callback.attempts.map((a: any) => [a.attempt, a.at, a.http_status])).toEqual([
      [1, '2030-01-01T00:00:00.000Z', 500],
      [2, '2030-01-01T00:01:00.000Z', 200],
    ]);
    // An offset clock follows real time from a moved start.
    const offset = await g.admin('PUT', `/${id}/clock`, { clock: { frozen_at: null, offset_ms: 86_400_000 } });
    expect(Date.parse(offset.body.now) - Date.now()).toBeGreaterThan(86_000_000);
  });

  it('a callback attempt in flight during a restore is not recorded in the restored state', async () => {
    const id = newId('inflight');
    await create(id, { clock: frozen(T0) });
    g.receiver.plan = [500];
    const paid = await g.shop(id).post('/payments/orders', { order_id: 'retried', amount: 10 });
    expect((await g.admin('PUT', `/${id}/snapshots/pending`)).status).toBe(201);
    const saved = await g.shop(id).state();

    // The clock moves, the retry goes out and the store takes its time answering; meanwhile the sandbox is restored.
    g.receiver.plan = [{ delayMs: 1000, then: 200 }];
    await g.admin('PUT', `/${id}/clock`, { clock: frozen(T0 + 60_000) });
    await eventually(async () => g.receiver.calls.length === 2);
    expect((await g.admin('POST', `/${id}/snapshots/pending/restore`, { clock: frozen(T0) })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500)); // the store has answered and the worker is done with the attempt
    expect(g.receiver.calls[1]!.body.payment_id).toBe(paid.body.payment_id);
    expect(await g.shop(id).state()).toEqual(saved);
  });

  it('seeded sandboxes with the same seed and clock give the same script identical ids and answers; a fork continues the counter', async () => {
    const script = async (sandbox: string) => {
      const s = g.shop(sandbox);
      const answers = [
        await s.post('/payments/orders', { order_id: 'x1', amount: 10 }),
        await s.post('/payments/orders', { order_id: 'x2', amount: 20, card_number: '4000000000000002' }),
        await s.post('/pay', { amount: 3, recipient: 'Carol' }),
      ];
      return [...answers.map((a) => a.text), ...(await s.state())];
    };
    const [s1, s2] = [newId('seed'), newId('seed')];
    await create(s1, { seed: 42, clock: frozen(T0) });
    await create(s2, { seed: 42, clock: frozen(T0) });
    const one = await script(s1);
    expect(await script(s2)).toEqual(one);
    const expectedId = (n: number) => `pay_${createHmac('sha256', '42').update(`payment:${n}`).digest('hex').slice(0, 24)}`;
    expect(JSON.parse(one[0]!).payment_id).toBe(expectedId(1));
    expect(JSON.parse(one[1]!).payment_id).toBe(expectedId(2));

    // The counter is part of a snapshot: a fork with the same seed derives the same next id.
    expect((await g.admin('PUT', `/${s1}/snapshots/after-script`)).status).toBe(201);
    const fork = newId('seed-fork');
    await create(fork, { seed: 42, clock: frozen(T0), from: { sandbox_id: s1, snapshot: 'after-script' } });
    const next = await g.shop(s1).post('/payments/orders', { order_id: 'x3', amount: 1 });
    expect(next.body.payment_id).toBe(expectedId(3));
    expect((await g.shop(fork).post('/payments/orders', { order_id: 'x3', amount: 1 })).text).toBe(next.text);
    // Another seed, other ids.
    const other = newId('seed');
    await create(other, { seed: 7, clock: frozen(T0) });
    expect((await g.shop(other).post('/payments/orders', { order_id: 'x1', amount: 10 })).body.payment_id).not.toBe(expectedId(1));
  });

  it('a deleted sandbox is gone with its snapshots; the shop paths of an unknown sandbox answer 404', async () => {
    const id = newId('gone');
    await create(id);
    await g.shop(id).post('/payments/orders', { order_id: 'g1', amount: 5 });
    expect((await g.admin('PUT', `/${id}/snapshots/s1`)).status).toBe(201);
    expect((await g.admin('DELETE', `/${id}`)).status).toBe(204);
    for (const [method, path] of [['GET', '/balance'], ['POST', '/payments/orders'], ['GET', '/payments'], ['POST', '/reset']] as const) {
      const res = await call(method, `${g.url()}/sandboxes/${id}${path}`, method === 'POST' ? { order_id: 'g2', amount: 1 } : undefined);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ status: 'failed', message: 'Sandbox not found' });
    }
    expect((await g.admin('GET', `/${id}`)).status).toBe(404);
    expect((await g.admin('POST', '', { sandbox_id: newId('x'), seed: null, clock: frozen(T0), from: { sandbox_id: id, snapshot: 's1' } })).body.message).toBe('Snapshot not found');
    // The id can be used again, for a new sandbox with a fresh account.
    expect(await create(id)).toEqual({ sandbox_id: id, balance: 50000 });
  });
});

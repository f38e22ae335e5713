import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Receiver, eventually } from './gateway-receiver.js';
import { call, freePort, startGateway, tempDir, type ServerProcess } from './helpers/processes.js';

/**
 * Reliable store callbacks: retries with backoff, a store that is down, a gateway restart with a
 * delivery pending, give-up, refunds decided in the background, unsigned callbacks; each against
 * a real gateway process with fast retries and a recording receiver in place of the store.
 */
const FAST = { CALLBACK_BASE_DELAY_MS: '50', CALLBACK_POLL_INTERVAL_MS: '20' };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiverOn(port = 0): Promise<Receiver> {
  const receiver = await new Receiver(port).start();
  cleanups.push(() => receiver.stop());
  return receiver;
}

const payOrder = (gateway: ServerProcess, body: Record<string, unknown>) => call('POST', `${gateway.url}/payments/orders`, body);
const paymentOf = async (gateway: ServerProcess, paymentId: string) => (await call('GET', `${gateway.url}/payments/${paymentId}`)).body.payment;
const callbackSettled = (gateway: ServerProcess, paymentId: string) => async () => {
  const payment = await paymentOf(gateway, paymentId);
  return payment.callback.state === 'pending' ? undefined : payment;
};
const callsFor = (receiver: Receiver, orderId: string) => receiver.calls.filter((c) => c.body?.order_id === orderId);

describe('callback delivery', () => {
  // One gateway for these tests (unsigned, retries after ~100 ms, ~200 ms, ..., 5 attempts at most,
  // 1 s timeout: generous for a loaded machine, short next to the slow store's 3 s); its receiver is stopped and started again on the same port to play a store that is down.
  const receiver = new Receiver();
  let gateway: ServerProcess;

  beforeAll(async () => {
    await receiver.start();
    gateway = await startGateway({
      storeUrl: receiver.url,
      env: { ...FAST, CALLBACK_BASE_DELAY_MS: '100', CALLBACK_MAX_ATTEMPTS: '5', CALLBACK_TIMEOUT_MS: '1000' },
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    await receiver.stop();
  });
  beforeEach(async () => {
    await receiver.start(); // up again if a test stopped it
    expect((await call('POST', `${gateway.url}/reset`)).status).toBe(200);
    receiver.calls.length = 0;
    receiver.plan = [];
    receiver.fallback = 200;
  });

  it('without PAYMENTS_WEBHOOK_SECRET callbacks carry no signature header', async () => {
    const res = await payOrder(gateway, { order_id: 'unsigned', amount: 10 });
    expect(res.body.shop_notified).toBe(true);
    expect(receiver.calls).toHaveLength(1);
    expect(receiver.calls[0]!.headers['x-payment-signature']).toBeUndefined();
    expect(receiver.calls[0]!.raw).toBe(`{"order_id":"unsigned","status":"success","amount":10,"payment_id":"${res.body.payment_id}"}`);
    expect((await paymentOf(gateway, res.body.payment_id)).callback.attempts[0].signed).toBe(false);
  });

  it('retries a store answering 500 twice, then 200: delivered after 3 attempts', async () => {
    receiver.plan = [500, 500];
    const res = await payOrder(gateway, { order_id: 'flaky-store', amount: 179.98 });
    expect(res.status).toBe(200);
    expect(res.body.shop_notified).toBe(false);
    expect(res.body.balance).toBe(49820.02);

    const payment = await eventually(callbackSettled(gateway, res.body.payment_id));
    expect(payment.status).toBe('succeeded');
    expect(payment.callback.state).toBe('delivered');
    expect(payment.callback.next_attempt_at).toBeNull();
    expect(payment.callback.attempts.map((a: any) => [a.attempt, a.http_status])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    expect(payment.callback.attempts[0].error).toBe('HTTP 500: Store answered 500');
    expect(payment.callback.attempts[2].error).toBeNull();
    // The same body every time; backoff spaces the attempts out.
    const calls = callsFor(receiver, 'flaky-store');
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.raw)).size).toBe(1);
    expect(calls[2]!.at - calls[1]!.at).toBeGreaterThanOrEqual(90);
    // A later repeat of the payment still debits nothing and replays the first answer.
    const again = await payOrder(gateway, { order_id: 'flaky-store', amount: 179.98 });
    expect(again.text).toBe(res.text);
    expect((await call('GET', `${gateway.url}/balance`)).body.balance).toBe(49820.02);
  });

  it('delivers once the store comes up when it was down at payment time', async () => {
    await receiver.stop();
    const res = await payOrder(gateway, { order_id: 'store-down', amount: 10 });
    expect(res.status).toBe(200);
    expect(res.body.shop_notified).toBe(false);
    const first = await paymentOf(gateway, res.body.payment_id);
    expect(first.callback.state).toBe('pending');
    expect(first.callback.attempts[0]).toMatchObject({ attempt: 1, http_status: null });
    expect(first.callback.attempts[0].error).toContain('ECONNREFUSED');

    await receiver.start();
    const payment = await eventually(callbackSettled(gateway, res.body.payment_id));
    expect(payment.callback.state).toBe('delivered');
    expect(payment.callback.attempts.at(-1)).toMatchObject({ http_status: 200, error: null });
    expect(receiver.calls.map((c) => c.body)).toEqual([{ order_id: 'store-down', status: 'success', amount: 10, payment_id: res.body.payment_id }]);
  });

  it('a store slower than CALLBACK_TIMEOUT_MS counts as a failed attempt and is retried', async () => {
    receiver.plan = [{ delayMs: 3000, then: 200 }];
    const res = await payOrder(gateway, { order_id: 'slow-store', amount: 10 });
    expect(res.body.shop_notified).toBe(false);
    const payment = await eventually(callbackSettled(gateway, res.body.payment_id));
    expect(payment.callback.state).toBe('delivered');
    expect(payment.callback.attempts[0]).toMatchObject({ attempt: 1, http_status: null, error: 'timed out after 1000 ms' });
    expect(payment.callback.attempts[1]).toMatchObject({ attempt: 2, http_status: 200 });
  });

  it('a success that never gets through (CALLBACK_MAX_ATTEMPTS, 5 here) is refunded, and the refund is delivered in turn', async () => {
    receiver.fallback = 503;
    const res = await payOrder(gateway, { order_id: 'never', amount: 10 });
    // The success is given up, the money goes back, and the job now carries the refund (5 attempts more).
    const payment = await eventually(callbackSettled(gateway, res.body.payment_id));
    expect(payment).toMatchObject({ status: 'refunded', reason: 'callback_undelivered', callback: { event: 'refunded', state: 'failed' } });
    expect(payment.callback.attempts.map((a: any) => [a.event, a.attempt, a.http_status])).toEqual([
      ...[1, 2, 3, 4, 5].map((n) => ['success', n, 503]),
      ...[1, 2, 3, 4, 5].map((n) => ['refunded', n, 503]),
    ]);
    expect((await call('GET', `${gateway.url}/balance`)).body.balance).toBe(50000);
    expect(callsFor(receiver, 'never').map((c) => c.body.status)).toEqual([...Array(5).fill('success'), ...Array(5).fill('refunded')]);
    const lines = gateway.output().split('\n').filter((l) => l.includes('giving up') && l.includes(res.body.payment_id));
    expect(lines.map((l) => JSON.parse(l))).toMatchObject([
      { level: 50, payment_id: res.body.payment_id, event: 'success', attempt: 5 },
      { level: 50, payment_id: res.body.payment_id, event: 'refunded', attempt: 5 },
    ]);
  });

  it('a success the store took, but whose answer was lost, is refunded after the last attempt and the store is told', async () => {
    receiver.plan = [503, 503, 503, 503, 503];
    const res = await payOrder(gateway, { order_id: 'lost-answers', amount: 10 });
    const payment = await eventually(callbackSettled(gateway, res.body.payment_id));
    expect(payment).toMatchObject({ status: 'refunded', reason: 'callback_undelivered', callback: { event: 'refunded', state: 'delivered' } });
    expect(payment.callback.attempts.at(-1)).toMatchObject({ event: 'refunded', attempt: 1, http_status: 200 });
    expect(callsFor(receiver, 'lost-answers').at(-1)!.body).toEqual({
      order_id: 'lost-answers',
      status: 'refunded',
      amount: 10,
      payment_id: res.body.payment_id,
      reason: 'callback_undelivered',
    });
  });

  it('a 4xx on a retried success callback refunds the payment in the background', async () => {
    receiver.plan = [502, { status: 400, detail: 'Amount 10 does not match order total 12' }];
    const res = await payOrder(gateway, { order_id: 'mismatch', amount: 10 });
    expect(res.status).toBe(200);
    const payment = await eventually(callbackSettled(gateway, res.body.payment_id));
    expect(payment).toMatchObject({ status: 'refunded', reason: 'store_rejected', callback: { state: 'refused' } });
    expect(payment.callback.attempts.map((a: any) => [a.http_status, a.error])).toEqual([
      [502, 'HTTP 502: Store answered 502'],
      [400, 'Amount 10 does not match order total 12'],
    ]);
    expect((await call('GET', `${gateway.url}/balance`)).body.balance).toBe(50000);
    const transactions = (await call('GET', `${gateway.url}/transactions`)).body.transactions;
    expect(transactions.map((t: any) => [t.type, t.amount, t.balance_after])).toEqual([
      ['payment', 10, 49990],
      ['refund', 10, 50000],
    ]);
    expect(callsFor(receiver, 'mismatch')).toHaveLength(2);
  });
});

describe('restart', () => {
  it('a pending delivery survives a gateway restart and goes out after it', async () => {
    const port = await freePort();
    const databaseUrl = `sqlite:${join(tempDir('gateway-test-'), 'payments.db')}`;
    // The first gateway would retry after 0.5-1.5 s: it is stopped before that.
    const first = await startGateway({ storeUrl: `http://127.0.0.1:${port}`, databaseUrl, env: { CALLBACK_BASE_DELAY_MS: '1000' } });
    cleanups.push(() => first.stop());
    const res = await payOrder(first, { order_id: 'restart', amount: 25 });
    expect(res.body.shop_notified).toBe(false);
    await first.stop();
    expect(first.child.exitCode).toBe(0);

    const receiver = await receiverOn(port);
    const second = await startGateway({ storeUrl: `http://127.0.0.1:${port}`, databaseUrl, env: FAST });
    cleanups.push(() => second.stop());
    const payment = await eventually(callbackSettled(second, res.body.payment_id));
    expect(payment.callback.state).toBe('delivered');
    expect(payment.callback.attempts.map((a: any) => [a.attempt, a.http_status])).toEqual([
      [1, null],
      [2, 200],
    ]);
    expect(receiver.calls.map((c) => c.body.payment_id)).toEqual([res.body.payment_id]);
    // The rest survived too: balance, movement, the stored answer.
    expect((await call('GET', `${second.url}/balance`)).body.balance).toBe(49975);
    expect((await payOrder(second, { order_id: 'restart', amount: 25 })).text).toBe(res.text);
  });
});

describe('process', () => {
  it('a wrong setting stops start-up with a message naming the variable', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/gateway/main.ts'], {
      cwd: new URL('..', import.meta.url).pathname,
      env: { ...process.env, PAYMENTS_PORT: 'abc' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe("Configuration error: PAYMENTS_PORT must be a whole number, got 'abc'");
  });
});

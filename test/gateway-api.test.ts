import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifySignature } from '../src/payments/signature.js';
import { Receiver, eventually } from './gateway-receiver.js';
import { call, startGateway, type ServerProcess } from './helpers/processes.js';

/**
 * The payments gateway's HTTP contract (compatibility.md, "Payments gateway") and its hardening,
 * against one real gateway process whose store callbacks go to a recording receiver.
 */
const SECRET = 'gateway-test-secret-0123456789';

let gateway: ServerProcess;
const receiver = new Receiver();

const post = (path: string, body?: unknown, headers?: Record<string, string>) => call('POST', gateway.url + path, body, headers);
const get = (path: string) => call('GET', gateway.url + path);
const balance = async (): Promise<number> => (await get('/balance')).body.balance;
const newOrderId = () => `order-${Math.random().toString(16).slice(2)}`;

beforeAll(async () => {
  await receiver.start();
  gateway = await startGateway({
    storeUrl: receiver.url,
    env: { PAYMENTS_WEBHOOK_SECRET: SECRET, CALLBACK_BASE_DELAY_MS: '50', CALLBACK_POLL_INTERVAL_MS: '20' },
  });
});

afterAll(async () => {
  await gateway?.stop();
  await receiver.stop();
});

beforeEach(async () => {
  expect((await post('/reset')).status).toBe(200);
  receiver.calls.length = 0;
  receiver.plan = [];
  receiver.fallback = 200;
});

describe('account', () => {
  it('GET /balance answers the account with its starting balance', async () => {
    const res = await get('/balance');
    expect(res.status).toBe(200);
    expect(res.text).toBe('{"status":"success","account_id":"ACC-001","holder":"John Doe","balance":50000}\n');
  });

  it('POST /pay debits in cents: no float noise, messages print the amount as sent', async () => {
    const first = await post('/pay', { amount: 179.98, recipient: 'Alice' });
    expect(first.status).toBe(200);
    expect(Object.keys(first.body)).toEqual(['status', 'message', 'balance', 'transaction']);
    expect(first.body).toMatchObject({ status: 'success', message: 'Payment of 179.98 to Alice completed', balance: 49820.02 });
    expect(Object.keys(first.body.transaction)).toEqual(['recipient', 'amount', 'balance_after', 'type', 'created_at']);
    expect(first.body.transaction).toMatchObject({ recipient: 'Alice', amount: 179.98, balance_after: 49820.02, type: 'payment' });
    expect(first.text).toContain('"balance":49820.02,');

    const second = await post('/pay', { amount: 100, recipient: 'Bob' }, { 'content-type': 'application/json; charset=utf-8' });
    expect(second.status).toBe(200);
    expect(second.body.message).toBe('Payment of 100 to Bob completed');
    expect(second.body.balance).toBe(49720.02);

    const third = await post('/pay', { amount: 0.1, recipient: 'Carol' });
    const fourth = await post('/pay', { amount: 0.2, recipient: 'Carol' });
    expect([third.body.balance, fourth.body.balance]).toEqual([49719.92, 49719.72]);
    expect(await balance()).toBe(49719.72);

    const list = await get('/transactions');
    expect(Object.keys(list.body)).toEqual(['status', 'account_id', 'transactions']);
    expect(list.body.account_id).toBe('ACC-001');
    expect(list.body.transactions.map((t: any) => [t.recipient, t.amount, t.balance_after])).toEqual([
      ['Alice', 179.98, 49820.02],
      ['Bob', 100, 49720.02],
      ['Carol', 0.1, 49719.92],
      ['Carol', 0.2, 49719.72],
    ]);
    expect(list.body.transactions[0]).toEqual(first.body.transaction);
    expect(receiver.calls).toHaveLength(0);
  });

  it('POST /pay errors come in the contract order with its messages', async () => {
    const json = { 'content-type': 'application/json' };
    const cases: [unknown, Record<string, string>, number, string][] = [
      [undefined, {}, 400, 'Request body must be JSON'],
      ['', json, 400, 'Request body must be JSON'],
      ['{"amount": 1,', json, 400, 'Request body must be JSON'],
      ['{"amount": 1, "recipient": "x"}', { 'content-type': 'text/plain' }, 400, 'Request body must be JSON'],
      ['amount=1&recipient=x', { 'content-type': 'application/x-www-form-urlencoded' }, 400, 'Request body must be JSON'],
      ['{"amount": 1, "recipient": "x"}', { 'content-type': 'not a media type' }, 400, 'Request body must be JSON'],
      ['[{"amount": 1, "recipient": "x"}]', json, 400, 'Request body must be JSON'],
      ['"text"', json, 400, 'Request body must be JSON'],
      ['null', json, 400, 'Request body must be JSON'],
      [{}, json, 400, 'Request body must be JSON'],
      [{ amount: 1 }, json, 400, "Both 'amount' and 'recipient' fields are required"],
      [{ recipient: 'x' }, json, 400, "Both 'amount' and 'recipient' fields are required"],
      [{ amount: -1 }, json, 400, "Both 'amount' and 'recipient' fields are required"],
      [{ amount: null, recipient: 'x' }, json, 400, "Both 'amount' and 'recipient' fields are required"],
      [{ other: 1 }, json, 400, "Both 'amount' and 'recipient' fields are required"],
      [{ amount: 0, recipient: 'x' }, json, 400, 'Amount must be a positive number'],
      [{ amount: -5, recipient: 'x' }, json, 400, 'Amount must be a positive number'],
      [{ amount: 'abc', recipient: 'x' }, json, 400, 'Amount must be a positive number'],
      [{ amount: 'Infinity', recipient: 'x' }, json, 400, 'Amount must be a positive number'],
      [{ amount: true, recipient: 'x' }, json, 400, 'Amount must be a positive number'],
      [{ amount: [5], recipient: 'x' }, json, 400, 'Amount must be a positive number'],
      [{ amount: 1.001, recipient: 'x' }, json, 400, 'Amount must have at most two decimal places'],
      [{ amount: '0.005', recipient: 'x' }, json, 400, 'Amount must be a positive number'],
      // Money comes only from JSON numbers, as the old gateway's isinstance check had it.
      [{ amount: '100', recipient: 'x' }, json, 400, 'Amount must be a positive number'],
      [{ amount: '1e2', recipient: 'x' }, json, 400, 'Amount must be a positive number'],
      [{ amount: ' 5 ', recipient: 'x' }, json, 400, 'Amount must be a positive number'],
      // Added checks (the old server printed any JSON value): a recipient is a string or a number.
      [{ amount: 1, recipient: true }, json, 400, "'recipient' must be a string of at most 200 characters"],
      [{ amount: 1, recipient: 'x'.repeat(201) }, json, 400, "'recipient' must be a string of at most 200 characters"],
    ];
    for (const [body, headers, status, message] of cases) {
      const res = await post('/pay', body, headers);
      expect({ body, status: res.status }).toEqual({ body, status });
      expect(res.body).toEqual({ status: 'failed', message });
    }

    const poor = await post('/pay', { amount: 50000.01, recipient: 'x' });
    expect(poor.status).toBe(402);
    expect(poor.text).toBe('{"status":"failed","message":"Insufficient funds","balance":50000,"requested":50000.01}\n');

    expect(await balance()).toBe(50000);
    expect((await get('/transactions')).body.transactions).toEqual([]);
  });

  it('POST /reset restores the balance and forgets movements, payments and pending callbacks', async () => {
    await post('/pay', { amount: 10, recipient: 'x' });
    const paid = await post('/payments/orders', { order_id: 'reset-me', amount: 5 });
    expect(paid.status).toBe(200);
    receiver.fallback = 500;
    expect((await post('/payments/orders', { order_id: 'pending-callback', amount: 5 })).body.shop_notified).toBe(false);

    const reset = await post('/reset');
    expect(reset.text).toBe('{"status":"success","message":"Account reset to default balance","balance":50000}\n');
    expect(await balance()).toBe(50000);
    expect((await get('/transactions')).body.transactions).toEqual([]);
    expect((await get('/payments')).body.payments).toEqual([]);
    expect((await get(`/payments/${paid.body.payment_id}`)).status).toBe(404);

    // The order can be paid again after a reset, and the cleared pending callback is not retried
    // (an attempt already in flight at the reset may still land: let it).
    receiver.fallback = 200;
    await new Promise((r) => setTimeout(r, 200));
    const calls = receiver.calls.length;
    const again = await post('/payments/orders', { order_id: 'reset-me', amount: 5 });
    expect(again.status).toBe(200);
    expect(again.body.payment_id).not.toBe(paid.body.payment_id);
    expect(again.body.balance).toBe(49995);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.calls.slice(calls).map((c) => c.body.order_id)).toEqual(['reset-me']);
  });
});

describe('order payments', () => {
  it('debits, calls the store back signed before answering, and answers in the contract shape', async () => {
    const orderId = newOrderId();
    const res = await post('/payments/orders', { order_id: orderId, amount: 179.98 });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['status', 'message', 'balance', 'transaction', 'shop_notified', 'payment_id']);
    const paymentId = res.body.payment_id;
    expect(paymentId).toMatch(/^pay_[0-9a-f]{24}$/);
    expect(res.body).toMatchObject({
      status: 'success',
      message: `Payment of 179.98 for order ${orderId} completed`,
      balance: 49820.02,
      shop_notified: true,
    });
    expect(Object.keys(res.body.transaction)).toEqual(['order_id', 'amount', 'balance_after', 'payment_id', 'type', 'created_at']);
    expect(res.body.transaction).toMatchObject({ order_id: orderId, amount: 179.98, balance_after: 49820.02, payment_id: paymentId, type: 'payment' });

    // The callback was made before the answer.
    expect(receiver.calls).toHaveLength(1);
    const callback = receiver.calls[0]!;
    expect(callback.path).toBe('/payments/confirm');
    expect(callback.raw).toBe(JSON.stringify({ order_id: orderId, status: 'success', amount: 179.98, payment_id: paymentId }));
    expect(callback.headers['content-type']).toBe('application/json');
    const signature = callback.headers['x-payment-signature'] as string;
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, signature, callback.raw)).toEqual({ valid: true });
    expect(verifySignature(SECRET, signature, callback.raw.replace('179.98', '1.00')).valid).toBe(false);

    const transactions = (await get('/transactions')).body.transactions;
    expect(transactions).toEqual([res.body.transaction]);
    expect(await balance()).toBe(49820.02);
  });

  it('POST /pay/order is the same endpoint; the amount is printed as sent', async () => {
    const orderId = newOrderId();
    const res = await post('/pay/order', { order_id: orderId, amount: 25.5 });
    expect(res.status).toBe(200);
    expect(res.body.message).toBe(`Payment of 25.5 for order ${orderId} completed`);
    expect(res.body.transaction.amount).toBe(25.5);
    expect(receiver.calls[0]!.body).toEqual({ order_id: orderId, status: 'success', amount: 25.5, payment_id: res.body.payment_id });
    expect(await balance()).toBe(49974.5);
  });

  it('errors come in the contract order, on both paths, and debit nothing', async () => {
    const json = { 'content-type': 'application/json' };
    const required = "Both 'order_id' and 'amount' fields are required";
    const cases: [unknown, Record<string, string>, string][] = [
      [undefined, {}, 'Request body must be JSON'],
      ['{"order_id": "a", "amount": ', json, 'Request body must be JSON'],
      ['{"order_id": "a", "amount": 1}', { 'content-type': 'text/plain' }, 'Request body must be JSON'],
      ['[]', json, 'Request body must be JSON'],
      [{}, json, 'Request body must be JSON'],
      [{ amount: 1 }, json, required],
      [{ order_id: 'a' }, json, required],
      [{ order_id: '', amount: 1 }, json, required],
      [{ order_id: 'a', amount: null }, json, required],
      [{ order_id: 'a', amount: 0, card_number: 'x' }, json, 'Amount must be a positive number'],
      [{ order_id: 'a', amount: '12.345' }, json, 'Amount must be a positive number'],
      [{ order_id: 'a', amount: false }, json, 'Amount must be a positive number'],
      [{ order_id: { id: 'a' }, amount: 1 }, json, "'order_id' must be a string of at most 200 characters"],
      [{ order_id: 'a', amount: 1, card_number: '4242-4242-4242-4242' }, json, 'card_number must be a string of digits'],
      [{ order_id: 'a', amount: 1, card_number: 4242424242424242 }, json, 'card_number must be a string of digits'],
      [{ order_id: 'a', amount: 1, card_number: '' }, json, 'card_number must be a string of digits'],
      [{ order_id: 'a', amount: 1, card_number: 'abcd' }, json, 'card_number must be a string of digits'],
    ];
    for (const path of ['/payments/orders', '/pay/order']) {
      for (const [body, headers, message] of cases) {
        const res = await post(path, body, headers);
        expect({ path, body, status: res.status, response: res.body }).toEqual({ path, body, status: 400, response: { status: 'failed', message } });
      }
    }
    expect(await balance()).toBe(50000);
    expect(receiver.calls).toHaveLength(0);
    expect((await get('/payments')).body.payments).toEqual([]);
  });

  it('insufficient funds: no debit, a failed payment, the store told "failed", 402', async () => {
    const orderId = newOrderId();
    const res = await post('/payments/orders', { order_id: orderId, amount: 50000.01 });
    expect(res.status).toBe(402);
    expect(Object.keys(res.body)).toEqual(['status', 'message', 'balance', 'requested', 'reason', 'payment_id']);
    expect(res.body).toEqual({
      status: 'failed',
      message: 'Insufficient funds',
      balance: 50000,
      requested: 50000.01,
      reason: 'insufficient_funds',
      payment_id: res.body.payment_id,
    });
    expect(receiver.calls.map((c) => c.raw)).toEqual([
      JSON.stringify({ order_id: orderId, status: 'failed', amount: 50000.01, payment_id: res.body.payment_id, reason: 'insufficient_funds' }),
    ]);
    expect(await balance()).toBe(50000);
    expect((await get('/transactions')).body.transactions).toEqual([]);
    const record = (await get(`/payments/${res.body.payment_id}`)).body.payment;
    expect(record).toMatchObject({ status: 'failed', reason: 'insufficient_funds', amount: 50000.01, callback: { state: 'delivered' } });
  });

  it('test cards: 4242… and other digits pay; the decline cards fail with their reason', async () => {
    const declines: [string, string, string][] = [
      ['4000000000000002', 'card_declined', 'Card declined'],
      ['4000 0000 0000 9995', 'insufficient_funds', 'Insufficient funds'],
      ['4000000000000119', 'processing_error', 'Processing error'],
    ];
    for (const [card, reason, message] of declines) {
      const orderId = newOrderId();
      const res = await post('/payments/orders', { order_id: orderId, amount: 10, card_number: card });
      expect(res.status).toBe(402);
      expect(res.body).toEqual({ status: 'failed', message, balance: 50000, requested: 10, reason, payment_id: res.body.payment_id });
      expect(receiver.calls.at(-1)!.body).toEqual({ order_id: orderId, status: 'failed', amount: 10, payment_id: res.body.payment_id, reason });
      const record = (await get(`/payments/${res.body.payment_id}`)).body.payment;
      expect(record).toMatchObject({ order_id: orderId, status: 'failed', reason, card_last4: card.slice(-4) });
    }
    expect(await balance()).toBe(50000);

    const visa = await post('/payments/orders', { order_id: newOrderId(), amount: 10, card_number: '4242 4242 4242 4242' });
    const other = await post('/payments/orders', { order_id: newOrderId(), amount: 10, card_number: '5555555555554444' });
    expect([visa.status, other.status]).toEqual([200, 200]);
    expect([visa.body.balance, other.body.balance]).toEqual([49990, 49980]);
    expect((await get(`/payments/${other.body.payment_id}`)).body.payment.card_last4).toBe('4444');

    // A failed payment does not block a later attempt for the same order.
    const orderId = newOrderId();
    const declined = await post('/payments/orders', { order_id: orderId, amount: 10, card_number: '4000000000000002' });
    const paid = await post('/payments/orders', { order_id: orderId, amount: 10 });
    expect([declined.status, paid.status]).toEqual([402, 200]);
    expect(paid.body.payment_id).not.toBe(declined.body.payment_id);
    expect(await balance()).toBe(49970);
    const history = (await get(`/payments?order_id=${orderId}`)).body.payments;
    expect(history.map((p: any) => [p.payment_id, p.status])).toEqual([
      [paid.body.payment_id, 'succeeded'],
      [declined.body.payment_id, 'failed'],
    ]);
  });

  it('paying one order twice debits once and answers the first response again (either path)', async () => {
    const orderId = newOrderId();
    const first = await post('/payments/orders', { order_id: orderId, amount: 42.42 });
    const second = await post('/pay/order', { order_id: orderId, amount: 42.42 });
    const third = await post('/payments/orders', { order_id: orderId, amount: 99 });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.text).toBe(first.text);
    expect(third.text).toBe(first.text);
    expect(await balance()).toBe(49957.58);
    expect(receiver.calls).toHaveLength(1);
    expect((await get('/transactions')).body.transactions).toHaveLength(1);
    expect((await get(`/payments?order_id=${orderId}`)).body.payments).toHaveLength(1);
  });

  it('20 concurrent payments of one order debit exactly once', async () => {
    const orderId = newOrderId();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post(i % 2 ? '/pay/order' : '/payments/orders', { order_id: orderId, amount: 179.98 })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(answers[0]!.body.balance).toBe(49820.02);
    expect(await balance()).toBe(49820.02);
    expect((await get('/transactions')).body.transactions).toHaveLength(1);
    expect((await get(`/payments?order_id=${orderId}`)).body.payments).toHaveLength(1);
    expect(receiver.calls).toHaveLength(1);
  });

  it('a store that refuses a successful payment (4xx) gets it refunded at once: 402, balance restored', async () => {
    const orderId = newOrderId();
    receiver.plan = [{ status: 400, detail: 'Order already processed (status: expired)' }];
    const res = await post('/payments/orders', { order_id: orderId, amount: 179.98 });
    expect(res.status).toBe(402);
    expect(res.text).toBe(
      JSON.stringify({
        status: 'failed',
        message: 'Payment refunded: the store refused the order (Order already processed (status: expired))',
        balance: 50000,
        requested: 179.98,
        reason: 'store_rejected',
        payment_id: res.body.payment_id,
      }) + '\n',
    );
    expect(await balance()).toBe(50000);
    const transactions = (await get('/transactions')).body.transactions;
    expect(transactions.map((t: any) => [t.type, t.order_id, t.amount, t.balance_after, t.payment_id])).toEqual([
      ['payment', orderId, 179.98, 49820.02, res.body.payment_id],
      ['refund', orderId, 179.98, 50000, res.body.payment_id],
    ]);
    const record = (await get(`/payments/${res.body.payment_id}`)).body.payment;
    expect(record).toMatchObject({ status: 'refunded', reason: 'store_rejected', callback: { state: 'refused' } });
    expect(record.refunded_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(record.callback.attempts).toEqual([
      { attempt: 1, event: 'success', at: expect.any(String), http_status: 400, error: 'Order already processed (status: expired)', signed: true },
    ]);

    // A refunded attempt is not replayed: paying again is a new payment, which this time the store takes.
    const again = await post('/pay/order', { order_id: orderId, amount: 179.98 });
    expect(again.status, again.text).toBe(200);
    expect(again.body.payment_id).not.toBe(res.body.payment_id);
    expect(await balance()).toBe(49820.02);
    expect(receiver.calls).toHaveLength(2);
  });

  it('a store refusing a failed payment changes nothing (no refund to make)', async () => {
    receiver.plan = [{ status: 404, detail: 'Order not found' }];
    const res = await post('/payments/orders', { order_id: newOrderId(), amount: 10, card_number: '4000000000000119' });
    expect(res.status).toBe(402);
    expect(res.body.message).toBe('Processing error');
    const record = (await get(`/payments/${res.body.payment_id}`)).body.payment;
    expect(record).toMatchObject({ status: 'failed', reason: 'processing_error', refunded_at: null, callback: { state: 'refused' } });
    expect((await get('/transactions')).body.transactions).toEqual([]);
  });
});

describe('payment records and refunds', () => {
  it('GET /payments/{id} shows the payment and its callback attempts; unknown ids are 404', async () => {
    const orderId = newOrderId();
    const paid = await post('/payments/orders', { order_id: orderId, amount: 12.34, card_number: '4242424242424242' });
    const res = await get(`/payments/${paid.body.payment_id}`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['status', 'payment']);
    const payment = res.body.payment;
    expect(Object.keys(payment)).toEqual(['payment_id', 'order_id', 'amount', 'status', 'reason', 'created_at', 'refunded_at', 'callback', 'card_last4']);
    expect(payment).toEqual({
      payment_id: paid.body.payment_id,
      order_id: orderId,
      amount: 12.34,
      status: 'succeeded',
      reason: null,
      created_at: paid.body.transaction.created_at,
      refunded_at: null,
      callback: {
        event: 'success',
        state: 'delivered',
        attempts: [{ attempt: 1, event: 'success', at: expect.any(String), http_status: 200, error: null, signed: true }],
        next_attempt_at: null,
      },
      card_last4: '4242',
    });
    expect(Object.keys(payment.callback.attempts[0])).toEqual(['attempt', 'event', 'at', 'http_status', 'error', 'signed']);

    for (const id of ['pay_000000000000000000000000', 'nope']) {
      const missing = await get(`/payments/${id}`);
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ status: 'failed', message: 'Payment not found' });
    }
  });

  it('GET /payments lists newest first, filtered by order_id', async () => {
    const a = await post('/payments/orders', { order_id: 'order-a', amount: 1 });
    const b = await post('/payments/orders', { order_id: 'order-b', amount: 2 });
    const c = await post('/payments/orders', { order_id: 'order-c', amount: 3, card_number: '4000000000000002' });
    const all = await get('/payments');
    expect(all.status).toBe(200);
    expect(Object.keys(all.body)).toEqual(['status', 'payments']);
    expect(all.body.payments.map((p: any) => [p.payment_id, p.order_id, p.amount, p.status])).toEqual([
      [c.body.payment_id, 'order-c', 3, 'failed'],
      [b.body.payment_id, 'order-b', 2, 'succeeded'],
      [a.body.payment_id, 'order-a', 1, 'succeeded'],
    ]);
    const one = await get('/payments?order_id=order-b');
    expect(one.body.payments).toEqual([all.body.payments[1]]);
    expect((await get('/payments?order_id=unknown')).body).toEqual({ status: 'success', payments: [] });
  });

  it('POST /payments/{id}/refund refunds once; its errors', async () => {
    const orderId = newOrderId();
    const paid = await post('/payments/orders', { order_id: orderId, amount: 179.98 });
    expect(await balance()).toBe(49820.02);

    const refund = await post(`/payments/${paid.body.payment_id}/refund`);
    expect(refund.status).toBe(200);
    expect(Object.keys(refund.body)).toEqual(['status', 'message', 'balance', 'payment']);
    expect(refund.body).toMatchObject({ status: 'success', message: `Payment ${paid.body.payment_id} refunded`, balance: 50000 });
    expect(refund.body.payment).toMatchObject({ payment_id: paid.body.payment_id, status: 'refunded', reason: 'refund_requested' });
    expect(refund.body.payment.refunded_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    const { callback: _callback, ...stored } = (await get(`/payments/${paid.body.payment_id}`)).body.payment;
    expect(refund.body.payment).toMatchObject(stored);
    // The store is told, with the same signed callback as a payment, now saying "refunded".
    const told = (await eventually(async () => receiver.calls.find((c) => c.body?.status === 'refunded')))!;
    expect(told.body).toEqual({ order_id: orderId, status: 'refunded', amount: 179.98, payment_id: paid.body.payment_id, reason: 'refund_requested' });
    expect(verifySignature(SECRET, told.headers['x-payment-signature'] as string, told.raw)).toEqual({ valid: true });
    expect(await balance()).toBe(50000);
    const transactions = (await get('/transactions')).body.transactions;
    expect(transactions.map((t: any) => [t.type, t.amount, t.balance_after])).toEqual([
      ['payment', 179.98, 49820.02],
      ['refund', 179.98, 50000],
    ]);

    const twice = await post(`/payments/${paid.body.payment_id}/refund`);
    expect([twice.status, twice.body]).toEqual([400, { status: 'failed', message: 'Payment already refunded' }]);

    const declined = await post('/payments/orders', { order_id: newOrderId(), amount: 5, card_number: '4000000000000002' });
    const notPaid = await post(`/payments/${declined.body.payment_id}/refund`);
    expect([notPaid.status, notPaid.body]).toEqual([400, { status: 'failed', message: 'Only successful payments can be refunded' }]);

    const unknown = await post('/payments/pay_ffffffffffffffffffffffff/refund');
    expect([unknown.status, unknown.body]).toEqual([404, { status: 'failed', message: 'Payment not found' }]);
    expect(await balance()).toBe(50000);
  });

  it('concurrent refunds of one payment refund it once', async () => {
    const paid = await post('/payments/orders', { order_id: newOrderId(), amount: 100 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(`/payments/${paid.body.payment_id}/refund`)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, ...Array(9).fill(400)]);
    expect(await balance()).toBe(50000);
    expect((await get('/transactions')).body.transactions.filter((t: any) => t.type === 'refund')).toHaveLength(1);
  });
});

describe('HTTP surface', () => {
  it('unknown routes and oversized bodies answer in the gateway error shape', async () => {
    const missing = await get('/nope');
    expect([missing.status, missing.body]).toEqual([404, { status: 'failed', message: 'Not Found' }]);
    const big = await post('/pay', JSON.stringify({ amount: 1, recipient: 'x'.repeat(1024 * 1024) }));
    expect(big.status).toBe(413);
    expect(big.body).toEqual({ status: 'failed', message: 'Request body too large (limit 1048576 bytes)' });
    expect(big.text).not.toContain('at ');
    expect(await balance()).toBe(50000);
  });

  it('CORS is open', async () => {
    const res = await fetch(`${gateway.url}/payments/orders`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect((await call('GET', `${gateway.url}/balance`, undefined, { origin: 'https://a.example' })).headers.get('access-control-allow-origin')).toBe(
      'https://a.example',
    );
  });

  it('documents every endpoint at /openapi.json and serves /docs', async () => {
    const spec = await get('/openapi.json');
    expect(spec.status).toBe(200);
    expect(Object.keys(spec.body.paths).sort()).toEqual(
      ['/', '/healthz', '/balance', '/pay', '/pay/order', '/payments', '/payments/orders', '/payments/{payment_id}', '/payments/{payment_id}/refund', '/reset', '/transactions'].sort(),
    );
    expect(Object.keys(spec.body.paths['/payments/orders'].post.responses).sort()).toEqual(['200', '400', '402', '413']);
    expect(spec.body.paths['/payments/orders'].post.requestBody.content['application/json'].schema.properties).toHaveProperty('card_number');
    const docs = await fetch(`${gateway.url}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });
});

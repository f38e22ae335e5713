import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { migrate, openDatabase } from '../src/db/database.js';
import { GATEWAY_MIGRATION_TABLE, gatewayMigrations } from '../src/gateway/migrations.js';
import { call, freshDatabaseUrl, startGateway, tempDir } from './helpers/processes.js';

/**
 * Migration 0003 rebuilds every gateway table with a sandbox key: a database written before it
 * keeps its account, movements, payments and callback history, now as the root sandbox's, in
 * their order; a new sandbox sees none of it.
 */
const FIRST_ANSWER = { status: 'success', message: 'Payment of 30 for order old-order completed' };
const dialects = ['sqlite', ...(inject('postgresAvailable') ? ['postgres' as const] : [])] as const;

describe.each(dialects)('a gateway database from before sandboxes, on %s', (dialect) => {
  it('keeps its rows as the root sandbox', async () => {
    const url = dialect === 'sqlite' ? `sqlite:${join(tempDir('gateway-test-'), 'payments.db')}` : freshDatabaseUrl('postgres');
    const before = openDatabase<any>({ url });
    const { '0001_account_payments_callbacks': first, '0002_refunds_reopen_orders': second } = gatewayMigrations;
    await migrate(before, { '0001_account_payments_callbacks': first!, '0002_refunds_reopen_orders': second! }, GATEWAY_MIGRATION_TABLE);
    const at = Date.parse('2029-05-01T10:00:00.000Z');
    await before.db.updateTable('accounts').set({ balance_cents: 4_996_000 }).execute();
    await before.db
      .insertInto('ledger')
      .values([
        { type: 'payment', recipient: 'Alice', order_id: null, payment_id: null, amount_cents: 1000, balance_after_cents: 4_999_000, created_at: at },
        { type: 'payment', recipient: null, order_id: 'old-order', payment_id: 'pay_old', amount_cents: 3000, balance_after_cents: 4_996_000, created_at: at + 1 },
      ])
      .execute();
    await before.db
      .insertInto('payments')
      .values({ payment_id: 'pay_old', order_id: 'old-order', amount_cents: 3000, amount_text: '30', status: 'succeeded', reason: null, card_last4: null, created_at: at + 1, refunded_at: null, response_status: 200, response_json: JSON.stringify(FIRST_ANSWER) })
      .execute();
    const payload = JSON.stringify({ order_id: 'old-order', status: 'success', amount: 30, payment_id: 'pay_old' });
    await before.db.insertInto('callback_jobs').values({ payment_id: 'pay_old', payload, state: 'delivered', attempts: 1, next_attempt_at: at + 2, created_at: at + 1, updated_at: at + 2 }).execute();
    await before.db.insertInto('callback_attempts').values({ payment_id: 'pay_old', attempt: 1, at: at + 2, http_status: 200, error: null, signed: 0, event: 'success' }).execute();
    await before.close();

    const gateway = await startGateway({ storeUrl: 'http://127.0.0.1:9', databaseUrl: url });
    try {
      expect((await call('GET', `${gateway.url}/balance`)).body.balance).toBe(49960);
      expect((await call('GET', `${gateway.url}/transactions`)).body.transactions.map((t: any) => [t.recipient ?? t.order_id, t.amount])).toEqual([
        ['Alice', 10],
        ['old-order', 30],
      ]);
      const payment = (await call('GET', `${gateway.url}/payments/pay_old`)).body.payment;
      expect(payment).toMatchObject({ order_id: 'old-order', amount: 30, status: 'succeeded', callback: { state: 'delivered', next_attempt_at: null } });
      expect(payment.callback.attempts).toEqual([{ attempt: 1, event: 'success', at: '2029-05-01T10:00:00.002Z', http_status: 200, error: null, signed: false }]);
      // The kept payment still guards its order (its first answer replayed, nothing debited), and a new sandbox starts empty.
      expect((await call('POST', `${gateway.url}/payments/orders`, { order_id: 'old-order', amount: 30 })).body).toEqual(FIRST_ANSWER);
      expect((await call('GET', `${gateway.url}/balance`)).body.balance).toBe(49960);
      expect((await call('POST', `${gateway.url}/admin/sandboxes`, { sandbox_id: 'after', seed: null, clock: { frozen_at: null, offset_ms: 0 } })).body).toEqual({ sandbox_id: 'after', balance: 50000 });
      expect((await call('GET', `${gateway.url}/sandboxes/after/payments/pay_old`)).status).toBe(404);
    } finally {
      await gateway.stop();
    }
  });
});

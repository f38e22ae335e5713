import type { Kysely, Selectable } from 'kysely';
import { prepare } from '../db/prepared.js';
import type { CallbackAttemptTable, CallbackJobTable, CallbackState, GatewaySchema, LedgerTable, PaymentTable } from './repository.js';

type Db = Kysely<GatewaySchema>;
type Keyed<T> = T & { key: number };

/** A new row as the repository writes it: every column but the generated ones and the sandbox key. */
export type NewLedgerEntry = Omit<Selectable<LedgerTable>, 'id' | 'sandbox'>;
export type NewPayment = Omit<Selectable<PaymentTable>, 'seq' | 'sandbox'>;
export type NewCallbackJob = Omit<Selectable<CallbackJobTable>, 'sandbox'>;
export type NewCallbackAttempt = Omit<Selectable<CallbackAttemptTable>, 'id' | 'sandbox'>;

/** An account row, without and with PostgreSQL's row lock (SQLite has no FOR UPDATE: BEGIN IMMEDIATE locks). */
const account = (lock: boolean) =>
  prepare((db: Db, p: { key: number; id: string }) => {
    const query = db.selectFrom('accounts').selectAll().where('sandbox', '=', p.key).where('id', '=', p.id);
    return lock ? query.forUpdate() : query;
  });

/**
 * The statements of an order payment and its callback, compiled once (db/prepared.ts); the
 * repository's methods of the same names run them.
 */
export const statements = {
  generation: prepare((db: Db, p: { key: number }) => db.selectFrom('sandboxes').select('generation').where('key', '=', p.key)),
  account: account(false),
  lockedAccount: account(true),
  setBalance: prepare((db: Db, p: { key: number; id: string; balance: number }) =>
    db.updateTable('accounts').set({ balance_cents: p.balance }).where('sandbox', '=', p.key).where('id', '=', p.id)),
  addLedgerEntry: prepare((db: Db, p: Keyed<NewLedgerEntry>) =>
    db
      .insertInto('ledger')
      .values({
        sandbox: p.key, type: p.type, recipient: p.recipient, order_id: p.order_id, payment_id: p.payment_id,
        amount_cents: p.amount_cents, balance_after_cents: p.balance_after_cents, created_at: p.created_at,
      })
      .returningAll()),
  insertPayment: prepare((db: Db, p: Keyed<NewPayment>) =>
    db.insertInto('payments').values({
      sandbox: p.key, payment_id: p.payment_id, order_id: p.order_id, amount_cents: p.amount_cents, amount_text: p.amount_text, status: p.status,
      reason: p.reason, card_last4: p.card_last4, created_at: p.created_at, refunded_at: p.refunded_at, response_status: p.response_status, response_json: p.response_json,
    })),
  keptPayment: prepare((db: Db, p: { key: number; orderId: string }) =>
    db.selectFrom('payments').selectAll().where('sandbox', '=', p.key).where('order_id', '=', p.orderId).where('status', '=', 'succeeded')),
  saveResponse: prepare((db: Db, p: { key: number; paymentId: string; status: number; json: string }) =>
    db.updateTable('payments').set({ response_status: p.status, response_json: p.json }).where('sandbox', '=', p.key).where('payment_id', '=', p.paymentId)),
  insertJob: prepare((db: Db, p: Keyed<NewCallbackJob>) =>
    db.insertInto('callback_jobs').values({
      sandbox: p.key, payment_id: p.payment_id, payload: p.payload, state: p.state, attempts: p.attempts,
      next_attempt_at: p.next_attempt_at, leased_until: p.leased_until, created_at: p.created_at, updated_at: p.updated_at,
    })),
  job: prepare((db: Db, p: { key: number; paymentId: string }) => db.selectFrom('callback_jobs').selectAll().where('sandbox', '=', p.key).where('payment_id', '=', p.paymentId)),
  advanceJob: prepare((db: Db, p: { key: number; paymentId: string; payload: string; state: CallbackState; attempts: number; previous: number; next_attempt_at: number; updated_at: number }) =>
    db
      .updateTable('callback_jobs')
      .set({ state: p.state, attempts: p.attempts, next_attempt_at: p.next_attempt_at, updated_at: p.updated_at, leased_until: null })
      .where('sandbox', '=', p.key)
      .where('payment_id', '=', p.paymentId)
      .where('payload', '=', p.payload)
      .where('state', '=', 'pending')
      .where('attempts', '=', p.previous)),
  addAttempt: prepare((db: Db, p: Keyed<NewCallbackAttempt>) =>
    db.insertInto('callback_attempts').values({
      sandbox: p.key, payment_id: p.payment_id, attempt: p.attempt, at: p.at, http_status: p.http_status, error: p.error, signed: p.signed, event: p.event,
    })),
};

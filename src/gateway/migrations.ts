import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../db/database.js';
import { sandboxesMigration } from './migration-sandboxes.js';
import { faultTablesMigration } from '../faults/migration.js';

/**
 * Versioned migrations of the payments gateway's own database (tracked in `gateway_migrations`),
 * applied in name order on SQLite or PostgreSQL. Money is integer cents, times are epoch
 * milliseconds. Never edit a migration that has shipped: add the next one.
 */
// Migrations must not be typed against today's schema: it changes, they must not.
type AnyDb = Kysely<unknown>;

export const GATEWAY_MIGRATION_TABLE = 'gateway_migrations';

/** The simulated account of the old Flask gateway. */
export const DEFAULT_ACCOUNT = { id: 'ACC-001', holder: 'John Doe', balanceCents: 5_000_000 } as const;

export const gatewayMigrations: Record<string, (dialect: Dialect) => Migration> = {
  '0001_account_payments_callbacks': (dialect) => ({
    async up(db: AnyDb) {
      // An ever-growing integer key: rows list in insertion order on both dialects.
      const serial = dialect === 'postgres' ? ('bigserial' as const) : ('integer' as const);
      const serialKey = (c: ColumnDefinitionBuilder) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());

      await db.schema
        .createTable('accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('balance_cents', 'bigint', (c) => c.notNull())
        .execute();
      await db
        .insertInto('accounts' as never)
        .values({ id: DEFAULT_ACCOUNT.id, holder: DEFAULT_ACCOUNT.holder, balance_cents: DEFAULT_ACCOUNT.balanceCents } as never)
        .execute();

      // The account's movements: payments to a recipient, order payments and refunds.
      await db.schema
        .createTable('ledger')
        .addColumn('id', serial, serialKey)
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('recipient', 'text')
        .addColumn('order_id', 'text')
        .addColumn('payment_id', 'text')
        .addColumn('amount_cents', 'bigint', (c) => c.notNull().check(sql`amount_cents > 0`))
        .addColumn('balance_after_cents', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('payments')
        .addColumn('seq', serial, serialKey)
        .addColumn('payment_id', 'text', (c) => c.notNull().unique())
        .addColumn('order_id', 'text', (c) => c.notNull())
        .addColumn('amount_cents', 'bigint', (c) => c.notNull().check(sql`amount_cents > 0`))
        .addColumn('amount_text', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('succeeded', 'failed', 'refunded')`))
        .addColumn('reason', 'text')
        .addColumn('card_last4', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('refunded_at', 'bigint')
        .addColumn('response_status', 'integer')
        .addColumn('response_json', 'text')
        .execute();
      await db.schema.createIndex('payments_order_id').on('payments').columns(['order_id', 'seq']).execute();
      // Second guard against a double charge: at most one settled (succeeded, later maybe refunded) payment per order.
      await sql`create unique index payments_one_settled_per_order on payments (order_id) where status in ('succeeded', 'refunded')`.execute(db);

      // Outbox: one delivery job per payment, written in the payment's transaction.
      await db.schema
        .createTable('callback_jobs')
        .addColumn('payment_id', 'text', (c) => c.primaryKey())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'delivered', 'failed', 'refused')`))
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('callback_jobs_due').on('callback_jobs').columns(['state', 'next_attempt_at']).execute();

      await db.schema
        .createTable('callback_attempts')
        .addColumn('id', serial, serialKey)
        .addColumn('payment_id', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('http_status', 'integer')
        .addColumn('error', 'text')
        .addColumn('signed', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('callback_attempts_payment').on('callback_attempts').columns(['payment_id', 'attempt']).execute();
    },
  }),
  '0002_refunds_reopen_orders': () => ({
    async up(db: AnyDb) {
      // Only a payment that is kept (succeeded) blocks another one for its order: after a refund the
      // order may be paid again. Still at most one succeeded payment per order, even under races.
      await sql`drop index payments_one_settled_per_order`.execute(db);
      await sql`create unique index payments_one_succeeded_per_order on payments (order_id) where status = 'succeeded'`.execute(db);
      // A payment's job now carries its latest news (success, failed, then maybe refunded): each
      // attempt records which message it carried. Null for attempts made before this migration.
      await db.schema.alterTable('callback_attempts').addColumn('event', 'text').execute();
    },
  }),
  '0003_sandboxes': (dialect) => ({
    up: (db: AnyDb) => sandboxesMigration(db, dialect),
  }),
  '0004_events': () => ({
    async up(db: AnyDb) {
      // The gateway's own event log per sandbox (written in the transaction of the change it
      // records, so it is durable), with its own gapless seq; the store imports it into the
      // sandbox's timeline (spec/sandboxes.md section 3).
      await db.schema
        .createTable('events')
        .addColumn('sandbox', 'integer', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('events_sandbox_pk', ['sandbox', 'seq'] as never[])
        .execute();
      await db.schema.alterTable('sandboxes').addColumn('event_seq', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    },
  }),
  // The gateway's half of fault rules (the store pushes them), the same tables as the store's (its migration 0009).
  '0005_faults': () => ({ up: (db: AnyDb) => faultTablesMigration(db) }),
};

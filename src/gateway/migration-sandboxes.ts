import { sql, type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';

/**
 * Migration 0003: sandboxes. Every gateway table gets a `sandbox` key (the `sandboxes.key` of the
 * sandbox a row belongs to; `default`, the root, is 0) leading its primary key, unique keys and
 * lookup indexes, and a `sandboxes` table maps public ids to keys. SQLite cannot change a primary
 * key in place, so each table is rebuilt (on both dialects, one code path): created anew, filled
 * from the old one (existing rows become sandbox 0, serial tables copied in serial order so
 * listings keep their order), the old one dropped and the new one renamed.
 * Written against no schema type: migrations must not change when the schema does.
 */
type AnyDb = Kysely<unknown>;
type Columns = (table: CreateTableBuilder<string, never>) => CreateTableBuilder<string, never>;

interface Rebuild {
  table: string;
  /** The columns kept, copied as they are. */
  columns: string[];
  /** The ever-growing key: not copied (the new table numbers rows anew, in this order). */
  serial?: string;
  define: Columns;
  indexes: string[];
}

/** The root sandbox's key. */
const ROOT_KEY = 0;

export async function sandboxesMigration(db: AnyDb, dialect: Dialect): Promise<void> {
  const serialType = dialect === 'postgres' ? ('bigserial' as const) : ('integer' as const);
  const serialKey = (c: ColumnDefinitionBuilder) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
  const withSerial = (name: string): Columns => (t) => t.addColumn(name, serialType, serialKey).addColumn('sandbox', 'integer', (c) => c.notNull());
  const withKey: Columns = (t) => t.addColumn('sandbox', 'integer', (c) => c.notNull());

  const rebuilds: Rebuild[] = [
    {
      table: 'accounts',
      columns: ['id', 'holder', 'balance_cents'],
      define: (t) =>
        withKey(t)
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('holder', 'text', (c) => c.notNull())
          .addColumn('balance_cents', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('accounts_sandbox_pk', ['sandbox', 'id'] as never[]),
      indexes: [],
    },
    {
      table: 'ledger',
      serial: 'id',
      columns: ['type', 'recipient', 'order_id', 'payment_id', 'amount_cents', 'balance_after_cents', 'created_at'],
      define: (t) =>
        withSerial('id')(t)
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('recipient', 'text')
          .addColumn('order_id', 'text')
          .addColumn('payment_id', 'text')
          .addColumn('amount_cents', 'bigint', (c) => c.notNull().check(sql`amount_cents > 0`))
          .addColumn('balance_after_cents', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull()),
      indexes: ['create index ledger_sandbox on ledger (sandbox, id)', 'create index ledger_sandbox_payment on ledger (sandbox, payment_id)'],
    },
    {
      table: 'payments',
      serial: 'seq',
      columns: ['payment_id', 'order_id', 'amount_cents', 'amount_text', 'status', 'reason', 'card_last4', 'created_at', 'refunded_at', 'response_status', 'response_json'],
      define: (t) =>
        withSerial('seq')(t)
          .addColumn('payment_id', 'text', (c) => c.notNull())
          .addColumn('order_id', 'text', (c) => c.notNull())
          .addColumn('amount_cents', 'bigint', (c) => c.notNull().check(sql`amount_cents > 0`))
          .addColumn('amount_text', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('succeeded', 'failed', 'refunded')`))
          .addColumn('reason', 'text')
          .addColumn('card_last4', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('refunded_at', 'bigint')
          .addColumn('response_status', 'integer')
          .addColumn('response_json', 'text'),
      indexes: [
        'create unique index payments_sandbox_payment_id on payments (sandbox, payment_id)',
        'create index payments_sandbox_seq on payments (sandbox, seq)',
        'create index payments_order_id on payments (sandbox, order_id, seq)',
        // At most one kept payment per order, now per sandbox (forks hold the same order ids).
        "create unique index payments_one_succeeded_per_order on payments (sandbox, order_id) where status = 'succeeded'",
      ],
    },
    {
      table: 'callback_jobs',
      columns: ['payment_id', 'payload', 'state', 'attempts', 'next_attempt_at', 'created_at', 'updated_at'],
      define: (t) =>
        withKey(t)
          .addColumn('payment_id', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'delivered', 'failed', 'refused')`))
          .addColumn('attempts', 'integer', (c) => c.notNull())
          // In the sandbox's time: its clock decides when a retry is due.
          .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
          // Real time: an attempt in flight holds its job until then, whatever the sandbox's clock does.
          .addColumn('leased_until', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('callback_jobs_sandbox_pk', ['sandbox', 'payment_id'] as never[]),
      indexes: ['create index callback_jobs_due on callback_jobs (state, next_attempt_at)'],
    },
    {
      table: 'callback_attempts',
      serial: 'id',
      columns: ['payment_id', 'attempt', 'at', 'http_status', 'error', 'signed', 'event'],
      define: (t) =>
        withSerial('id')(t)
          .addColumn('payment_id', 'text', (c) => c.notNull())
          .addColumn('attempt', 'integer', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('http_status', 'integer')
          .addColumn('error', 'text')
          .addColumn('signed', 'integer', (c) => c.notNull())
          .addColumn('event', 'text'),
      indexes: ['create index callback_attempts_payment on callback_attempts (sandbox, payment_id, attempt)'],
    },
  ];

  for (const { table, columns, serial, define, indexes } of rebuilds) {
    const next = `${table}_v3`;
    await define(db.schema.createTable(next) as CreateTableBuilder<string, never>).execute();
    const list = sql.join(columns.map((c) => sql.id(c)));
    const order = serial ? sql` order by ${sql.id(serial)}` : sql``;
    await sql`insert into ${sql.id(next)} (sandbox, ${list}) select ${ROOT_KEY}, ${list} from ${sql.id(table)}${order}`.execute(db);
    await db.schema.dropTable(table).execute();
    await db.schema.alterTable(next).renameTo(table).execute();
    for (const index of indexes) await sql.raw(index).execute(db);
  }

  // Live sandboxes have a public id; snapshots (kind 'snapshot') are hidden rows owned by a live
  // sandbox (parent_key), holding a copy of its rows under their own key.
  await db.schema
    .createTable('sandboxes')
    .addColumn('key', serialType, serialKey)
    .addColumn('public_id', 'text', (c) => c.unique())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('live', 'snapshot')`))
    .addColumn('parent_key', 'integer')
    .addColumn('snapshot_name', 'text')
    .addColumn('seed', 'bigint')
    .addColumn('id_counter', 'bigint', (c) => c.notNull())
    .addColumn('clock_frozen_at', 'bigint')
    .addColumn('clock_offset_ms', 'bigint', (c) => c.notNull())
    // Counts restores and resets: a callback attempt begun before one is not recorded after it.
    .addColumn('generation', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await sql`create unique index sandboxes_snapshot_name on sandboxes (parent_key, snapshot_name)`.execute(db);

  const now = Date.now();
  const row = { seed: null, id_counter: 0, clock_frozen_at: null, clock_offset_ms: 0, generation: 0, created_at: now };
  await db.insertInto('sandboxes' as never).values({ key: ROOT_KEY, public_id: 'default', kind: 'live', parent_key: null, snapshot_name: null, ...row } as never).execute();
  // The root's creation state (what an admin reset of `default` returns to): the fresh account.
  const created = await db
    .insertInto('sandboxes' as never)
    .values({ public_id: null, kind: 'snapshot', parent_key: ROOT_KEY, snapshot_name: '#created', ...row } as never)
    .returning('key' as never)
    .executeTakeFirstOrThrow();
  await db
    .insertInto('accounts' as never)
    .values({ sandbox: (created as { key: number }).key, id: 'ACC-001', holder: 'John Doe', balance_cents: 5_000_000 } as never)
    .execute();
}

import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from './database.js';
import { sandboxMigration } from './sandbox-migration.js';
import { faultTablesMigration } from '../faults/migration.js';

/**
 * Versioned migrations of the store database, applied in name order. Both dialects run the same
 * definitions; `bigint` holds epoch milliseconds and money totals, `double precision` ratings.
 * Never edit a migration that has shipped: add the next one.
 */
// Migrations must not be typed against today's schema: it changes, they must not.
type AnyDb = Kysely<unknown>;

const nonNegative = (column: string) => sql`${sql.ref(column)} >= 0`;
const positive = (column: string) => sql`${sql.ref(column)} > 0`;

export const storeMigrations: Record<string, (dialect: Dialect) => Migration> = {
  '0001_catalog_carts_orders': (dialect) => ({
    async up(db: AnyDb) {
      // Name sort compares code points: SQLite's default BINARY collation does; PostgreSQL needs "C".
      const codePointText = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
      await db.schema
        .createTable('categories')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('slug', 'text', (c) => c.notNull().unique())
        .execute();

      await db.schema
        .createTable('products')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('name', codePointText, (c) => c.notNull())
        .addColumn('price_cents', 'integer', (c) => c.notNull().check(nonNegative('price_cents')))
        .addColumn('category_id', 'integer', (c) => c.notNull().references('categories.id'))
        .addColumn('brand', codePointText, (c) => c.notNull())
        .addColumn('rating', 'double precision', (c) => c.notNull())
        .addColumn('stock', 'integer', (c) => c.notNull().check(nonNegative('stock')))
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('brand_lc', 'text', (c) => c.notNull())
        .addColumn('name_lc', 'text', (c) => c.notNull())
        .addColumn('description_lc', 'text', (c) => c.notNull())
        .execute();
      // Every sort and filter is "... order by <column>, id": these indexes serve sort and page without a scan.
      for (const column of ['category_id', 'price_cents', 'rating', 'name', 'brand_lc']) {
        await db.schema.createIndex(`products_${column}_id`).on('products').columns([column, 'id']).execute();
      }

      await db.schema
        .createTable('carts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('carts_updated_at').on('carts').column('updated_at').execute();

      await db.schema
        .createTable('cart_items')
        .addColumn('cart_id', 'text', (c) => c.notNull().references('carts.id').onDelete('cascade'))
        .addColumn('product_id', 'integer', (c) => c.notNull())
        .addColumn('quantity', 'integer', (c) => c.notNull().check(positive('quantity')))
        .addColumn('line_no', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('cart_items_pk', ['cart_id', 'product_id'])
        .execute();

      await db.schema
        .createTable('orders')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('cart_id', 'text', (c) => c.notNull())
        .addColumn('total_cents', 'bigint', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('payment_id', 'text')
        .addColumn('paid_at', 'bigint')
        .addColumn('reason', 'text')
        .execute();
      await db.schema.createIndex('orders_status_expires_at').on('orders').columns(['status', 'expires_at']).execute();

      await db.schema
        .createTable('order_items')
        .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id').onDelete('cascade'))
        .addColumn('line_no', 'integer', (c) => c.notNull())
        .addColumn('product_id', 'integer', (c) => c.notNull())
        .addColumn('name', codePointText, (c) => c.notNull())
        .addColumn('price_cents', 'integer', (c) => c.notNull())
        .addColumn('quantity', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('order_items_pk', ['order_id', 'line_no'])
        .execute();

      await db.schema
        .createTable('idempotency_keys')
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('response_body', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'key'])
        .execute();
      await db.schema.createIndex('idempotency_keys_created_at').on('idempotency_keys').column('created_at').execute();
    },
  }),
  '0002_search_index': (dialect) => ({
    async up(db: AnyDb) {
      if (dialect === 'postgres') {
        // Trigram GIN indexes serve LIKE '%term%'. The extension lives in public so that dropping a
        // per-test schema never drops it from under another one.
        await sql`create extension if not exists pg_trgm schema public`.execute(db);
        for (const column of ['name_lc', 'description_lc']) {
          await sql`create index ${sql.id(`products_${column}_trgm`)} on products using gin (${sql.id(column)} public.gin_trgm_ops)`.execute(db);
        }
        return;
      }
      // SQLite: an external-content FTS5 table with the trigram tokenizer finds candidate rows for a
      // substring; the exact LIKE on the base table then decides, so results equal PostgreSQL's.
      await sql`create virtual table products_fts using fts5(name_lc, description_lc, content='products', content_rowid='id', tokenize='trigram')`.execute(db);
      await sql`insert into products_fts(rowid, name_lc, description_lc) select id, name_lc, description_lc from products`.execute(db);
      await sql`create trigger products_fts_insert after insert on products begin
        insert into products_fts(rowid, name_lc, description_lc) values (new.id, new.name_lc, new.description_lc);
      end`.execute(db);
      await sql`create trigger products_fts_delete after delete on products begin
        insert into products_fts(products_fts, rowid, name_lc, description_lc) values ('delete', old.id, old.name_lc, old.description_lc);
      end`.execute(db);
      // Only text changes touch the index: stock updates at checkout stay cheap.
      await sql`create trigger products_fts_update after update of name_lc, description_lc on products begin
        insert into products_fts(products_fts, rowid, name_lc, description_lc) values ('delete', old.id, old.name_lc, old.description_lc);
        insert into products_fts(rowid, name_lc, description_lc) values (new.id, new.name_lc, new.description_lc);
      end`.execute(db);
    },
  }),
  '0003_filter_indexes': () => ({
    async up(db: AnyDb) {
      // Price range + minimum rating (the guide's filter), sorted by price: the count and the page
      // are read from the index alone, without visiting a million table rows.
      await db.schema.createIndex('products_price_rating_id').on('products').columns(['price_cents', 'rating', 'id']).execute();
      // Category listings sorted by rating, in either direction, with id as the tie-break.
      await db.schema.createIndex('products_category_rating_id').on('products').columns(['category_id', 'rating', 'id']).execute();
    },
  }),
  '0004_refunds_and_idempotency_owner': () => ({
    async up(db: AnyDb) {
      // Payments the gateway refunded before the order was paid with them (issue 7): a success for
      // one of them that arrives late (a delayed retry) must not make the order paid.
      await db.schema
        .createTable('refunded_payments')
        .addColumn('payment_id', 'text', (c) => c.primaryKey())
        .addColumn('order_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      // Which request holds an idempotency claim: its work may only record its answer while it still does.
      await db.schema.alterTable('idempotency_keys').addColumn('owner', 'text').execute();
    },
  }),
  '0005_catalog_version': (dialect) => ({
    async up(db: AnyDb) {
      // One counter that every change to products or categories (stock included) moves, in the
      // same transaction: a process that sees the number it cached knows its copy is current.
      await db.schema
        .createTable('catalog_version')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('version', 'bigint', (c) => c.notNull())
        // PostgreSQL: the transaction that last moved the version, so that it moves once per transaction.
        .addColumn('bumped_by', 'text')
        .execute();
      await sql`insert into catalog_version (id, version) values (1, 0)`.execute(db);
      if (dialect === 'postgres') {
        await sql`create function bump_catalog_version() returns trigger language plpgsql as $$
          begin
            update catalog_version set version = version + 1, bumped_by = pg_current_xact_id()::text
              where id = 1 and bumped_by is distinct from pg_current_xact_id()::text;
            return null;
          end $$`.execute(db);
        // Updates (stock at every checkout) move the version at commit, after every product row lock
        // the transaction takes: taken earlier, the version row would let two checkouts that lock
        // products in id order deadlock on it. Bulk inserts and deletes move it once per statement.
        await sql`create constraint trigger products_update_catalog_version after update on products
          deferrable initially deferred for each row execute function bump_catalog_version()`.execute(db);
        await sql`create trigger products_catalog_version after insert or delete or truncate on products
          for each statement execute function bump_catalog_version()`.execute(db);
        await sql`create trigger categories_catalog_version after insert or update or delete or truncate on categories
          for each statement execute function bump_catalog_version()`.execute(db);
        return;
      }
      for (const table of ['products', 'categories']) {
        for (const event of ['insert', 'update', 'delete']) {
          await sql`create trigger ${sql.id(`${table}_${event}_catalog_version`)} after ${sql.raw(event)} on ${sql.id(table)}
            begin update catalog_version set version = version + 1 where id = 1; end`.execute(db);
        }
      }
    },
  }),
  '0006_descending_sort_indexes': () => ({
    async up(db: AnyDb) {
      // "order by <column> desc, id" keeps ties in id order: an ascending index read backwards gives
      // ids descending, so the database sorted the whole match set. These indexes are in exactly the
      // listed order, so a deep page (page 1000 by price desc) is read straight from the index.
      for (const column of ['price_cents', 'rating', 'name']) {
        await sql`create index ${sql.id(`products_${column}_desc_id`)} on products (${sql.id(column)} desc, id)`.execute(db);
      }
      await sql`create index products_category_rating_desc_id on products (category_id, rating desc, id)`.execute(db);
      // Brand listings sorted by name (the filter and the order from one index).
      await db.schema.createIndex('products_brand_lc_name_id').on('products').columns(['brand_lc', 'name', 'id']).execute();
    },
  }),
  '0007_sandboxes': sandboxMigration,
  '0008_events': () => ({
    async up(db: AnyDb) {
      // What happened in each sandbox (spec/sandboxes.md section 3), store and gateway in one
      // timeline. `seq` comes from the sandbox's own counter: gapless however many instances write.
      await db.schema
        .createTable('events')
        .addColumn('sandbox', 'bigint', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('events_sbx_pk', ['sandbox', 'seq'])
        .execute();
      // The last seq handed out (reset keeps it: resumed streams never see a seq twice), and the
      // last gateway event imported into this timeline.
      await db.schema.alterTable('sandboxes').addColumn('event_seq', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('sandboxes').addColumn('gateway_event_seq', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    },
  }),
  // The fault tables (faults/migration.ts), the same on the gateway (its migration 0005).
  '0009_faults': () => ({ up: (db: AnyDb) => faultTablesMigration(db) }),
  '0010_webhooks': () => ({
    async up(db: AnyDb) {
      // Subscriptions, their delivery jobs and every attempt (spec/sandboxes.md section 3). Deleting a
      // sandbox's row deletes all three (cascade); snapshots and forks do not copy them.
      await db.schema
        .createTable('webhooks')
        .addColumn('sandbox', 'bigint', (c) => c.notNull().references('sandboxes.sandbox').onDelete('cascade'))
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('cursor', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('webhooks_pk', ['sandbox', 'id'])
        .execute();

      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('sandbox', 'bigint', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('webhook_id', 'text', (c) => c.notNull())
        .addColumn('event_seq', 'bigint', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('last_attempt', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint')
        .addColumn('leased_until', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('webhook_deliveries_pk', ['sandbox', 'id'])
        .addForeignKeyConstraint('webhook_deliveries_webhook_fk', ['sandbox', 'webhook_id'], 'webhooks', ['sandbox', 'id'], (fk) => fk.onDelete('cascade'))
        .execute();
      // The worker's scan for due attempts across every sandbox (only pending jobs have a due time).
      await db.schema.createIndex('webhook_deliveries_next_attempt_at').on('webhook_deliveries').column('next_attempt_at').execute();
      await db.schema.createIndex('webhook_deliveries_webhook').on('webhook_deliveries').columns(['sandbox', 'webhook_id']).execute();

      await db.schema
        .createTable('webhook_attempts')
        .addColumn('sandbox', 'bigint', (c) => c.notNull())
        .addColumn('delivery_id', 'text', (c) => c.notNull())
        .addColumn('webhook_id', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('http_status', 'integer')
        .addColumn('error', 'text')
        .addColumn('ms', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('webhook_attempts_pk', ['sandbox', 'delivery_id', 'attempt'])
        .addForeignKeyConstraint('webhook_attempts_delivery_fk', ['sandbox', 'delivery_id'], 'webhook_deliveries', ['sandbox', 'id'], (fk) => fk.onDelete('cascade'))
        .execute();
      // The delivery log of one webhook, newest first.
      await db.schema.createIndex('webhook_attempts_webhook_at').on('webhook_attempts').columns(['sandbox', 'webhook_id', 'at']).execute();
    },
  }),
  '0011_checkout_sessions': () => ({
    async up(db: AnyDb) {
      // Agentic Commerce Protocol checkout sessions (issue 11): each holds a cart and, while it is
      // payable, that cart's pending order. Lines, messages, buyer and fulfillment details are the
      // JSON the session was last priced with; states are derived from the order where it decides.
      await db.schema
        .createTable('checkout_sessions')
        .addColumn('sandbox', 'bigint', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('cart_id', 'text')
        .addColumn('order_id', 'text')
        .addColumn('lines', 'text', (c) => c.notNull())
        .addColumn('messages', 'text', (c) => c.notNull())
        .addColumn('buyer', 'text')
        .addColumn('fulfillment_details', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('checkout_sessions_sbx_pk', ['sandbox', 'id'])
        .execute();
    },
  }),
};

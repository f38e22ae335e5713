import { sql, type Kysely } from 'kysely';
import type { SandboxKind, SandboxRow, StoreSchema } from '../db/schema.js';
import { eventRepository } from '../events/repository.js';

/**
 * The store's tables that hold a sandbox's state, parents before children, with the columns a
 * copy carries (everything but the key). Copying rows with their ids is why the key leads every
 * key: two forks of one snapshot hold the same cart, order and payment ids.
 */
const STATE_TABLES = {
  categories: ['id', 'name', 'slug'],
  products: ['id', 'name', 'price_cents', 'category_id', 'brand', 'rating', 'stock', 'description', 'brand_lc', 'name_lc', 'description_lc'],
  carts: ['id', 'created_at', 'updated_at'],
  cart_items: ['cart_id', 'product_id', 'quantity', 'line_no'],
  orders: ['id', 'cart_id', 'total_cents', 'status', 'created_at', 'updated_at', 'expires_at', 'payment_id', 'paid_at', 'reason'],
  order_items: ['order_id', 'line_no', 'product_id', 'name', 'price_cents', 'quantity'],
  idempotency_keys: ['scope', 'key', 'request_hash', 'status_code', 'response_body', 'created_at', 'owner'],
  refunded_payments: ['payment_id', 'order_id', 'created_at'],
  checkout_sessions: ['id', 'status', 'cart_id', 'order_id', 'lines', 'messages', 'buyer', 'fulfillment_details', 'created_at', 'updated_at', 'expires_at'],
} as const;

type StateTable = keyof typeof STATE_TABLES;
const PARENTS_FIRST = Object.keys(STATE_TABLES) as StateTable[];
const CHILDREN_FIRST = [...PARENTS_FIRST].reverse();

/** What a hidden row keeps besides the data: the clock, the seed and the id counter. */
export type SandboxState = Pick<SandboxRow, 'seed' | 'id_counter' | 'frozen_at' | 'offset_ms'>;

export interface SandboxCounts {
  products: number;
  carts: number;
  orders: number;
}

/** Sandbox rows and the one primitive every operation is built from: copy sandbox A's state into B. */
export const sandboxRepository = {
  findLive(db: Kysely<StoreSchema>, publicId: string): Promise<SandboxRow | undefined> {
    return db.selectFrom('sandboxes').selectAll().where('public_id', '=', publicId).executeTakeFirst();
  },

  findHidden(db: Kysely<StoreSchema>, parent: number, kind: SandboxKind, name: string | null): Promise<SandboxRow | undefined> {
    let query = db.selectFrom('sandboxes').selectAll().where('parent', '=', parent).where('kind', '=', kind);
    query = name === null ? query.where('name', 'is', null) : query.where('name', '=', name);
    return query.executeTakeFirst();
  },

  template(db: Kysely<StoreSchema>): Promise<SandboxRow | undefined> {
    return db.selectFrom('sandboxes').selectAll().where('kind', '=', 'template').orderBy('sandbox').executeTakeFirst();
  },

  /** Live sandboxes in creation order (the root first). */
  listLive(db: Kysely<StoreSchema>): Promise<SandboxRow[]> {
    return db.selectFrom('sandboxes').selectAll().where('kind', '=', 'live').orderBy('sandbox').execute();
  },

  snapshots(db: Kysely<StoreSchema>, parent: number): Promise<SandboxRow[]> {
    return db.selectFrom('sandboxes').selectAll().where('parent', '=', parent).where('kind', '=', 'snapshot').orderBy('name').execute();
  },

  async countLive(db: Kysely<StoreSchema>): Promise<number> {
    const row = await db.selectFrom('sandboxes').select((eb) => eb.fn.countAll<number>().as('n')).where('kind', '=', 'live').where('sandbox', '<>', 0).executeTakeFirst();
    return Number(row?.n ?? 0);
  },

  /** Products, carts and orders of each listed sandbox (missing: none). */
  async counts(db: Kysely<StoreSchema>, keys: number[]): Promise<Map<number, SandboxCounts>> {
    const result = new Map<number, SandboxCounts>(keys.map((k) => [k, { products: 0, carts: 0, orders: 0 }]));
    if (keys.length === 0) return result;
    for (const table of ['products', 'carts', 'orders'] as const) {
      const rows = await db
        .selectFrom(table)
        .select(['sandbox', (eb) => eb.fn.countAll<number>().as('n')])
        .where('sandbox', 'in', keys)
        .groupBy('sandbox')
        .execute();
      for (const row of rows) result.get(Number(row.sandbox))![table] = Number(row.n);
    }
    return result;
  },

  /**
   * A new sandboxes row (a fresh key, never used before) with its catalog version; undefined
   * when its public id is taken (a statement that fails would abort a PostgreSQL transaction).
   */
  async insert(db: Kysely<StoreSchema>, row: Omit<SandboxRow, 'sandbox'>): Promise<number | undefined> {
    const inserted = await db.insertInto('sandboxes').values(row).onConflict((oc) => oc.column('public_id').doNothing()).returning('sandbox').executeTakeFirst();
    if (!inserted) return undefined;
    const key = Number(inserted.sandbox);
    await db.insertInto('catalog_version').values({ sandbox: key, version: 0 }).execute();
    return key;
  },

  async update(db: Kysely<StoreSchema>, key: number, changes: Partial<Omit<SandboxRow, 'sandbox'>>): Promise<void> {
    await db.updateTable('sandboxes').set(changes).where('sandbox', '=', key).execute();
  },

  /**
   * Copies every row of sandbox `from` into sandbox `to` (which holds none), one
   * `insert … select` per table in foreign-key order, inside the caller's transaction.
   */
  async copyState(db: Kysely<StoreSchema>, from: number, to: number): Promise<void> {
    for (const table of PARENTS_FIRST) {
      const columns = sql.join(STATE_TABLES[table].map((c) => sql.id(c)));
      await sql`insert into ${sql.id(table)} (sandbox, ${columns}) select ${to}, ${columns} from ${sql.id(table)} where sandbox = ${from}`.execute(db);
    }
  },

  /** Deletes every row of a sandbox's state (its catalog version row stays, so its version keeps moving forward). */
  async clearState(db: Kysely<StoreSchema>, key: number): Promise<void> {
    for (const table of CHILDREN_FIRST) await db.deleteFrom(table).where('sandbox', '=', key).execute();
  },

  /** Deletes a sandboxes row with its state, version, events and fault rules. */
  async remove(db: Kysely<StoreSchema>, key: number): Promise<void> {
    await sandboxRepository.clearState(db, key);
    await eventRepository.clear(db, key);
    await db.deleteFrom('fault_rules').where('sandbox', '=', key).execute();
    await db.deleteFrom('catalog_version').where('sandbox', '=', key).execute();
    await db.deleteFrom('sandboxes').where('sandbox', '=', key).execute();
  },

  /** Live sandboxes idle past their expiry (real time). */
  async idle(db: Kysely<StoreSchema>, now: number): Promise<string[]> {
    const rows = await db.selectFrom('sandboxes').select('public_id').where('kind', '=', 'live').where('expires_at', '<', now).execute();
    return rows.map((r) => r.public_id!);
  },

  /** Marks a sandbox used (real time) and moves its idle expiry. */
  async touch(db: Kysely<StoreSchema>, key: number, now: number, ttlMs: number): Promise<void> {
    await db.updateTable('sandboxes').set({ last_used_at: now, expires_at: now + ttlMs }).where('sandbox', '=', key).where('sandbox', '<>', 0).execute();
  },
};

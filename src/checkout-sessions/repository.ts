import type { CheckoutSessionRow } from '../db/schema.js';
import type { ShopDb } from '../sandboxes/shop.js';

const COLUMNS = ['id', 'status', 'cart_id', 'order_id', 'lines', 'messages', 'buyer', 'fulfillment_details', 'created_at', 'updated_at', 'expires_at'] as const;

export type SessionChanges = Partial<Omit<CheckoutSessionRow, 'id' | 'created_at'>>;

/** Checkout session rows; every method takes the shop handle it runs on (connection or transaction, and sandbox key). */
export const sessionRepository = {
  async insert(db: ShopDb, row: CheckoutSessionRow): Promise<void> {
    await db.q.insertInto('checkout_sessions').values({ ...row, sandbox: db.key }).execute();
  },

  find(db: ShopDb, id: string): Promise<CheckoutSessionRow | undefined> {
    return db.q.selectFrom('checkout_sessions').select(COLUMNS).where('sandbox', '=', db.key).where('id', '=', id).executeTakeFirst();
  },

  /**
   * The row, with its write lock taken first (PostgreSQL; SQLite's BEGIN IMMEDIATE already
   * serialises writers) by rewriting a column with itself: two operations on one session in
   * parallel run one after the other, each seeing what the other committed.
   */
  async lock(db: ShopDb, id: string): Promise<CheckoutSessionRow | undefined> {
    const locked = await db.q
      .updateTable('checkout_sessions')
      .set((eb) => ({ updated_at: eb.ref('updated_at') }))
      .where('sandbox', '=', db.key)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(locked.numUpdatedRows) === 1 ? sessionRepository.find(db, id) : undefined;
  },

  async update(db: ShopDb, id: string, changes: SessionChanges): Promise<void> {
    await db.q.updateTable('checkout_sessions').set(changes).where('sandbox', '=', db.key).where('id', '=', id).execute();
  },
};

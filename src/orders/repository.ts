import type { Kysely } from 'kysely';
import type { OrderItemRow, OrderRow, OrderStatus, StoreSchema } from '../db/schema.js';

export type OrderChanges = Partial<Pick<OrderRow, 'payment_id' | 'paid_at' | 'reason'>>;

/** Order data access; every method takes the handle it runs on, so it joins the caller's transaction. */
export const orderRepository = {
  async insert(db: Kysely<StoreSchema>, order: OrderRow, items: OrderItemRow[]): Promise<void> {
    await db.insertInto('orders').values(order).execute();
    await db.insertInto('order_items').values(items).execute();
  },

  find(db: Kysely<StoreSchema>, id: string): Promise<OrderRow | undefined> {
    return db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
  },

  items(db: Kysely<StoreSchema>, orderId: string): Promise<OrderItemRow[]> {
    return db.selectFrom('order_items').selectAll().where('order_id', '=', orderId).orderBy('line_no').execute();
  },

  /**
   * Moves a pending order to `to`, only if it is still pending and on the right side of its
   * deadline: `expired` needs the deadline passed, every other target needs it ahead. The
   * condition is evaluated by the database on the row itself, so among concurrent attempts
   * (in this process or any other) exactly one succeeds.
   */
  async leavePending(db: Kysely<StoreSchema>, id: string, to: OrderStatus, now: number, changes: OrderChanges = {}): Promise<boolean> {
    const result = await db
      .updateTable('orders')
      .set({ status: to, updated_at: now, ...changes })
      .where('id', '=', id)
      .where('status', '=', 'pending_payment')
      .where('expires_at', to === 'expired' ? '<=' : '>', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  /**
   * Takes the order row's write lock (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises
   * writers) by rewriting a column with itself, so that the rest of the transaction sees, and is
   * seen by, any concurrent payment change of this order in a fixed order.
   */
  async lock(db: Kysely<StoreSchema>, id: string): Promise<void> {
    await db.updateTable('orders').set((eb) => ({ updated_at: eb.ref('updated_at') })).where('id', '=', id).execute();
  },

  /** paid -> refunded, only if the order was paid with this payment. */
  async refundPaid(db: Kysely<StoreSchema>, id: string, paymentId: string, reason: string | null, now: number): Promise<boolean> {
    const result = await db
      .updateTable('orders')
      .set({ status: 'refunded', reason, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'paid')
      .where('payment_id', '=', paymentId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  /** Remembers a payment refunded before the order was paid with it; repeating it changes nothing. */
  async noteRefundedPayment(db: Kysely<StoreSchema>, paymentId: string, orderId: string, now: number): Promise<void> {
    await db
      .insertInto('refunded_payments')
      .values({ payment_id: paymentId, order_id: orderId, created_at: now })
      .onConflict((oc) => oc.column('payment_id').doNothing())
      .execute();
  },

  async isRefundedPayment(db: Kysely<StoreSchema>, paymentId: string): Promise<boolean> {
    return (await db.selectFrom('refunded_payments').select('payment_id').where('payment_id', '=', paymentId).executeTakeFirst()) !== undefined;
  },

  async pendingPastDeadline(db: Kysely<StoreSchema>, now: number, limit: number): Promise<string[]> {
    const rows = await db
      .selectFrom('orders')
      .select('id')
      .where('status', '=', 'pending_payment')
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  },
};

import type { OrderItemRow, OrderRow, OrderStatus } from '../db/schema.js';
import type { ShopDb } from '../sandboxes/shop.js';

const ORDER_COLUMNS = ['id', 'cart_id', 'total_cents', 'status', 'created_at', 'updated_at', 'expires_at', 'payment_id', 'paid_at', 'reason'] as const;

export type OrderChanges = Partial<Pick<OrderRow, 'payment_id' | 'paid_at' | 'reason'>>;

/** Order data access; every method takes the shop handle it runs on (connection or transaction, and sandbox key). */
export const orderRepository = {
  async insert(db: ShopDb, order: OrderRow, items: OrderItemRow[]): Promise<void> {
    await db.q.insertInto('orders').values({ ...order, sandbox: db.key }).execute();
    await db.q.insertInto('order_items').values(items.map((item) => ({ ...item, sandbox: db.key }))).execute();
  },

  find(db: ShopDb, id: string): Promise<OrderRow | undefined> {
    return db.q.selectFrom('orders').select(ORDER_COLUMNS).where('sandbox', '=', db.key).where('id', '=', id).executeTakeFirst();
  },

  items(db: ShopDb, orderId: string): Promise<OrderItemRow[]> {
    return db.q
      .selectFrom('order_items')
      .select(['order_id', 'line_no', 'product_id', 'name', 'price_cents', 'quantity'])
      .where('sandbox', '=', db.key)
      .where('order_id', '=', orderId)
      .orderBy('line_no')
      .execute();
  },

  /**
   * Moves a pending order to `to`, only if it is still pending and on the right side of its
   * deadline: `expired` needs the deadline passed, every other target needs it ahead. The
   * condition is evaluated by the database on the row itself, so among concurrent attempts
   * (in this process or any other) exactly one succeeds.
   */
  async leavePending(db: ShopDb, id: string, to: OrderStatus, now: number, changes: OrderChanges = {}): Promise<boolean> {
    const result = await db.q
      .updateTable('orders')
      .set({ status: to, updated_at: now, ...changes })
      .where('sandbox', '=', db.key)
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
  async lock(db: ShopDb, id: string): Promise<void> {
    await db.q.updateTable('orders').set((eb) => ({ updated_at: eb.ref('updated_at') })).where('sandbox', '=', db.key).where('id', '=', id).execute();
  },

  /** paid -> refunded, only if the order was paid with this payment. */
  async refundPaid(db: ShopDb, id: string, paymentId: string, reason: string | null, now: number): Promise<boolean> {
    const result = await db.q
      .updateTable('orders')
      .set({ status: 'refunded', reason, updated_at: now })
      .where('sandbox', '=', db.key)
      .where('id', '=', id)
      .where('status', '=', 'paid')
      .where('payment_id', '=', paymentId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  /** Remembers a payment refunded before the order was paid with it; repeating it changes nothing. */
  async noteRefundedPayment(db: ShopDb, paymentId: string, orderId: string, now: number): Promise<void> {
    await db.q
      .insertInto('refunded_payments')
      .values({ sandbox: db.key, payment_id: paymentId, order_id: orderId, created_at: now })
      .onConflict((oc) => oc.columns(['sandbox', 'payment_id']).doNothing())
      .execute();
  },

  async isRefundedPayment(db: ShopDb, paymentId: string): Promise<boolean> {
    const row = await db.q.selectFrom('refunded_payments').select('payment_id').where('sandbox', '=', db.key).where('payment_id', '=', paymentId).executeTakeFirst();
    return row !== undefined;
  },

  async pendingPastDeadline(db: ShopDb, now: number, limit: number): Promise<string[]> {
    const rows = await db.q
      .selectFrom('orders')
      .select('id')
      .where('sandbox', '=', db.key)
      .where('status', '=', 'pending_payment')
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  },
};

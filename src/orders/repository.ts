import type { Kysely } from 'kysely';
import { prepare } from '../db/prepared.js';
import type { OrderItemRow, OrderRow, OrderStatus, StoreSchema } from '../db/schema.js';
import type { ShopDb } from '../sandboxes/shop.js';

const ORDER_COLUMNS = ['id', 'cart_id', 'total_cents', 'status', 'created_at', 'updated_at', 'expires_at', 'payment_id', 'paid_at', 'reason'] as const;

export type OrderChanges = Partial<Pick<OrderRow, 'payment_id' | 'paid_at' | 'reason'>>;

type Q = Kysely<StoreSchema>;
type Keyed<T> = T & { key: number };

/** Leaving pending_payment, by the deadline's side: `expired` needs it passed (`<=`), any other target ahead (`>`). */
const leavePending = (deadline: '<=' | '>') =>
  prepare((db: Q, p: Keyed<Required<OrderChanges> & { id: string; to: OrderStatus; now: number }>) =>
    db
      .updateTable('orders')
      .set({ status: p.to, updated_at: p.now, payment_id: p.payment_id, paid_at: p.paid_at, reason: p.reason })
      .where('sandbox', '=', p.key)
      .where('id', '=', p.id)
      .where('status', '=', 'pending_payment')
      .where('expires_at', deadline, p.now));

/** The statements of a purchase, compiled once (db/prepared.ts). */
const statements = {
  insert: prepare((db: Q, p: Keyed<OrderRow>) =>
    db.insertInto('orders').values({
      sandbox: p.key, id: p.id, cart_id: p.cart_id, total_cents: p.total_cents, status: p.status, created_at: p.created_at, updated_at: p.updated_at,
      expires_at: p.expires_at, payment_id: p.payment_id, paid_at: p.paid_at, reason: p.reason,
    })),
  insertItem: prepare((db: Q, p: Keyed<OrderItemRow>) =>
    db.insertInto('order_items').values({ sandbox: p.key, order_id: p.order_id, line_no: p.line_no, product_id: p.product_id, name: p.name, price_cents: p.price_cents, quantity: p.quantity })),
  find: prepare((db: Q, p: { key: number; id: string }) => db.selectFrom('orders').select(ORDER_COLUMNS).where('sandbox', '=', p.key).where('id', '=', p.id)),
  items: prepare((db: Q, p: { key: number; orderId: string }) =>
    db
      .selectFrom('order_items')
      .select(['order_id', 'line_no', 'product_id', 'name', 'price_cents', 'quantity'])
      .where('sandbox', '=', p.key)
      .where('order_id', '=', p.orderId)
      .orderBy('line_no')),
  expire: leavePending('<='),
  settle: leavePending('>'),
  isRefundedPayment: prepare((db: Q, p: { key: number; paymentId: string }) =>
    db.selectFrom('refunded_payments').select('payment_id').where('sandbox', '=', p.key).where('payment_id', '=', p.paymentId)),
  pendingPastDeadline: prepare((db: Q, p: { key: number; now: number; limit: number }) =>
    db.selectFrom('orders').select('id').where('sandbox', '=', p.key).where('status', '=', 'pending_payment').where('expires_at', '<=', p.now).orderBy('expires_at').limit(p.limit)),
};

/** Order data access; every method takes the shop handle it runs on (connection or transaction, and sandbox key). */
export const orderRepository = {
  /** The order and its lines (a statement per line: one compiled statement, whatever the number of lines). */
  async insert(db: ShopDb, order: OrderRow, items: OrderItemRow[]): Promise<void> {
    await statements.insert.execute(db.q, { ...order, key: db.key });
    for (const item of items) await statements.insertItem.execute(db.q, { ...item, key: db.key });
  },

  find(db: ShopDb, id: string): Promise<OrderRow | undefined> {
    return statements.find.first(db.q, { key: db.key, id });
  },

  items(db: ShopDb, orderId: string): Promise<OrderItemRow[]> {
    return statements.items.all(db.q, { key: db.key, orderId });
  },

  /**
   * Moves a pending order to `to`, only if it is still pending and on the right side of its
   * deadline: `expired` needs the deadline passed, every other target needs it ahead. The
   * condition is evaluated by the database on the row itself, so among concurrent attempts
   * (in this process or any other) exactly one succeeds. A pending order has no payment, payment
   * time or reason, so the columns `changes` leaves out stay null.
   */
  async leavePending(db: ShopDb, id: string, to: OrderStatus, now: number, changes: OrderChanges = {}): Promise<boolean> {
    const values = { key: db.key, id, to, now, payment_id: changes.payment_id ?? null, paid_at: changes.paid_at ?? null, reason: changes.reason ?? null };
    return (await (to === 'expired' ? statements.expire : statements.settle).affected(db.q, values)) === 1;
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
    return (await statements.isRefundedPayment.first(db.q, { key: db.key, paymentId })) !== undefined;
  },

  async pendingPastDeadline(db: ShopDb, now: number, limit: number): Promise<string[]> {
    return (await statements.pendingPastDeadline.all(db.q, { key: db.key, now, limit })).map((r) => r.id);
  },
};

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { inventory, notEnoughStock } from '../catalog/inventory.js';
import { cartNotFound } from '../cart/service.js';
import { cartRepository as carts } from '../cart/repository.js';
import type { Database } from '../db/database.js';
import type { OrderItemRow, OrderRow, OrderStatus, StoreSchema } from '../db/schema.js';
import { newOrderId } from '../shared/ids.js';
import { toAmount, toCents } from '../shared/money.js';
import { fail, ok, type Result } from '../shared/result.js';
import { orderRepository as orders } from './repository.js';

export const CHECKOUT_MESSAGE = 'Send order_id and total to the payments backend to complete purchase.';

export interface CheckoutResult {
  order_id: string;
  total: number;
  message: string;
}

export interface OrderView {
  order_id: string;
  cart_id: string;
  items: { product_id: number; quantity: number; price: number; line_total: number }[];
  total: number;
  status: OrderStatus;
  payment_id?: string;
  paid_at?: string;
  reason?: string;
  expires_at?: string;
}

export interface PaymentOutcome {
  order_id: string;
  status: string;
  amount?: number | undefined;
  payment_id?: string | undefined;
  reason?: string | undefined;
}

export interface ConfirmResult {
  order_id: string;
  status: 'paid' | 'payment_failed';
  message: string;
}

interface CheckoutLine {
  product_id: number;
  name: string;
  price_cents: number;
  quantity: number;
}

/** A pending order whose deadline has passed is expired, whether or not a sweep has recorded it yet. */
const effectiveStatus = (order: OrderRow, now: number): OrderStatus =>
  order.status === 'pending_payment' && order.expires_at <= now ? 'expired' : order.status;

/**
 * Product rows are always locked in id order, so that two transactions touching the same
 * products (carts holding [1, 2] and [2, 1]) queue behind each other instead of deadlocking.
 */
const byProductId = <T extends { product_id: number }>(lines: T[]): T[] => [...lines].sort((a, b) => a.product_id - b.product_id);

const orderNotFound = () => fail('not_found', 'Order not found');
const alreadyProcessed = (status: OrderStatus) => fail('rejected', `Order already processed (status: ${status})`);
const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());

/**
 * The order lifecycle: checkout reserves stock and creates a `pending_payment` order in one
 * transaction; a payment makes it `paid` (stock stays sold, cart deleted) or `payment_failed`;
 * a deadline makes it `expired`, a customer makes it `cancelled`. Leaving `pending_payment`
 * returns the reserved stock, except to `paid`.
 */
export class OrderService {
  constructor(
    private readonly database: Database<StoreSchema>,
    private readonly log: Logger,
    private readonly cartIdleSince: () => number,
    private readonly orderTtlMs: number,
  ) {}

  /** Checkout as named steps inside one transaction; a failing step rolls back all before it. */
  async checkout(cartId: string): Promise<Result<CheckoutResult>> {
    // Holds past their deadline are returned before stock is taken: they never block a checkout.
    await this.expireDue();
    const result = await this.database.transact(async (trx) => {
      const now = Date.now();
      const lines = await this.loadCheckoutLines(trx, cartId);
      if (!lines.ok) return lines;
      const held = await this.holdStock(trx, lines.value);
      if (!held.ok) return held;
      return ok(await this.createOrder(trx, cartId, lines.value, now));
    });
    if (result.ok) this.log.info({ order_id: result.value.order_id, cart_id: cartId, total: result.value.total }, 'order created: pending_payment');
    return result;
  }

  private async loadCheckoutLines(trx: Kysely<StoreSchema>, cartId: string): Promise<Result<CheckoutLine[]>> {
    if (!(await carts.live(trx, cartId, this.cartIdleSince()))) return cartNotFound();
    const lines = await carts.lines(trx, cartId);
    if (lines.length === 0) return fail('rejected', 'Cart is empty');
    const priced: CheckoutLine[] = [];
    for (const line of lines) {
      if (line.name === null || line.price_cents === null) return fail('rejected', `Product ${line.product_id} no longer exists`);
      priced.push({ product_id: line.product_id, name: line.name, price_cents: line.price_cents, quantity: line.quantity });
    }
    return ok(priced);
  }

  private async holdStock(trx: Kysely<StoreSchema>, lines: CheckoutLine[]): Promise<Result<void>> {
    for (const line of byProductId(lines)) {
      if (!(await inventory.reserve(trx, line.product_id, line.quantity))) {
        const current = await inventory.available(trx, line.product_id);
        return notEnoughStock(line.name, line.quantity, current?.stock ?? 0);
      }
    }
    return ok(undefined);
  }

  private async createOrder(trx: Kysely<StoreSchema>, cartId: string, lines: CheckoutLine[], now: number): Promise<CheckoutResult> {
    const id = newOrderId();
    const items: OrderItemRow[] = lines.map((line, index) => ({ order_id: id, line_no: index + 1, ...line }));
    const totalCents = lines.reduce((sum, line) => sum + line.price_cents * line.quantity, 0);
    await orders.insert(
      trx,
      {
        id,
        cart_id: cartId,
        total_cents: totalCents,
        status: 'pending_payment',
        created_at: now,
        updated_at: now,
        expires_at: now + this.orderTtlMs,
        payment_id: null,
        paid_at: null,
        reason: null,
      },
      items,
    );
    return { order_id: id, total: toAmount(totalCents), message: CHECKOUT_MESSAGE };
  }

  async get(orderId: string): Promise<Result<OrderView>> {
    const db = this.database.db;
    let order = await orders.find(db, orderId);
    if (!order) return orderNotFound();
    if (effectiveStatus(order, Date.now()) === 'expired' && order.status === 'pending_payment') {
      await this.expire(orderId);
      order = (await orders.find(db, orderId)) ?? order;
    }
    const items = await orders.items(db, orderId);
    return ok(this.view(order, items));
  }

  private view(order: OrderRow, items: OrderItemRow[]): OrderView {
    const view: OrderView = {
      order_id: order.id,
      cart_id: order.cart_id,
      items: items.map((i) => ({
        product_id: i.product_id,
        quantity: i.quantity,
        price: toAmount(i.price_cents),
        line_total: toAmount(i.price_cents * i.quantity),
      })),
      total: toAmount(order.total_cents),
      status: effectiveStatus(order, Date.now()),
    };
    if (order.payment_id !== null) view.payment_id = order.payment_id;
    if (order.paid_at !== null) view.paid_at = iso(order.paid_at);
    if (order.reason !== null) view.reason = order.reason;
    if (view.status === 'pending_payment') view.expires_at = iso(order.expires_at);
    return view;
  }

  /** Applies the payment gateway's verdict. Checks run in the contract's order. */
  async confirmPayment(outcome: PaymentOutcome): Promise<Result<ConfirmResult>> {
    const verdict = outcome.status.toLowerCase();
    const result = await this.database.transact<ConfirmResult>(async (trx) => {
      const now = Date.now();
      const order = await orders.find(trx, outcome.order_id);
      if (!order) return orderNotFound();
      if (verdict !== 'success' && verdict !== 'failed') return fail('rejected', "status must be either 'success' or 'failed'");
      const status = effectiveStatus(order, now);
      if (status !== 'pending_payment') return alreadyProcessed(status);
      if (outcome.amount !== undefined && toCents(outcome.amount) !== order.total_cents) {
        return fail('rejected', `Amount ${outcome.amount} does not match order total ${toAmount(order.total_cents)}`);
      }
      if (verdict === 'success') {
        const changes = { paid_at: now, payment_id: outcome.payment_id ?? null };
        if (!(await orders.leavePending(trx, order.id, 'paid', now, changes))) return this.lostRace(trx, order.id, now);
        // A paid cart is done with; a failed one stays so the customer can check out again.
        await carts.delete(trx, order.cart_id);
        return ok({ order_id: order.id, status: 'paid', message: 'Payment confirmed. Stock updated.' });
      }
      const changes = { payment_id: outcome.payment_id ?? null, reason: outcome.reason ?? null };
      if (!(await orders.leavePending(trx, order.id, 'payment_failed', now, changes))) return this.lostRace(trx, order.id, now);
      await this.releaseStock(trx, order.id);
      return ok({ order_id: order.id, status: 'payment_failed', message: 'Payment failed. Order not fulfilled.' });
    });
    if (result.ok) {
      this.log.info({ order_id: outcome.order_id, payment_id: outcome.payment_id, reason: outcome.reason }, `order ${result.value.status}`);
    }
    return result;
  }

  /** Another transaction changed the order between our read and our update (or its deadline passed). */
  private async lostRace(trx: Kysely<StoreSchema>, orderId: string, now: number): Promise<Result<never>> {
    const fresh = await orders.find(trx, orderId);
    return fresh ? alreadyProcessed(effectiveStatus(fresh, now)) : orderNotFound();
  }

  async cancel(orderId: string): Promise<Result<OrderView>> {
    const result = await this.database.transact(async (trx) => {
      const now = Date.now();
      const order = await orders.find(trx, orderId);
      if (!order) return orderNotFound();
      const status = effectiveStatus(order, now);
      if (status !== 'pending_payment') return alreadyProcessed(status);
      if (!(await orders.leavePending(trx, orderId, 'cancelled', now))) return this.lostRace(trx, orderId, now);
      await this.releaseStock(trx, orderId);
      const cancelled = await orders.find(trx, orderId);
      return ok(this.view(cancelled!, await orders.items(trx, orderId)));
    });
    if (result.ok) this.log.info({ order_id: orderId }, 'order cancelled');
    return result;
  }

  /** Expires one order if it is pending past its deadline; true if this call did it. */
  async expire(orderId: string): Promise<boolean> {
    const result = await this.database.transact(async (trx) => {
      if (!(await orders.leavePending(trx, orderId, 'expired', Date.now()))) return ok(false);
      await this.releaseStock(trx, orderId);
      return ok(true);
    });
    const expired = result.ok && result.value;
    if (expired) this.log.info({ order_id: orderId }, 'order expired: reserved stock returned');
    return expired;
  }

  /** Expires every pending order past its deadline, a batch at a time; safe to run in many processes at once. */
  async expireDue(batch = 200): Promise<number> {
    let count = 0;
    for (;;) {
      const due = await orders.pendingPastDeadline(this.database.db, Date.now(), batch);
      for (const id of due) if (await this.expire(id)) count++;
      if (due.length < batch) return count;
    }
  }

  private async releaseStock(trx: Kysely<StoreSchema>, orderId: string): Promise<void> {
    for (const item of byProductId(await orders.items(trx, orderId))) await inventory.release(trx, item.product_id, item.quantity);
  }
}

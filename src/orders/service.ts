import type { Logger } from 'pino';
import { inventory, notEnoughStock } from '../catalog/inventory.js';
import { cartNotFound } from '../cart/service.js';
import { cartRepository as carts } from '../cart/repository.js';
import type { OrderItemRow, OrderRow, OrderStatus } from '../db/schema.js';
import type { FaultTx } from '../faults/book.js';
import { outsideAnswer } from '../http/idempotency.js';
import type { IdSource, Shop, ShopDb, ShopTx } from '../sandboxes/shop.js';
import { toAmount, toCents } from '../shared/money.js';
import { fail, ok, type Result } from '../shared/result.js';
import { PaymentConfirmations, type ConfirmResult, type PaymentOutcome } from './confirmations.js';
import { alreadyProcessed, byProductId, effectiveStatus, lostRace, orderNotFound, releaseStock } from './lifecycle.js';
import { orderRepository as orders } from './repository.js';
import { recordEvent } from '../events/recorder.js';
import { isoTime } from '../shared/time.js';

export type { ConfirmResult, PaymentOutcome } from './confirmations.js';

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

interface CheckoutLine {
  product_id: number;
  name: string;
  price_cents: number;
  quantity: number;
}

const iso = (ms: number | null) => (ms === null ? undefined : isoTime(ms));

/**
 * The order lifecycle: checkout reserves stock and creates a `pending_payment` order in one
 * transaction; a payment makes it `paid` (stock stays sold, cart deleted) or `payment_failed`,
 * and a refund of that payment makes a paid order `refunded` (confirmations.ts); a deadline
 * makes it `expired`, a customer makes it `cancelled`. Leaving `pending_payment` returns the
 * reserved stock, except to `paid`.
 */
export class OrderService {
  private readonly confirmations: PaymentConfirmations;

  constructor(
    private readonly shop: Shop,
    private readonly log: Logger,
    private readonly cartIdleSince: () => number,
    private readonly orderTtlMs: number,
  ) {
    this.confirmations = new PaymentConfirmations(shop, log);
  }

  /** Checkout as named steps inside one transaction; a failing step rolls back all before it. */
  async checkout(cartId: string): Promise<Result<CheckoutResult>> {
    // Holds past their deadline are returned before stock is taken: they never block a checkout.
    await this.expireDue();
    // An out_of_stock fault is fired before the transaction, whose refusal rolls back, so the firing counts.
    const outOfStock = await this.fireOutOfStock(undefined, async () => (await carts.lines(this.shop.db, cartId)).map((l) => l.product_id));
    const result = await this.shop.transact((tx) => this.checkoutIn(tx, cartId, outOfStock));
    if (result.ok) this.logCheckout(result.value, cartId);
    return result;
  }

  /**
   * Checkout inside the caller's transaction (a checkout session prices its cart this way, with
   * its own rows in the same transaction). On a failure the caller must roll back: the order rows
   * may be written already. The caller logs the order with `logCheckout` once it has committed.
   */
  async checkoutIn({ db: trx, ids }: ShopTx, cartId: string, outOfStock?: ReadonlySet<number>): Promise<Result<CheckoutResult>> {
    const now = this.shop.clock.now();
    const lines = await this.loadCheckoutLines(trx, cartId);
    if (!lines.ok) return lines;
    // Fault rules (spec/sandboxes.md section 2): fired in this transaction unless the caller fired the out_of_stock ones before it.
    const faults: FaultTx = { q: trx.q, fired: [] };
    const refused = outOfStock ?? (await this.fireOutOfStock(faults, async () => lines.value.map((l) => l.product_id)));
    const priced = await this.applyPriceChanges(faults, lines.value);
    // The order rows go in first and the stock last: a product row's lock (every checkout of that
    // product waits for it) is then held for one statement and the commit, not for the inserts
    // too. Not enough stock rolls the order back with everything else.
    const order = await this.createOrder(trx, ids, cartId, priced, now);
    const held = await this.holdStock(trx, priced, refused);
    if (!held.ok) return held;
    await this.shop.faults.record(faults);
    await recordEvent(trx, now, 'order.created', {
      order_id: order.order_id, cart_id: cartId, total: order.total,
      items: priced.map((l) => ({ product_id: l.product_id, quantity: l.quantity, price: toAmount(l.price_cents) })),
    });
    return ok(order);
  }

  /** The state-change log line of a committed checkout. */
  logCheckout(order: Pick<CheckoutResult, 'order_id' | 'total'>, cartId: string): void {
    this.log.info({ order_id: order.order_id, cart_id: cartId, total: order.total }, 'order created: pending_payment');
  }

  private async loadCheckoutLines(trx: ShopDb, cartId: string): Promise<Result<CheckoutLine[]>> {
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

  /**
   * Products of a checkout (`productIds`) an out_of_stock fault refuses (spec/sandboxes.md section
   * 2), fired in `faults` (the checkout's transaction) or, without it, each in its own (before the
   * checkout's transaction, whose refusal rolls back, so the firing counts).
   */
  private async fireOutOfStock(faults: FaultTx | undefined, productIds: () => Promise<number[]>): Promise<ReadonlySet<number>> {
    const refused = new Set<number>();
    // No rule (the common case): the products are not even read.
    if ((await this.shop.faults.ofKind('out_of_stock', faults?.q)).length === 0) return refused;
    for (const productId of await productIds()) {
      if (await this.shop.faults.fireFirst(faults, 'out_of_stock', { product_id: productId }, (r) => r.product_id === productId)) refused.add(productId);
    }
    return refused;
  }

  /**
   * price_change faults: a line of a product named by one takes the rule's price, so the order's
   * total differs from the cart's. Fired in the checkout's transaction: only a checkout that
   * happens counts.
   */
  private async applyPriceChanges(faults: FaultTx, lines: CheckoutLine[]): Promise<CheckoutLine[]> {
    if ((await this.shop.faults.ofKind('price_change', faults.q)).length === 0) return lines;
    const priced: CheckoutLine[] = [];
    for (const line of lines) {
      const rule = await this.shop.faults.fireFirst(faults, 'price_change', { product_id: line.product_id, catalog_price: toAmount(line.price_cents) }, (r) => r.product_id === line.product_id);
      priced.push(rule ? { ...line, price_cents: toCents(rule.price) } : line);
    }
    return priced;
  }

  private async holdStock(trx: ShopDb, lines: CheckoutLine[], outOfStock: ReadonlySet<number>): Promise<Result<void>> {
    for (const line of byProductId(lines)) {
      if (outOfStock.has(line.product_id)) return notEnoughStock(line.name, line.quantity, 0);
      if (!(await inventory.reserve(trx, line.product_id, line.quantity))) {
        const current = await inventory.available(trx, line.product_id);
        return notEnoughStock(line.name, line.quantity, current?.stock ?? 0);
      }
    }
    return ok(undefined);
  }

  private async createOrder(trx: ShopDb, ids: IdSource, cartId: string, lines: CheckoutLine[], now: number): Promise<CheckoutResult> {
    const id = await ids.order();
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
    const db = this.shop.db;
    let order = await orders.find(db, orderId);
    if (!order) return orderNotFound();
    if (effectiveStatus(order, this.shop.clock.now()) === 'expired' && order.status === 'pending_payment') {
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
      status: effectiveStatus(order, this.shop.clock.now()),
    };
    if (order.payment_id !== null) view.payment_id = order.payment_id;
    if (order.paid_at !== null) view.paid_at = iso(order.paid_at);
    if (order.reason !== null) view.reason = order.reason;
    if (view.status === 'pending_payment') view.expires_at = iso(order.expires_at);
    return view;
  }

  /** Applies the payment gateway's news about an order (confirmations.ts). */
  confirmPayment(outcome: PaymentOutcome): Promise<Result<ConfirmResult>> {
    return this.confirmations.confirm(outcome);
  }

  async cancel(orderId: string): Promise<Result<OrderView>> {
    const result = await this.shop.transact(({ db }) => this.cancelIn(db, orderId));
    if (result.ok) this.logCancel(orderId);
    return result;
  }

  /** Cancels a pending order inside the caller's transaction, returning its stock; the caller logs with `logCancel` after commit. */
  async cancelIn(trx: ShopDb, orderId: string): Promise<Result<OrderView>> {
    const now = this.shop.clock.now();
    const order = await orders.find(trx, orderId);
    if (!order) return orderNotFound();
    const status = effectiveStatus(order, now);
    if (status !== 'pending_payment') return alreadyProcessed(status);
    if (!(await orders.leavePending(trx, orderId, 'cancelled', now))) return lostRace(trx, orderId, now);
    await releaseStock(trx, orderId);
    await recordEvent(trx, now, 'order.cancelled', { order_id: orderId, total: toAmount(order.total_cents) });
    const cancelled = await orders.find(trx, orderId);
    return ok(this.view(cancelled!, await orders.items(trx, orderId)));
  }

  /** The state-change log line of a committed cancellation. */
  logCancel(orderId: string): void {
    this.log.info({ order_id: orderId }, 'order cancelled');
  }

  /** Expires one order if it is pending past its deadline; true if this call did it. */
  async expire(orderId: string): Promise<boolean> {
    const result = await this.shop.transact(async ({ db: trx }) => {
      const now = this.shop.clock.now();
      if (!(await orders.leavePending(trx, orderId, 'expired', now))) return ok(false);
      await releaseStock(trx, orderId);
      await recordEvent(trx, now, 'order.expired', { order_id: orderId });
      return ok(true);
    });
    const expired = result.ok && result.value;
    if (expired) this.log.info({ order_id: orderId }, 'order expired: reserved stock returned');
    return expired;
  }

  /**
   * Expires every pending order of this shop past its deadline (its clock), a batch at a time; safe
   * to run in many processes at once. Housekeeping: inside an idempotent request (a checkout with
   * an Idempotency-Key) these transactions must not record that request's answer.
   */
  expireDue(batch = 200): Promise<number> {
    return outsideAnswer(async () => {
      let count = 0;
      for (;;) {
        const due = await orders.pendingPastDeadline(this.shop.db, this.shop.clock.now(), batch);
        for (const id of due) if (await this.expire(id)) count++;
        if (due.length < batch) return count;
      }
    });
  }
}

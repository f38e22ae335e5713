import type { Logger } from 'pino';
import { cartRepository as carts } from '../cart/repository.js';
import type { OrderRow, OrderStatus } from '../db/schema.js';
import type { Shop, ShopDb } from '../sandboxes/shop.js';
import { parseMoney, toAmount } from '../shared/money.js';
import { fail, ok, type Result } from '../shared/result.js';
import { alreadyProcessed, effectiveStatus, lostRace, orderNotFound, releaseStock } from './lifecycle.js';
import { orderRepository as orders } from './repository.js';
import { recordEvent } from '../events/recorder.js';

/** The body of POST /payments/confirm: what the gateway (or, unsigned, anyone) reports. */
export interface PaymentOutcome {
  order_id: string;
  status: string;
  amount?: number | undefined;
  payment_id?: string | undefined;
  reason?: string | undefined;
}

export interface ConfirmResult {
  order_id: string;
  status: OrderStatus;
  message: string;
}

export const CONFIRM_MESSAGES = {
  paid: 'Payment confirmed. Stock updated.',
  failed: 'Payment failed. Order not fulfilled.',
  refunded: 'Payment refunded. Order refunded; its stock is not restocked.',
  refundNoted: 'Refund noted: the order was not paid with this payment.',
  badStatus: "status must be either 'success' or 'failed'",
  refundNeedsPayment: "payment_id is required when status is 'refunded'",
} as const;

/** The news the order was already settled with (same payment, same outcome): a repeat. */
const isRepeat = (order: OrderRow | undefined, paymentId: string | undefined, target: OrderStatus): boolean =>
  order !== undefined && paymentId !== undefined && order.payment_id === paymentId && order.status === target;

const answer = (order: OrderRow, status: OrderStatus, message: string): Result<ConfirmResult> => ok({ order_id: order.id, status, message });

/**
 * The gateway's news about an order's payment, applied once whatever the number of deliveries:
 * - `success`: pending_payment -> paid (stock stays sold, cart deleted). The same success again
 *   (same payment_id, a retry whose first answer was lost) is acknowledged and changes nothing;
 *   a success for a payment already reported refunded is refused.
 * - `failed`: pending_payment -> payment_failed (stock returned); the same failure again is acknowledged.
 * - `refunded`: an order paid with that payment -> refunded (final; stock is not restocked, which
 *   is a merchant's decision). For any other order the payment is remembered as refunded, so the
 *   order stays as it is (a pending one stays payable) and a late success for it cannot pay it.
 * Checks run in the contract's order (compatibility.md): unknown order, status, already processed, amount.
 */
export class PaymentConfirmations {
  constructor(
    private readonly shop: Shop,
    private readonly log: Logger,
  ) {}

  async confirm(outcome: PaymentOutcome): Promise<Result<ConfirmResult>> {
    const verdict = outcome.status.toLowerCase();
    // The gateway's news of this payment (payment.succeeded, ...) goes in the timeline before the order's change.
    await this.shop.importGatewayEvents(true);
    const result = await this.shop.transact<ConfirmResult>(async ({ db: trx }) => {
      const order = await orders.find(trx, outcome.order_id);
      if (!order) return orderNotFound();
      if (verdict === 'refunded') return this.refunded(trx, order, outcome.payment_id, outcome.reason);
      if (verdict !== 'success' && verdict !== 'failed') return fail('rejected', CONFIRM_MESSAGES.badStatus);
      return this.settle(trx, order, verdict, outcome);
    });
    if (result.ok) {
      const context = { order_id: outcome.order_id, payment_id: outcome.payment_id, reason: outcome.reason, event: verdict };
      if (result.value.message === CONFIRM_MESSAGES.refundNoted) this.log.info({ ...context, status: result.value.status }, 'refund noted for a payment the order was not paid with');
      else this.log.info(context, `order ${result.value.status}`);
    }
    return result;
  }

  private async settle(trx: ShopDb, order: OrderRow, verdict: 'success' | 'failed', outcome: PaymentOutcome): Promise<Result<ConfirmResult>> {
    const now = this.shop.clock.now();
    const target = verdict === 'success' ? 'paid' : 'payment_failed';
    const message = verdict === 'success' ? CONFIRM_MESSAGES.paid : CONFIRM_MESSAGES.failed;
    // A repeat of the news the order was settled with: acknowledged, nothing changes.
    if (isRepeat(order, outcome.payment_id, target)) return answer(order, target, message);
    const status = effectiveStatus(order, now);
    if (status !== 'pending_payment') return alreadyProcessed(status);
    if (outcome.amount !== undefined) {
      const money = parseMoney(outcome.amount);
      if (!money.ok) return fail('rejected', money.message);
      if (money.cents !== order.total_cents) return fail('rejected', `Amount ${outcome.amount} does not match order total ${toAmount(order.total_cents)}`);
    }
    const changes = verdict === 'success' ? { paid_at: now, payment_id: outcome.payment_id ?? null } : { payment_id: outcome.payment_id ?? null, reason: outcome.reason ?? null };
    if (!(await orders.leavePending(trx, order.id, target, now, changes))) {
      // A concurrent delivery of this very news may have won (PostgreSQL runs them side by side): that is a repeat too.
      const fresh = await orders.find(trx, order.id);
      if (isRepeat(fresh, outcome.payment_id, target)) return answer(order, target, message);
      return lostRace(trx, order.id, now);
    }
    // Checked after the update, which holds the order's row lock: a concurrent refund of this payment
    // has either committed its note (seen here: roll back) or waits and then finds the order paid.
    if (verdict === 'success' && outcome.payment_id !== undefined && (await orders.isRefundedPayment(trx, outcome.payment_id))) {
      return fail('rejected', `Payment ${outcome.payment_id} was refunded`);
    }
    if (verdict === 'success') await carts.delete(trx, order.cart_id); // a paid cart is done with; a failed one stays
    else await releaseStock(trx, order.id);
    await recordEvent(trx, now, verdict === 'success' ? 'order.paid' : 'order.payment_failed', {
      order_id: order.id, payment_id: outcome.payment_id ?? null, total: toAmount(order.total_cents), ...(verdict === 'failed' ? { reason: outcome.reason ?? null } : {}),
    });
    return answer(order, target, message);
  }

  private async refunded(trx: ShopDb, found: OrderRow, paymentId: string | undefined, reason: string | undefined): Promise<Result<ConfirmResult>> {
    if (paymentId === undefined) return fail('rejected', CONFIRM_MESSAGES.refundNeedsPayment);
    const now = this.shop.clock.now();
    await orders.lock(trx, found.id);
    const order = (await orders.find(trx, found.id)) ?? found;
    if (isRepeat(order, paymentId, 'refunded')) return answer(order, 'refunded', CONFIRM_MESSAGES.refunded);
    if (await orders.refundPaid(trx, order.id, paymentId, reason ?? null, now)) return answer(order, 'refunded', CONFIRM_MESSAGES.refunded);
    await orders.noteRefundedPayment(trx, paymentId, order.id, now);
    return answer(order, effectiveStatus(order, now), CONFIRM_MESSAGES.refundNoted);
  }
}

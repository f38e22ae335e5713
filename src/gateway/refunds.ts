import { toAmount, type Cents } from '../shared/money.js';
import type { Db, GatewayContext } from './context.js';
import type { Ledger } from './ledger.js';
import type { CallbackEvent, Payment } from './repository.js';

/**
 * Why money went back: the store refused the success callback (4xx), a client asked
 * (POST /payments/{id}/refund), or no success callback got through after every retry.
 */
export type RefundReason = 'store_rejected' | 'refund_requested' | 'callback_undelivered';

export interface Refund {
  payment: Payment;
  reason: RefundReason;
  balanceCents: Cents;
}

/** The JSON body of a callback to the store (`POST /payments/confirm`), keys in this order. */
export function callbackPayload(payment: Pick<Payment, 'order_id' | 'amount_cents' | 'payment_id'>, status: CallbackEvent, reason?: string): string {
  return JSON.stringify({
    order_id: payment.order_id,
    status,
    amount: toAmount(payment.amount_cents),
    payment_id: payment.payment_id,
    ...(reason === undefined ? {} : { reason }),
  });
}

/**
 * succeeded -> refunded (at `now`, the sandbox's time), the money back and a refund movement, in the caller's transaction.
 * Unless the store itself refused the payment (it already knows), the store is told: the
 * payment's callback job gets the `refunded` message instead of whatever it was delivering, so
 * a success still waiting for a retry is never sent after the refund.
 * Undefined if the payment is not (or no longer) succeeded: of concurrent refunds one wins.
 */
export async function refundWithin(ctx: GatewayContext, ledger: Ledger, trx: Db, paymentId: string, reason: RefundReason, now: number): Promise<Refund | undefined> {
  // Account first, as a payment does: both lock in the same order, so they cannot deadlock.
  await ledger.balance(trx, true);
  const payment = await ctx.repo.payment(trx, paymentId);
  if (!payment || !(await ctx.repo.markRefunded(trx, paymentId, reason, now))) return undefined;
  const entry = await ledger.move(trx, {
    type: 'refund',
    recipient: null,
    order_id: payment.order_id,
    payment_id: paymentId,
    amount_cents: payment.amount_cents,
    created_at: now,
  });
  if (reason !== 'store_rejected') await ctx.repo.replaceMessage(trx, paymentId, callbackPayload(payment, 'refunded', reason), now, Date.now());
  await ctx.record(trx, now, 'payment.refunded', { payment_id: paymentId, order_id: payment.order_id, amount: toAmount(payment.amount_cents), reason });
  return { payment, reason, balanceCents: entry.balance_after_cents };
}

export function logRefund(ctx: GatewayContext, refund: Refund): void {
  const { payment } = refund;
  ctx.log.info(
    { payment_id: payment.payment_id, order_id: payment.order_id, amount: toAmount(payment.amount_cents), balance: toAmount(refund.balanceCents), reason: refund.reason },
    'payment refunded',
  );
}

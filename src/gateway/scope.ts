import type { GatewayContext } from './context.js';
import { Deliveries, type CallbackSender, type ClaimedCallback, type DeliveryOptions } from './deliveries.js';
import { Ledger } from './ledger.js';
import { OrderPayments, type KeyedMutex } from './payments.js';
import type { Answer } from './requests.js';

/** What every scope of one process shares: the sender, the delivery settings, the per-order queue. */
export interface ScopeShared {
  sender: CallbackSender;
  options: DeliveryOptions;
  orderLocks: KeyedMutex;
}

/**
 * The gateway's rules for one sandbox, behind one facade for the HTTP layer and the callback
 * worker: the account (ledger.ts), order payments and refunds (payments.ts, refunds.ts) and the
 * store callbacks (deliveries.ts), all over the sandbox's own rows, clock and ids. Made per
 * request (or per callback job) by GatewayService; every method answers with the status code and
 * JSON body of the old Flask gateway's contract (compatibility.md).
 */
export class PaymentsScope {
  private readonly ledger: Ledger;
  private readonly deliveries: Deliveries;
  private readonly orders: OrderPayments;

  constructor(readonly ctx: GatewayContext, shared: ScopeShared) {
    this.ledger = new Ledger(ctx);
    this.deliveries = new Deliveries(ctx, this.ledger, shared.sender, shared.options);
    this.orders = new OrderPayments(ctx, shared.orderLocks, this.ledger, this.deliveries, shared.options);
  }

  balance(): Promise<Answer> {
    return this.ledger.balanceAnswer();
  }

  /** POST /pay */
  pay(body: unknown): Promise<Answer> {
    return this.ledger.pay(body);
  }

  /** POST /payments/orders and /pay/order */
  payOrder(body: unknown): Promise<Answer> {
    return this.orders.payOrder(body);
  }

  transactions(): Promise<Answer> {
    return this.ledger.transactions();
  }

  reset(): Promise<Answer> {
    return this.ledger.reset();
  }

  payment(paymentId: string): Promise<Answer> {
    return this.orders.payment(paymentId);
  }

  payments(orderId: string | undefined): Promise<Answer> {
    return this.orders.payments(orderId);
  }

  refund(paymentId: string): Promise<Answer> {
    return this.orders.refund(paymentId);
  }

  /** One background attempt at a claimed job of this sandbox. */
  deliver(claim: ClaimedCallback): Promise<void> {
    return this.deliveries.deliver(claim);
  }
}

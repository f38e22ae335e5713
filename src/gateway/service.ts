import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import { GatewayContext } from './context.js';
import { Deliveries, type CallbackSender, type ClaimedCallback, type DeliveryOptions } from './deliveries.js';
import { Ledger } from './ledger.js';
import { OrderPayments } from './payments.js';
import type { GatewaySchema } from './repository.js';
import type { Answer } from './requests.js';

export type { Answer } from './requests.js';
export type { CallbackSender, ClaimedCallback, DeliveryOutcome } from './deliveries.js';
export type GatewayServiceOptions = DeliveryOptions;

/**
 * The gateway's rules behind one facade for the HTTP layer and the callback worker: the account
 * (ledger.ts), order payments and refunds (payments.ts, refunds.ts) and the store callbacks
 * (deliveries.ts). No HTTP server here: every method answers with the status code and JSON body
 * of the old Flask gateway's contract (compatibility.md).
 */
export class GatewayService {
  private readonly ledger: Ledger;
  private readonly deliveries: Deliveries;
  private readonly orders: OrderPayments;

  constructor(database: Database<GatewaySchema>, sender: CallbackSender, log: Logger, options: GatewayServiceOptions) {
    const ctx = new GatewayContext(database, log);
    this.ledger = new Ledger(ctx);
    this.deliveries = new Deliveries(ctx, this.ledger, sender, options);
    this.orders = new OrderPayments(ctx, this.ledger, this.deliveries, options);
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

  claimDueCallbacks(limit: number): Promise<ClaimedCallback[]> {
    return this.deliveries.claimDue(limit);
  }

  deliver(claim: ClaimedCallback): Promise<void> {
    return this.deliveries.deliver(claim);
  }
}

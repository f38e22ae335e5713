import type { Logger } from 'pino';
import type { CheckoutSessionRow, CheckoutSessionStatus, OrderRow } from '../db/schema.js';
import { orderRepository as orders } from '../orders/repository.js';
import type { PaymentAttempt } from '../sandboxes/gateway-client.js';
import type { Shop, ShopDb } from '../sandboxes/shop.js';
import { toAmount } from '../shared/money.js';
import { ok, type Result } from '../shared/result.js';
import { acpFail } from './errors.js';
import { priceItems, pricedColumns, repeatedItem, repeatedItemFailure, withPricing, type Pricing } from './pricing.js';
import {
  FINAL_STATUSES,
  currentState,
  errorMessage,
  infoMessage,
  readSession,
  sessionView,
  type CheckoutSessionView,
  type Item,
  type Session,
} from './model.js';
import { sessionRepository as sessions } from './repository.js';

/** The body of create and update (unknown fields are ignored, as the protocol asks for forward compatibility). */
export interface SessionInput {
  items?: Item[];
  buyer?: Record<string, unknown>;
  fulfillment_details?: Record<string, unknown>;
}

/** The body of complete: `payment_data.token` is a test card number (digits), as at the gateway. */
export interface CompleteInput {
  buyer?: Record<string, unknown>;
  payment_data: { token: string };
}

/** How the session pays its order: the gateway of the same sandbox (GatewayClient.payOrder). */
export interface OrderPayer {
  payOrder(sandboxId: string, payment: { order_id: string; amount: number; card_number: string }): Promise<Result<PaymentAttempt>>;
}

/** How long complete waits for the gateway's callback to mark the order paid before answering `in_progress`. */
const SETTLE_WAIT_MS = 3000;
const SETTLE_STEP_MS = 25;

const notFound = () => acpFail(404, 'session_not_found', 'Checkout session not found');
const notAllowed = (operation: string, status: CheckoutSessionStatus) =>
  acpFail(405, status === 'in_progress' ? 'payment_in_progress' : `session_${status}`, `Checkout session is ${status}: it cannot be ${operation}`);

/**
 * Agentic Commerce Protocol checkout sessions (spec/sandboxes.md section 4) over the shop's
 * carts, orders and gateway, with no commerce rules of their own:
 * - a session keeps its items in a cart; when every item can be sold, that cart is checked out
 *   into a `pending_payment` order whose hold reserves the stock: `ready_for_payment`. Otherwise
 *   no order is placed, and each problem is a message (`out_of_stock`, `invalid`) naming its line:
 *   `not_ready_for_payment`. Create and update price this way in one transaction;
 * - update cancels the pending order (its stock returns) and prices again;
 * - complete pays that order through the gateway of the same sandbox, as a client would, then
 *   reads the order the gateway's callback settled: `completed` once paid; a declined payment is a
 *   `payment_declined` message, with the items priced again into a new order so the agent can
 *   retry with another card; a callback not there after SETTLE_WAIT_MS is `in_progress`;
 * - cancel cancels the pending order (stock returned): `canceled`;
 * - past its order's deadline (the shop's clock) an unpaid session is `expired` and cannot be
 *   completed. Final sessions (completed, canceled, expired) refuse every change with 405.
 */
export class CheckoutSessionService {
  constructor(
    private readonly shop: Shop,
    private readonly payer: OrderPayer,
    /** Base URL of the shop's API (the sandbox's store_url): the order permalinks point there. */
    private readonly storeUrl: string,
    /** The request's logger: state changes are logged at info. */
    private readonly log: Pick<Logger, 'info'>,
  ) {}

  async create(input: SessionInput & { items: Item[] }): Promise<Result<CheckoutSessionView>> {
    const repeated = repeatedItem(input.items);
    if (repeated !== undefined) return repeatedItemFailure(repeated);
    await this.shop.orders.expireDue();
    let priced: Pricing | undefined;
    const result = await withPricing(this.shop, async (tx) => {
      const now = this.shop.clock.now();
      const id = await tx.ids.checkoutSession();
      const pricing = await priceItems(this.shop, tx, null, input.items);
      if (!pricing.ok) return pricing;
      priced = pricing.value;
      await sessions.insert(tx.db, {
        id,
        ...pricedColumns(pricing.value),
        buyer: input.buyer === undefined ? null : JSON.stringify(input.buyer),
        fulfillment_details: input.fulfillment_details === undefined ? null : JSON.stringify(input.fulfillment_details),
        created_at: now,
        updated_at: now,
      });
      return ok((await this.viewIn(tx.db, id))!);
    });
    if (result.ok) this.logPriced('checkout session created', result.value, priced!);
    return result;
  }

  async get(id: string): Promise<Result<CheckoutSessionView>> {
    const view = await this.viewIn(this.shop.db, id);
    return view ? ok(view) : notFound();
  }

  async update(id: string, input: SessionInput): Promise<Result<CheckoutSessionView>> {
    const repeated = input.items && repeatedItem(input.items);
    if (repeated !== undefined) return repeatedItemFailure(repeated);
    await this.shop.orders.expireDue();
    let priced: Pricing | undefined;
    let released: string | undefined;
    const result = await withPricing(this.shop, async (tx) => {
      const locked = await this.lockedState(tx.db, id);
      if (!locked.ok) return locked;
      const { session, order, status } = locked.value;
      if (FINAL_STATUSES.includes(status) || status === 'in_progress') return notAllowed('updated', status);
      released = await this.releaseHold(tx.db, order);
      const items = input.items ?? session.lines.map(({ id: itemId, quantity }) => ({ id: itemId, quantity }));
      const pricing = await priceItems(this.shop, tx, session.row.cart_id, items);
      if (!pricing.ok) return pricing;
      priced = pricing.value;
      await sessions.update(tx.db, id, {
        ...pricedColumns(pricing.value),
        ...(input.buyer === undefined ? {} : { buyer: JSON.stringify(input.buyer) }),
        ...(input.fulfillment_details === undefined ? {} : { fulfillment_details: JSON.stringify(input.fulfillment_details) }),
        updated_at: this.shop.clock.now(),
      });
      return ok((await this.viewIn(tx.db, id))!);
    });
    if (result.ok) {
      if (released) this.shop.orders.logCancel(released);
      this.logPriced('checkout session updated', result.value, priced!);
    }
    return result;
  }

  async cancel(id: string): Promise<Result<CheckoutSessionView>> {
    let released: string | undefined;
    const result = await this.shop.transact(async ({ db }) => {
      const locked = await this.lockedState(db, id);
      if (!locked.ok) return locked;
      const { order, status } = locked.value;
      if (FINAL_STATUSES.includes(status)) return notAllowed('canceled', status);
      released = await this.releaseHold(db, order);
      await sessions.update(db, id, { status: 'canceled', messages: JSON.stringify([infoMessage('Checkout session has been canceled.')]), updated_at: this.shop.clock.now() });
      return ok((await this.viewIn(db, id))!);
    });
    if (result.ok) {
      if (released) this.shop.orders.logCancel(released);
      this.log.info({ checkout_session_id: id, released_order_id: released }, 'checkout session canceled');
    }
    return result;
  }

  /**
   * Pays the session's order at the gateway, waits for the gateway's callback, and records the
   * outcome in one transaction (the only one whose answer an Idempotency-Key replays). Paying
   * twice is harmless: the gateway answers a repeat for a paid order with its first answer.
   */
  async complete(id: string, input: CompleteInput): Promise<Result<CheckoutSessionView>> {
    const current = await this.state(this.shop.db, id);
    if (!current) return notFound();
    const { session, order, status } = current;
    if (FINAL_STATUSES.includes(status)) return notAllowed('completed', status);
    // Nothing to pay: the session's messages say what to change first.
    if (status === 'not_ready_for_payment' || !order) return ok(sessionView(session, current, this.storeUrl));

    const attempt = await this.payer.payOrder(this.shop.sandbox.id, { order_id: order.id, amount: toAmount(order.total_cents), card_number: input.payment_data.token });
    if (!attempt.ok) {
      return attempt.kind === 'unavailable'
        ? acpFail(503, 'payment_gateway_unavailable', attempt.message, undefined, 'service_unavailable')
        : acpFail(502, 'payment_error', attempt.message, undefined, 'processing_error');
    }
    await this.settled(order.id);

    let priced: Pricing | undefined;
    let released: string | undefined;
    const result = await withPricing(this.shop, async (tx) => {
      const locked = await this.lockedState(tx.db, id);
      if (!locked.ok) return locked;
      const now = this.shop.clock.now();
      const { session: fresh, order: settled, status: after } = locked.value;
      const buyer = input.buyer === undefined ? {} : { buyer: JSON.stringify(input.buyer) };
      if (after === 'completed') {
        await sessions.update(tx.db, id, { status: 'completed', messages: '[]', ...buyer, updated_at: now });
        return ok((await this.viewIn(tx.db, id))!);
      }
      if (FINAL_STATUSES.includes(after)) return notAllowed('completed', after);
      if (fresh.row.order_id !== order.id) {
        return acpFail(409, 'session_changed', 'The session was updated while its order was being paid, so that payment does not count for it; read the session and complete it again');
      }
      if (attempt.value.outcome === 'accepted' && settled?.status === 'pending_payment') {
        const waiting = infoMessage('The payment was accepted; the payments gateway has not confirmed it to the store yet. Read the session until it is completed.');
        await sessions.update(tx.db, id, { status: 'in_progress', messages: JSON.stringify([waiting]), ...buyer, updated_at: now });
        return ok((await this.viewIn(tx.db, id))!);
      }
      // Declined (or failed after the gateway's answer): the hold goes, the items are priced into a new order.
      released = await this.releaseHold(tx.db, settled);
      const reason = attempt.value.outcome === 'declined' ? `${attempt.value.reason}: ${attempt.value.message}` : (settled?.reason ?? settled?.status ?? 'unknown');
      const declined = errorMessage('payment_declined', `The payment was declined (${reason}). Complete the session again with another payment method.`, 'requires_buyer_input', '$.payment_data');
      const pricing = await priceItems(this.shop, tx, fresh.row.cart_id, fresh.lines, [declined]);
      if (!pricing.ok) return pricing;
      priced = pricing.value;
      await sessions.update(tx.db, id, { ...pricedColumns(pricing.value), ...buyer, updated_at: now });
      return ok((await this.viewIn(tx.db, id))!);
    });
    if (result.ok) {
      if (released) this.shop.orders.logCancel(released);
      if (priced) this.logPriced('checkout session payment declined', result.value, priced);
      else this.log.info({ checkout_session_id: id, order_id: order.id, status: result.value.status }, `checkout session ${result.value.status}`);
    }
    return result;
  }

  // ---------------------------------------------------------------------------------------------

  /** The session, its order and its current status (see currentState), read on `db`. */
  private async state(db: ShopDb, id: string, row?: CheckoutSessionRow) {
    const found = row ?? (await sessions.find(db, id));
    if (!found) return undefined;
    const session = readSession(found);
    const order = found.order_id === null ? undefined : await orders.find(db, found.order_id);
    return { session, order, ...currentState(session, order, this.shop.clock.now()) };
  }

  /** Like state, with the session row locked for the rest of the transaction. */
  private async lockedState(db: ShopDb, id: string): Promise<Result<{ session: Session; order: OrderRow | undefined; status: CheckoutSessionStatus }>> {
    const row = await sessions.lock(db, id);
    const found = row && (await this.state(db, id, row));
    return found ? ok(found) : notFound();
  }

  private async viewIn(db: ShopDb, id: string): Promise<CheckoutSessionView | undefined> {
    const found = await this.state(db, id);
    return found && sessionView(found.session, found, this.storeUrl);
  }

  /** Cancels the session's order if it still holds stock; returns its id when it did. */
  private async releaseHold(db: ShopDb, order: OrderRow | undefined): Promise<string | undefined> {
    if (!order || order.status !== 'pending_payment' || order.expires_at <= this.shop.clock.now()) return undefined;
    const cancelled = await this.shop.orders.cancelIn(db, order.id);
    return cancelled.ok ? order.id : undefined;
  }

  private logPriced(what: string, view: CheckoutSessionView, pricing: Pricing): void {
    if (pricing.order_id !== null) {
      const total = view.totals.find((t) => t.type === 'total')?.amount ?? 0;
      this.shop.orders.logCheckout({ order_id: pricing.order_id, total: toAmount(total) }, pricing.cart_id);
    }
    this.log.info({ checkout_session_id: view.id, status: view.status, order_id: pricing.order_id, problems: view.messages.filter((m) => m.type === 'error').map((m) => m.code) }, what);
  }

  /** Waits (real time, at most SETTLE_WAIT_MS) for the gateway's callback to move the order out of pending_payment. */
  private async settled(orderId: string): Promise<void> {
    const deadline = Date.now() + SETTLE_WAIT_MS;
    while (Date.now() < deadline) {
      const order = await orders.find(this.shop.db, orderId);
      if (order?.status !== 'pending_payment') return;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_STEP_MS));
    }
  }
}

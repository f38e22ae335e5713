import type { CheckoutSessionRow, CheckoutSessionStatus, OrderRow } from '../db/schema.js';
import { effectiveStatus as orderStatus } from '../orders/lifecycle.js';
import { isoTime as iso } from '../shared/time.js';

/**
 * Checkout sessions as the Agentic Commerce Protocol shows them (API version 2026-01-16,
 * spec/2026-01-16/openapi/openapi.agentic_checkout.yaml of agentic-commerce-protocol), built
 * from our rows. Every amount is integer cents (the protocol's minor units).
 */
export const ACP_API_VERSION = '2026-01-16';
export const CURRENCY = 'usd';

/** An item as the agent sends it: a product id as a string, and how many. */
export interface Item {
  id: string;
  quantity: number;
}

/** A requested item as last priced. Unknown products keep their place with no name and no price. */
export interface SessionLine extends Item {
  product_id: number | null;
  name: string | null;
  /** Cents per unit. */
  unit_amount: number;
}

export type MessageCode = 'missing' | 'invalid' | 'out_of_stock' | 'payment_declined';
export type Resolution = 'recoverable' | 'requires_buyer_input' | 'requires_buyer_review';

/** A business problem or a note, inside a valid session (MessageError / MessageInfo, plus `resolution` from 2026-02-04). */
export interface Message {
  type: 'error' | 'info';
  /** Errors only. */
  code?: MessageCode;
  /** RFC 9535 JSONPath of what the message is about, e.g. `$.line_items[0]`. */
  param?: string;
  content_type: 'plain';
  content: string;
  resolution?: Resolution;
}

/** A business problem: `param` names the line (`$.line_items[i]`), `resolution` who can fix it. */
export const errorMessage = (code: MessageCode, content: string, resolution: Resolution, param?: string): Message => ({
  type: 'error',
  code,
  ...(param === undefined ? {} : { param }),
  content_type: 'plain',
  content,
  resolution,
});

/** A note for the agent (a canceled session, a payment awaiting confirmation). */
export const infoMessage = (content: string): Message => ({ type: 'info', content_type: 'plain', content });

/** What the session response carries (CheckoutSession / CheckoutSessionWithOrder). */
export interface CheckoutSessionView {
  id: string;
  status: CheckoutSessionStatus;
  currency: string;
  buyer?: unknown;
  line_items: LineItemView[];
  fulfillment_details?: unknown;
  fulfillment_options: never[];
  totals: { type: 'items_base_amount' | 'subtotal' | 'tax' | 'total'; display_text: string; amount: number }[];
  messages: Message[];
  links: never[];
  created_at: string;
  updated_at: string;
  expires_at: string;
  order?: { id: string; checkout_session_id: string; permalink_url: string };
}

export interface LineItemView {
  id: string;
  item: Item;
  name?: string;
  unit_amount: number;
  base_amount: number;
  discount: number;
  subtotal: number;
  tax: number;
  total: number;
}

/** Statuses from which nothing more happens: every operation but GET answers 405. */
export const FINAL_STATUSES: readonly CheckoutSessionStatus[] = ['completed', 'canceled', 'expired'];

/** The stored row with its JSON columns read. */
export interface Session {
  row: CheckoutSessionRow;
  lines: SessionLine[];
  messages: Message[];
}

/** A stored row with its JSON columns parsed. */
export const readSession = (row: CheckoutSessionRow): Session => ({
  row,
  lines: JSON.parse(row.lines) as SessionLine[],
  messages: JSON.parse(row.messages) as Message[],
});

/**
 * The session's status now (the shop's clock), from its row and its order, with the messages to
 * show. The order decides where it has moved on without the session: paid (by the gateway's
 * callback, even after the session's answer) is `completed`; an unpaid session past its deadline
 * is `expired` (its order has expired with it and returned the stock); a payable session whose
 * order is no longer pending (cancelled through /orders, or a payment that failed after the
 * session's answer) must be updated to be placed again.
 */
export function currentState(session: Session, order: OrderRow | undefined, now: number): { status: CheckoutSessionStatus; messages: Message[] } {
  const { row } = session;
  if (row.status === 'completed' || row.status === 'canceled') return { status: row.status, messages: session.messages };
  const orderNow = order ? orderStatus(order, now) : undefined;
  if (orderNow === 'paid' || orderNow === 'refunded') return { status: 'completed', messages: [] };
  if (now >= row.expires_at) {
    return { status: 'expired', messages: [infoMessage(`This checkout session expired at ${new Date(row.expires_at).toISOString()}; its items are no longer held. Create a new session.`)] };
  }
  if ((row.status === 'ready_for_payment' || row.status === 'in_progress') && orderNow !== 'pending_payment') {
    const content =
      row.status === 'in_progress'
        ? `The payment did not go through (the order is ${orderNow}${order?.reason ? `: ${order.reason}` : ''}). Update the session to place the order again, then complete it.`
        : `The order of this session is ${orderNow}. Update the session to place it again.`;
    return { status: 'not_ready_for_payment', messages: [errorMessage(row.status === 'in_progress' ? 'payment_declined' : 'invalid', content, 'recoverable')] };
  }
  return { status: row.status, messages: session.messages };
}


/** The line items and totals of priced lines (no discounts, no tax, no fulfillment cost: the store has none). */
function amounts(lines: SessionLine[]): Pick<CheckoutSessionView, 'line_items' | 'totals'> {
  const line_items = lines.map((line, index): LineItemView => {
    const base = line.unit_amount * line.quantity;
    return {
      id: `line_item_${index + 1}`,
      item: { id: line.id, quantity: line.quantity },
      ...(line.name === null ? {} : { name: line.name }),
      unit_amount: line.unit_amount,
      base_amount: base,
      discount: 0,
      subtotal: base,
      tax: 0,
      total: base,
    };
  });
  const sum = line_items.reduce((total, line) => total + line.total, 0);
  return {
    line_items,
    totals: [
      { type: 'items_base_amount', display_text: 'Item(s) total', amount: sum },
      { type: 'subtotal', display_text: 'Subtotal', amount: sum },
      { type: 'tax', display_text: 'Tax', amount: 0 },
      { type: 'total', display_text: 'Total', amount: sum },
    ],
  };
}

/**
 * The session as the protocol shows it. `storeUrl` is the base URL of the session's shop (the
 * sandbox's `store_url`): a completed session's `order.permalink_url` is its `GET /orders/{id}`.
 */
export function sessionView(session: Session, state: { status: CheckoutSessionStatus; messages: Message[] }, storeUrl: string): CheckoutSessionView {
  const { row } = session;
  const { line_items, totals } = amounts(session.lines);
  const view: CheckoutSessionView = {
    id: row.id,
    status: state.status,
    currency: CURRENCY,
    ...(row.buyer === null ? {} : { buyer: JSON.parse(row.buyer) as unknown }),
    line_items,
    ...(row.fulfillment_details === null ? {} : { fulfillment_details: JSON.parse(row.fulfillment_details) as unknown }),
    fulfillment_options: [],
    totals,
    messages: state.messages,
    links: [],
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
    expires_at: iso(row.expires_at),
  };
  if (state.status === 'completed' && row.order_id !== null) {
    view.order = { id: row.order_id, checkout_session_id: row.id, permalink_url: `${storeUrl}/orders/${row.order_id}` };
  }
  return view;
}

import { MONEY_MESSAGES, parseMoney, toAmount, type Cents } from '../shared/money.js';

/**
 * What the gateway accepts: the request bodies of the old Flask gateway, checked in its order
 * with its messages (compatibility.md), and the test cards that decide a payment's fate.
 */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** The parsed body of a request that is not a JSON document (bad JSON, another content type). */
export const NOT_JSON = Symbol('not JSON');

export const failed = (status: number, message: string, extra: Record<string, unknown> = {}): Answer => ({
  status,
  body: { status: 'failed', message, ...extra },
});

export const MESSAGES = {
  notJson: 'Request body must be JSON',
  payFieldsRequired: "Both 'amount' and 'recipient' fields are required",
  orderFieldsRequired: "Both 'order_id' and 'amount' fields are required",
  badAmount: MONEY_MESSAGES.notPositive,
  badCard: 'card_number must be a string of digits',
  insufficientFunds: 'Insufficient funds',
  paymentNotFound: 'Payment not found',
  alreadyRefunded: 'Payment already refunded',
  notRefundable: 'Only successful payments can be refunded',
} as const;

export const MAX_TEXT_LENGTH = 200;
const badText = (field: string) => `'${field}' must be a string of at most ${MAX_TEXT_LENGTH} characters`;

/** An amount as cents, plus how messages print it ("100", "179.98": the client's number, to the cent). */
export interface Amount {
  cents: Cents;
  text: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; answer: Answer };
export const invalid = (message: string): { ok: false; answer: Answer } => ({ ok: false, answer: failed(400, message) });

/**
 * Money only from a JSON number (shared/money.ts: parseMoney). Text ("100", "1e2", " 5 "), booleans
 * and anything else get "Amount must be a positive number", as the old gateway answered them.
 */
function parseAmount(value: unknown): Parsed<Amount> {
  const money = parseMoney(value);
  if (!money.ok) return invalid(money.message);
  return { ok: true, value: { cents: money.cents, text: String(toAmount(money.cents)) } };
}

/** A recipient or order id: a string (a JSON number is taken as its decimal spelling). */
function parseText(value: unknown): string | undefined {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  return typeof text === 'string' && text.length <= MAX_TEXT_LENGTH ? text : undefined;
}

const missing = (value: unknown): boolean => value === undefined || value === null || (typeof value === 'string' && value.trim() === '');

/** Flask's `request.get_json(silent=True)` being truthy: a non-empty JSON object. Anything else is "not JSON". */
function jsonObject(body: unknown): Record<string, unknown> | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  return Object.keys(body).length > 0 ? (body as Record<string, unknown>) : undefined;
}

const field = (object: Record<string, unknown>, name: string): unknown => (Object.hasOwn(object, name) ? object[name] : undefined);

export interface PayRequest {
  amount: Amount;
  recipient: string;
}

export function parsePayRequest(body: unknown): Parsed<PayRequest> {
  const data = jsonObject(body);
  if (!data) return invalid(MESSAGES.notJson);
  const rawAmount = field(data, 'amount');
  const rawRecipient = field(data, 'recipient');
  if (rawAmount === undefined || rawAmount === null || missing(rawRecipient)) return invalid(MESSAGES.payFieldsRequired);
  const amount = parseAmount(rawAmount);
  if (!amount.ok) return amount;
  const recipient = parseText(rawRecipient);
  if (recipient === undefined) return invalid(badText('recipient'));
  return { ok: true, value: { amount: amount.value, recipient } };
}

export interface OrderPaymentRequest {
  orderId: string;
  amount: Amount;
  /** Digits only; undefined when no card was given. */
  card: string | undefined;
}

export function parseOrderPayment(body: unknown): Parsed<OrderPaymentRequest> {
  const data = jsonObject(body);
  if (!data) return invalid(MESSAGES.notJson);
  const rawOrderId = field(data, 'order_id');
  const rawAmount = field(data, 'amount');
  if (missing(rawOrderId) || rawAmount === undefined || rawAmount === null) return invalid(MESSAGES.orderFieldsRequired);
  const amount = parseAmount(rawAmount);
  if (!amount.ok) return amount;
  const orderId = parseText(rawOrderId);
  if (orderId === undefined) return invalid(badText('order_id'));
  const rawCard = field(data, 'card_number');
  let card: string | undefined;
  if (rawCard !== undefined && rawCard !== null) {
    card = typeof rawCard === 'string' ? rawCard.replace(/ /g, '') : undefined;
    if (card === undefined || !/^\d+$/.test(card)) return invalid(MESSAGES.badCard);
  }
  return { ok: true, value: { orderId, amount: amount.value, card } };
}

// ---------------------------------------------------------------------------------------------
// Test cards and declines.

export interface Decline {
  reason: 'card_declined' | 'insufficient_funds' | 'processing_error';
  message: string;
}

const INSUFFICIENT_FUNDS: Decline = { reason: 'insufficient_funds', message: MESSAGES.insufficientFunds };

/** Stripe-style test numbers. Any other digits (or no card) pay from the account. */
export const TEST_CARDS: Readonly<Record<string, Decline>> = {
  '4000000000000002': { reason: 'card_declined', message: 'Card declined' },
  '4000000000009995': INSUFFICIENT_FUNDS,
  '4000000000000119': { reason: 'processing_error', message: 'Processing error' },
};

/** Why a payment fails, if it does: the card's verdict first, then the balance. */
export function declineFor(card: string | undefined, amountCents: Cents, balanceCents: Cents): Decline | undefined {
  const test = card === undefined ? undefined : TEST_CARDS[card];
  if (test) return test;
  return amountCents > balanceCents ? INSUFFICIENT_FUNDS : undefined;
}

/** The decline a test card of this reason gives (a payment_decline fault's); undefined for none. */
export function declineOf(reason: Decline['reason'] | undefined): Decline | undefined {
  if (reason === undefined) return undefined;
  return reason === 'insufficient_funds' ? INSUFFICIENT_FUNDS : Object.values(TEST_CARDS).find((d) => d.reason === reason);
}

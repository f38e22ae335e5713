import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import { newPaymentId } from '../shared/ids.js';
import { toAmount, type Cents } from '../shared/money.js';
import { ok } from '../shared/result.js';
import { DEFAULT_ACCOUNT } from './migrations.js';
import {
  GatewayRepository,
  type CallbackAttempt,
  type CallbackJob,
  type CallbackState,
  type GatewaySchema,
  type LedgerEntry,
  type Payment,
} from './repository.js';

/**
 * The gateway's rules: the account, payments to a recipient, order payments with test cards,
 * the store callback's bookkeeping and refunds. No HTTP server here: every method answers with
 * the status code and JSON body of the old Flask gateway's contract (compatibility.md), which is
 * also what a repeated order payment replays.
 */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

type Db = Kysely<GatewaySchema>;

const ACCOUNT_ID = DEFAULT_ACCOUNT.id;

const failed = (status: number, message: string, extra: Record<string, unknown> = {}): Answer => ({
  status,
  body: { status: 'failed', message, ...extra },
});

const iso = (ms: number): string => new Date(ms).toISOString();

// ---------------------------------------------------------------------------------------------
// Request rules. Checks run in the contract's order: the first failing one answers.

export const MESSAGES = {
  notJson: 'Request body must be JSON',
  payFieldsRequired: "Both 'amount' and 'recipient' fields are required",
  orderFieldsRequired: "Both 'order_id' and 'amount' fields are required",
  badAmount: 'Amount must be a positive number',
  badCard: 'card_number must be a string of digits',
  insufficientFunds: 'Insufficient funds',
  paymentNotFound: 'Payment not found',
  alreadyRefunded: 'Payment already refunded',
  notRefundable: 'Only successful payments can be refunded',
} as const;

export const MAX_TEXT_LENGTH = 200;
const badText = (field: string) => `'${field}' must be a string of at most ${MAX_TEXT_LENGTH} characters`;

/** An amount as cents, plus the client's own spelling of it for messages. */
export interface Amount {
  cents: Cents;
  text: string;
}

/** What Python's float() reads, minus inf and nan. */
const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/**
 * A finite number > 0 with at most two decimals, given as a JSON number or a numeric string
 * ("100", as float() would accept). Booleans, other types, and amounts past 2^53 cents are refused.
 */
export function parseAmount(value: unknown): Amount | undefined {
  let amount: number;
  if (typeof value === 'number') amount = value;
  else if (typeof value === 'string' && NUMERIC.test(value.trim())) amount = Number(value.trim());
  else return undefined;
  if (!Number.isFinite(amount) || amount <= 0) return undefined;
  // The shortest decimal spelling of the double read: "179.98" for 179.98, "1e-7" for 0.0000001.
  const spelled = String(amount);
  if (/e/i.test(spelled)) return undefined;
  const dot = spelled.indexOf('.');
  if (dot >= 0 && spelled.length - dot - 1 > 2) return undefined;
  const cents = Math.round(amount * 100);
  if (!Number.isSafeInteger(cents) || cents < 1) return undefined;
  return { cents, text: typeof value === 'number' ? String(value) : (value as string) };
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

type Parsed<T> = { ok: true; value: T } | { ok: false; answer: Answer };
const invalid = (message: string): { ok: false; answer: Answer } => ({ ok: false, answer: failed(400, message) });

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
  if (!amount) return invalid(MESSAGES.badAmount);
  const recipient = parseText(rawRecipient);
  if (recipient === undefined) return invalid(badText('recipient'));
  return { ok: true, value: { amount, recipient } };
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
  if (!amount) return invalid(MESSAGES.badAmount);
  const orderId = parseText(rawOrderId);
  if (orderId === undefined) return invalid(badText('order_id'));
  const rawCard = field(data, 'card_number');
  let card: string | undefined;
  if (rawCard !== undefined && rawCard !== null) {
    card = typeof rawCard === 'string' ? rawCard.replace(/ /g, '') : undefined;
    if (card === undefined || !/^\d+$/.test(card)) return invalid(MESSAGES.badCard);
  }
  return { ok: true, value: { orderId, amount, card } };
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

// ---------------------------------------------------------------------------------------------
// Store callbacks.

/** How one delivery attempt to the store ended. */
export type DeliveryOutcome = { signed: boolean } & (
  | { kind: 'delivered'; httpStatus: number }
  /** A 4xx: the store will not take this callback; delivery ends. */
  | { kind: 'refused'; httpStatus: number; detail: string }
  /** Unreachable, timed out, 5xx (or anything else): try again later. */
  | { kind: 'retry'; httpStatus: number | null; error: string }
);

export interface CallbackSender {
  send(payload: string): Promise<DeliveryOutcome>;
}

/** Exponential backoff with jitter: base * 2^(attempt-1) * random(0.5..1.5). */
export function backoffDelay(attempt: number, baseDelayMs: number, random: () => number = Math.random): number {
  return Math.round(baseDelayMs * 2 ** (attempt - 1) * (0.5 + random()));
}

export interface ClaimedCallback {
  paymentId: string;
  /** The number this attempt gets (1 is the inline one). */
  attempt: number;
  payload: string;
}

interface Refund {
  payment: Payment;
  balanceCents: Cents;
}

interface AttemptEffect {
  paymentId: string;
  orderId: string;
  attempt: number;
  outcome: DeliveryOutcome;
  state: CallbackState;
  nextAttemptAt: number | undefined;
  refund: Refund | undefined;
}

/** Runs fn for a key after every earlier call for that key has finished (one process). */
class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => gate);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

export interface GatewayServiceOptions {
  callbackMaxAttempts: number;
  callbackBaseDelayMs: number;
  /** How long one attempt holds its job before another worker may take it over. */
  callbackLeaseMs: number;
  random?: () => number;
}

// ---------------------------------------------------------------------------------------------

export class GatewayService {
  private readonly repo: GatewayRepository;
  /** Requests for one order queue up in this process, so a repeat gets the first one's final answer. */
  private readonly orderLocks = new KeyedMutex();

  constructor(
    private readonly database: Database<GatewaySchema>,
    private readonly sender: CallbackSender,
    private readonly log: Logger,
    private readonly options: GatewayServiceOptions,
  ) {
    this.repo = new GatewayRepository(database.dialect);
  }

  /** One transaction; every path through fn commits (answers that change nothing write nothing). */
  private async tx<T>(fn: (trx: Db) => Promise<T>): Promise<T> {
    const result = await this.database.transact(async (trx) => ok(await fn(trx)));
    if (!result.ok) throw new Error(result.message);
    return result.value;
  }

  async balance(): Promise<Answer> {
    const account = await this.repo.account(this.database.db, ACCOUNT_ID);
    return {
      status: 200,
      body: { status: 'success', account_id: account.id, holder: account.holder, balance: toAmount(account.balance_cents) },
    };
  }

  /** POST /pay: a payment from the account to a named recipient. */
  async pay(body: unknown): Promise<Answer> {
    const parsed = parsePayRequest(body);
    if (!parsed.ok) return parsed.answer;
    const { amount, recipient } = parsed.value;
    const answer = await this.tx(async (trx): Promise<Answer> => {
      const account = await this.repo.account(trx, ACCOUNT_ID, true);
      if (amount.cents > account.balance_cents) {
        return failed(402, MESSAGES.insufficientFunds, { balance: toAmount(account.balance_cents), requested: toAmount(amount.cents) });
      }
      const balance = account.balance_cents - amount.cents;
      await this.repo.setBalance(trx, ACCOUNT_ID, balance);
      const entry = await this.repo.addLedgerEntry(trx, {
        type: 'payment',
        recipient,
        order_id: null,
        payment_id: null,
        amount_cents: amount.cents,
        balance_after_cents: balance,
        created_at: Date.now(),
      });
      return {
        status: 200,
        body: {
          status: 'success',
          message: `Payment of ${amount.text} to ${recipient} completed`,
          balance: toAmount(balance),
          transaction: transactionView(entry),
        },
      };
    });
    if (answer.status === 200) this.log.info({ recipient, amount: toAmount(amount.cents), balance: answer.body.balance }, 'account payment completed');
    else this.log.info({ recipient, amount: toAmount(amount.cents), balance: answer.body.balance }, 'account payment refused: insufficient funds');
    return answer;
  }

  /**
   * POST /payments/orders: pays an order at most once. The check for an earlier settled payment,
   * the debit, the payment record and its callback job are one transaction; the first callback
   * attempt happens before the answer, and the answer is stored for any repeated request.
   */
  async payOrder(body: unknown): Promise<Answer> {
    const parsed = parseOrderPayment(body);
    if (!parsed.ok) return parsed.answer;
    return this.orderLocks.run(parsed.value.orderId, () => this.payOrderOnce(parsed.value));
  }

  private async payOrderOnce({ orderId, amount, card }: OrderPaymentRequest): Promise<Answer> {
    const now = Date.now();
    const start = await this.tx(async (trx) => {
      const account = await this.repo.account(trx, ACCOUNT_ID, true);
      const settled = await this.repo.settledPayment(trx, orderId);
      if (settled) return { kind: 'replay' as const, answer: await this.replay(trx, settled) };

      const paymentId = newPaymentId();
      const decline = declineFor(card, amount.cents, account.balance_cents);
      let balance = account.balance_cents;
      let entry: LedgerEntry | undefined;
      if (!decline) {
        balance -= amount.cents;
        await this.repo.setBalance(trx, ACCOUNT_ID, balance);
        entry = await this.repo.addLedgerEntry(trx, {
          type: 'payment',
          recipient: null,
          order_id: orderId,
          payment_id: paymentId,
          amount_cents: amount.cents,
          balance_after_cents: balance,
          created_at: now,
        });
      }
      await this.repo.insertPayment(trx, {
        payment_id: paymentId,
        order_id: orderId,
        amount_cents: amount.cents,
        amount_text: amount.text,
        status: decline ? 'failed' : 'succeeded',
        reason: decline?.reason ?? null,
        card_last4: card === undefined ? null : card.slice(-4),
        created_at: now,
        refunded_at: null,
        response_status: null,
        response_json: null,
      });
      const payload = JSON.stringify({
        order_id: orderId,
        status: decline ? 'failed' : 'success',
        amount: toAmount(amount.cents),
        payment_id: paymentId,
        ...(decline ? { reason: decline.reason } : {}),
      });
      // The outbox job is born claimed by this request (its inline attempt); if the process dies
      // before recording that attempt, the worker takes the job over when the lease runs out.
      await this.repo.insertJob(trx, {
        payment_id: paymentId,
        payload,
        state: 'pending',
        attempts: 0,
        next_attempt_at: now + this.options.callbackLeaseMs,
        created_at: now,
        updated_at: now,
      });
      return { kind: 'new' as const, paymentId, payload, decline, balance, entry };
    });

    if (start.kind === 'replay') {
      this.log.info({ order_id: orderId, payment_id: start.answer.body.payment_id }, 'order already paid: first answer replayed, nothing debited');
      return start.answer;
    }

    const { paymentId, decline } = start;
    if (decline) this.log.info({ payment_id: paymentId, order_id: orderId, amount: toAmount(amount.cents), reason: decline.reason }, 'payment failed');
    else this.log.info({ payment_id: paymentId, order_id: orderId, amount: toAmount(amount.cents), balance: toAmount(start.balance) }, 'payment succeeded');

    const outcome = await this.sender.send(start.payload);
    const { answer, effect } = await this.tx(async (trx) => {
      const effect = await this.applyAttempt(trx, paymentId, 1, outcome, Date.now());
      const requested = toAmount(amount.cents);
      let answer: Answer;
      if (decline) {
        const account = await this.repo.account(trx, ACCOUNT_ID);
        answer = failed(402, decline.message, { balance: toAmount(account.balance_cents), requested, reason: decline.reason, payment_id: paymentId });
      } else if (effect?.refund && outcome.kind === 'refused') {
        answer = failed(402, `Payment refunded: the store refused the order (${outcome.detail})`, {
          balance: toAmount(effect.refund.balanceCents),
          requested,
          reason: 'store_rejected',
          payment_id: paymentId,
        });
      } else {
        answer = {
          status: 200,
          body: {
            status: 'success',
            message: `Payment of ${amount.text} for order ${orderId} completed`,
            balance: toAmount(start.balance),
            transaction: transactionView(start.entry!),
            shop_notified: outcome.kind === 'delivered',
            payment_id: paymentId,
          },
        };
      }
      await this.repo.saveResponse(trx, paymentId, answer.status, answer.body);
      return { answer, effect };
    });
    if (effect) this.logAttempt(effect);
    return answer;
  }

  /** The stored first answer; if another process has not stored it yet, the payment as it stands. */
  private async replay(trx: Db, payment: Payment): Promise<Answer> {
    if (payment.response_status !== null && payment.response_json !== null) {
      return { status: payment.response_status, body: JSON.parse(payment.response_json) as Record<string, unknown> };
    }
    const entry = await this.repo.ledgerEntryOf(trx, payment.payment_id, 'payment');
    const job = await this.repo.job(trx, payment.payment_id);
    return {
      status: 200,
      body: {
        status: 'success',
        message: `Payment of ${payment.amount_text} for order ${payment.order_id} completed`,
        balance: toAmount(entry!.balance_after_cents),
        transaction: transactionView(entry!),
        shop_notified: job?.state === 'delivered' && job.attempts === 1,
        payment_id: payment.payment_id,
      },
    };
  }

  /**
   * Books one delivery attempt: the job moves on (delivered, refused, failed, or due again after a
   * backoff), and a refused success callback refunds the payment. Only the attempt the job is
   * waiting for counts: a stale one (or one for a job a reset deleted) changes nothing.
   */
  private async applyAttempt(trx: Db, paymentId: string, attempt: number, outcome: DeliveryOutcome, now: number): Promise<AttemptEffect | undefined> {
    const job = await this.repo.job(trx, paymentId);
    if (!job || job.state !== 'pending' || job.attempts !== attempt - 1) return undefined;
    const payload = JSON.parse(job.payload) as { order_id: string; status: 'success' | 'failed' };

    let state: CallbackState;
    let nextAttemptAt = now;
    if (outcome.kind === 'delivered') state = 'delivered';
    else if (outcome.kind === 'refused') state = 'refused';
    else if (attempt >= this.options.callbackMaxAttempts) state = 'failed';
    else {
      state = 'pending';
      nextAttemptAt = now + backoffDelay(attempt, this.options.callbackBaseDelayMs, this.options.random);
    }
    if (!(await this.repo.advanceJob(trx, paymentId, { state, attempts: attempt, next_attempt_at: nextAttemptAt, updated_at: now }))) return undefined;
    await this.repo.addAttempt(trx, {
      payment_id: paymentId,
      attempt,
      at: now,
      http_status: outcome.httpStatus,
      error: outcome.kind === 'delivered' ? null : outcome.kind === 'refused' ? outcome.detail : outcome.error,
      signed: outcome.signed ? 1 : 0,
    });
    const refund = outcome.kind === 'refused' && payload.status === 'success' ? await this.refundWithin(trx, paymentId, 'store_rejected', now) : undefined;
    return { paymentId, orderId: payload.order_id, attempt, outcome, state, nextAttemptAt: state === 'pending' ? nextAttemptAt : undefined, refund };
  }

  private logAttempt(effect: AttemptEffect): void {
    const { outcome } = effect;
    const context = { payment_id: effect.paymentId, order_id: effect.orderId, attempt: effect.attempt, http_status: outcome.httpStatus, signed: outcome.signed };
    if (outcome.kind === 'delivered') this.log.info(context, 'callback delivered');
    else if (outcome.kind === 'refused') this.log.info({ ...context, detail: outcome.detail }, 'callback refused by the store');
    else if (effect.state === 'failed') this.log.error({ ...context, error: outcome.error }, 'callback delivery failed: giving up after the last attempt');
    else this.log.info({ ...context, error: outcome.error, retry_in_ms: effect.nextAttemptAt! - Date.now() }, 'callback attempt failed: will retry');
    if (effect.refund) this.logRefund(effect.refund, 'store_rejected');
  }

  private logRefund(refund: Refund, reason: string): void {
    const { payment } = refund;
    this.log.info(
      { payment_id: payment.payment_id, order_id: payment.order_id, amount: toAmount(payment.amount_cents), balance: toAmount(refund.balanceCents), reason },
      'payment refunded',
    );
  }

  /** succeeded -> refunded with the money back and a refund movement; undefined if it was not (or no longer) succeeded. */
  private async refundWithin(trx: Db, paymentId: string, reason: string, now: number): Promise<Refund | undefined> {
    const account = await this.repo.account(trx, ACCOUNT_ID, true);
    const payment = await this.repo.payment(trx, paymentId);
    if (!payment || !(await this.repo.markRefunded(trx, paymentId, reason, now))) return undefined;
    const balanceCents = account.balance_cents + payment.amount_cents;
    await this.repo.setBalance(trx, ACCOUNT_ID, balanceCents);
    await this.repo.addLedgerEntry(trx, {
      type: 'refund',
      recipient: null,
      order_id: payment.order_id,
      payment_id: paymentId,
      amount_cents: payment.amount_cents,
      balance_after_cents: balanceCents,
      created_at: now,
    });
    return { payment, balanceCents };
  }

  /** Takes up to `limit` due callback jobs for one attempt each. */
  claimDueCallbacks(limit: number): Promise<ClaimedCallback[]> {
    const now = Date.now();
    return this.tx(async (trx) => {
      const claimed: ClaimedCallback[] = [];
      for (const job of await this.repo.dueJobs(trx, now, limit)) {
        if (await this.repo.claimJob(trx, job, now + this.options.callbackLeaseMs, now)) {
          claimed.push({ paymentId: job.payment_id, attempt: job.attempts + 1, payload: job.payload });
        }
      }
      return claimed;
    });
  }

  /** One background attempt at a claimed job. */
  async deliver(claim: ClaimedCallback): Promise<void> {
    const outcome = await this.sender.send(claim.payload);
    const effect = await this.tx((trx) => this.applyAttempt(trx, claim.paymentId, claim.attempt, outcome, Date.now()));
    if (effect) this.logAttempt(effect);
  }

  async transactions(): Promise<Answer> {
    const entries = await this.repo.ledger(this.database.db);
    return { status: 200, body: { status: 'success', account_id: ACCOUNT_ID, transactions: entries.map(transactionView) } };
  }

  async reset(): Promise<Answer> {
    await this.tx((trx) => this.repo.reset(trx, ACCOUNT_ID, DEFAULT_ACCOUNT.balanceCents));
    this.log.info({ balance: toAmount(DEFAULT_ACCOUNT.balanceCents) }, 'account reset: movements, payments and pending callbacks cleared');
    return { status: 200, body: { status: 'success', message: 'Account reset to default balance', balance: toAmount(DEFAULT_ACCOUNT.balanceCents) } };
  }

  async payment(paymentId: string): Promise<Answer> {
    const [view] = await this.paymentViews(await this.findPayments([paymentId]));
    return view ? { status: 200, body: { status: 'success', payment: view } } : failed(404, MESSAGES.paymentNotFound);
  }

  /** Newest first, at most 100; one order's when orderId is given. */
  async payments(orderId: string | undefined): Promise<Answer> {
    const payments = await this.repo.payments(this.database.db, { orderId, limit: 100 });
    return { status: 200, body: { status: 'success', payments: await this.paymentViews(payments) } };
  }

  /** POST /payments/{id}/refund: money back for a succeeded payment, exactly once. */
  async refund(paymentId: string): Promise<Answer> {
    const result = await this.tx(async (trx): Promise<Answer | Refund> => {
      const payment = await this.repo.payment(trx, paymentId);
      if (!payment) return failed(404, MESSAGES.paymentNotFound);
      if (payment.status === 'refunded') return failed(400, MESSAGES.alreadyRefunded);
      if (payment.status !== 'succeeded') return failed(400, MESSAGES.notRefundable);
      return (await this.refundWithin(trx, paymentId, 'refund_requested', Date.now())) ?? failed(400, MESSAGES.alreadyRefunded);
    });
    if ('status' in result) return result;
    this.logRefund(result, 'refund_requested');
    const [view] = await this.paymentViews(await this.findPayments([paymentId]));
    return {
      status: 200,
      body: { status: 'success', message: `Payment ${paymentId} refunded`, balance: toAmount(result.balanceCents), payment: view },
    };
  }

  private async findPayments(paymentIds: string[]): Promise<Payment[]> {
    const found = await Promise.all(paymentIds.map((id) => this.repo.payment(this.database.db, id)));
    return found.filter((p): p is Payment => p !== undefined);
  }

  private async paymentViews(payments: Payment[]): Promise<Record<string, unknown>[]> {
    const ids = payments.map((p) => p.payment_id);
    const [jobs, attempts] = await Promise.all([this.repo.jobs(this.database.db, ids), this.repo.attempts(this.database.db, ids)]);
    const jobOf = new Map(jobs.map((j) => [j.payment_id, j]));
    const attemptsOf = new Map<string, CallbackAttempt[]>();
    for (const a of attempts) attemptsOf.set(a.payment_id, [...(attemptsOf.get(a.payment_id) ?? []), a]);
    return payments.map((p) => paymentView(p, jobOf.get(p.payment_id), attemptsOf.get(p.payment_id) ?? []));
  }
}

// ---------------------------------------------------------------------------------------------
// JSON views (key order is part of the contract).

/** A ledger entry as /pay, /payments/orders and /transactions show it. */
export function transactionView(entry: LedgerEntry): Record<string, unknown> {
  const common = { amount: toAmount(entry.amount_cents), balance_after: toAmount(entry.balance_after_cents) };
  if (entry.recipient !== null) return { recipient: entry.recipient, ...common, type: entry.type, created_at: iso(entry.created_at) };
  return { order_id: entry.order_id, ...common, payment_id: entry.payment_id, type: entry.type, created_at: iso(entry.created_at) };
}

export function paymentView(payment: Payment, job: CallbackJob | undefined, attempts: CallbackAttempt[]): Record<string, unknown> {
  return {
    payment_id: payment.payment_id,
    order_id: payment.order_id,
    amount: toAmount(payment.amount_cents),
    status: payment.status,
    reason: payment.reason,
    created_at: iso(payment.created_at),
    refunded_at: payment.refunded_at === null ? null : iso(payment.refunded_at),
    callback: {
      state: job?.state ?? 'pending',
      attempts: attempts.map((a) => ({ attempt: a.attempt, at: iso(a.at), http_status: a.http_status, error: a.error, signed: a.signed === 1 })),
      next_attempt_at: job?.state === 'pending' ? iso(job.next_attempt_at) : null,
    },
    card_last4: payment.card_last4,
  };
}

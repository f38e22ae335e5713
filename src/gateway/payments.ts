import type { FaultTx } from '../faults/book.js';
import { toAmount } from '../shared/money.js';
import type { Db, GatewayContext } from './context.js';
import type { AttemptEffect, ClaimedCallback, Deliveries, DeliveryOptions, DeliveryOutcome } from './deliveries.js';
import { transactionView, type Ledger } from './ledger.js';
import { callbackPayload, logRefund, refundWithin, type Refund } from './refunds.js';
import type { CallbackAttempt, CallbackJob, Payment } from './repository.js';
import { declineFor, declineOf, failed, MESSAGES, parseOrderPayment, type Answer, type OrderPaymentRequest } from './requests.js';
import { isoTime as iso } from '../shared/time.js';

/** The reason of the `failed` a `reorder` callback fault sends before the success. */
export const REORDERED_REASON = 'fault_reorder';


/** Runs fn for a key after every earlier call for that key has finished (one process). */
export class KeyedMutex {
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

/**
 * Order payments and refunds. An order has at most one kept (succeeded) payment: a repeated
 * request replays its first answer and debits nothing; a failed or refunded attempt is history,
 * and the order can be paid again (the store decides whether it still wants the money).
 */
export class OrderPayments {
  constructor(
    private readonly ctx: GatewayContext,
    /** Shared by every scope of the process: requests for one order queue up, so a repeat gets the first one's final answer. */
    private readonly orderLocks: KeyedMutex,
    private readonly ledger: Ledger,
    private readonly deliveries: Deliveries,
    private readonly options: Pick<DeliveryOptions, 'callbackLeaseMs'>,
  ) {}

  /**
   * POST /payments/orders: the check for a kept payment, the debit, the payment record and its
   * callback job are one transaction; the first callback attempt happens before the answer, and
   * the answer is stored for any repeated request.
   */
  async payOrder(body: unknown): Promise<Answer> {
    const parsed = parseOrderPayment(body);
    if (!parsed.ok) return parsed.answer;
    return this.orderLocks.run(`${this.ctx.sandbox.key}:${parsed.value.orderId}`, () => this.payOrderOnce(parsed.value));
  }

  private async payOrderOnce({ orderId, amount, card }: OrderPaymentRequest): Promise<Answer> {
    const now = this.ctx.clock.now();
    const start = await this.ctx.tx(async (trx) => {
      const balance = await this.ledger.balance(trx, true);
      const generation = (await this.ctx.repo.generation(trx))!;
      const kept = await this.ctx.repo.keptPayment(trx, orderId);
      if (kept) return { kind: 'replay' as const, answer: await this.replay(trx, kept) };

      const paymentId = await this.ctx.ids.payment(trx);
      const faultDetail = { order_id: orderId, payment_id: paymentId };
      const faults: FaultTx = { q: trx, fired: [] };
      // A payment_decline fault fails a payment that would have gone through, as the test card of its reason does.
      const decline = declineFor(card, amount.cents, balance) ?? declineOf((await this.ctx.faults.fireFirst(faults, 'payment_decline', faultDetail))?.reason);
      const entry = decline
        ? undefined
        : await this.ledger.move(trx, { type: 'payment', recipient: null, order_id: orderId, payment_id: paymentId, amount_cents: amount.cents, created_at: now }, balance);
      const payment = {
        payment_id: paymentId,
        order_id: orderId,
        amount_cents: amount.cents,
        amount_text: amount.text,
        status: decline ? ('failed' as const) : ('succeeded' as const),
        reason: decline?.reason ?? null,
        card_last4: card === undefined ? null : card.slice(-4),
        created_at: now,
        refunded_at: null,
        response_status: null,
        response_json: null,
      };
      await this.ctx.repo.insertPayment(trx, payment);
      const payload = callbackPayload(payment, decline ? 'failed' : 'success', decline?.reason);
      // The outbox job is born due and leased to this request (its inline attempt); if the process
      // dies before recording that attempt, the worker takes the job over when the lease (real
      // time, whatever the sandbox's clock does) runs out.
      const realNow = Date.now();
      await this.ctx.repo.insertJob(trx, {
        payment_id: paymentId,
        payload,
        state: 'pending',
        attempts: 0,
        next_attempt_at: now,
        leased_until: realNow + this.options.callbackLeaseMs,
        created_at: now,
        updated_at: realNow,
      });
      await this.ctx.record(trx, now, decline ? 'payment.failed' : 'payment.succeeded', {
        payment_id: paymentId, order_id: orderId, amount: toAmount(amount.cents), ...(decline ? { reason: decline.reason } : {}),
      });
      // A callback fault changes how this payment's news first reaches the store (a `failed` has nothing to reorder).
      const callbackFault = await this.ctx.faults.fireFirst(faults, 'callback', faultDetail, (r) => r.mode !== 'reorder' || !decline);
      await this.ctx.faults.record(faults);
      return { kind: 'new' as const, paymentId, payload, decline, entry, generation, callbackFault };
    });

    if (start.kind === 'replay') {
      this.ctx.log.info({ order_id: orderId, payment_id: start.answer.body.payment_id }, 'order already paid: first answer replayed, nothing debited');
      return start.answer;
    }

    const { paymentId, decline, entry } = start;
    const context = { payment_id: paymentId, order_id: orderId, amount: toAmount(amount.cents) };
    if (decline) this.ctx.log.info({ ...context, reason: decline.reason }, 'payment failed');
    else this.ctx.log.info({ ...context, balance: toAmount(entry!.balance_after_cents) }, 'payment succeeded');

    const claim: ClaimedCallback = { sandbox: this.ctx.sandbox.key, generation: start.generation, paymentId, attempt: 1, payload: start.payload };
    const fault = start.callbackFault;
    // A delayed callback is not attempted now: the worker sends it when it is due (sandbox clock).
    const outcome = fault?.mode === 'delay' ? undefined : await this.firstDelivery(start.payload, fault?.mode, { order_id: orderId, amount_cents: amount.cents, payment_id: paymentId });
    const { answer, effect } = await this.ctx.tx(async (trx) => {
      let effect: AttemptEffect | undefined;
      if (outcome) effect = await this.deliveries.record(trx, claim, outcome, this.ctx.clock.now());
      else await this.ctx.repo.replaceMessage(trx, paymentId, start.payload, this.ctx.clock.now() + (fault?.ms ?? 0), Date.now());
      const requested = toAmount(amount.cents);
      let answer: Answer;
      if (decline) {
        answer = failed(402, decline.message, { balance: toAmount(await this.ledger.balance(trx)), requested, reason: decline.reason, payment_id: paymentId });
      } else if (effect?.refund && outcome?.kind === 'refused') {
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
            balance: toAmount(entry!.balance_after_cents),
            transaction: transactionView(entry!),
            shop_notified: outcome?.kind === 'delivered',
            payment_id: paymentId,
          },
        };
      }
      await this.ctx.repo.saveResponse(trx, paymentId, answer.status, answer.body);
      return { answer, effect };
    });
    if (effect) this.deliveries.log(effect);
    return answer;
  }

  /**
   * The first attempt at a new payment's callback, as a callback fault (spec/sandboxes.md section
   * 2) bends it: `drop_first` loses it (recorded as a failed attempt: the retry delivers it),
   * `duplicate` sends it twice (the store acknowledges the repeat), `reorder` sends a `failed` for
   * the payment first (the store then refuses the success, and the payment is refunded).
   */
  private async firstDelivery(payload: string, mode: 'duplicate' | 'drop_first' | 'reorder' | undefined, payment: Pick<Payment, 'order_id' | 'amount_cents' | 'payment_id'>): Promise<DeliveryOutcome> {
    if (mode === 'drop_first') return { signed: false, kind: 'retry', httpStatus: null, error: 'Injected fault: first attempt dropped' };
    if (mode === 'reorder') {
      const early = await this.deliveries.send(callbackPayload(payment, 'failed', REORDERED_REASON));
      this.ctx.log.info({ payment_id: payment.payment_id, order_id: payment.order_id, outcome: early.kind, http_status: early.httpStatus }, 'callback fault: a failed sent before the success');
    }
    const outcome = await this.deliveries.send(payload);
    if (mode === 'duplicate') {
      const again = await this.deliveries.send(payload);
      this.ctx.log.info({ payment_id: payment.payment_id, order_id: payment.order_id, outcome: again.kind, http_status: again.httpStatus }, 'callback fault: the callback sent twice');
    }
    return outcome;
  }

  /** The stored first answer; if the process died before storing it, the payment as it stands. */
  private async replay(trx: Db, payment: Payment): Promise<Answer> {
    if (payment.response_status !== null && payment.response_json !== null) {
      return { status: payment.response_status, body: JSON.parse(payment.response_json) as Record<string, unknown> };
    }
    const entry = await this.ctx.repo.ledgerEntryOf(trx, payment.payment_id, 'payment');
    const job = await this.ctx.repo.job(trx, payment.payment_id);
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

  /** POST /payments/{id}/refund: money back for a succeeded payment, exactly once; the store is told. */
  async refund(paymentId: string): Promise<Answer> {
    const result = await this.ctx.tx(async (trx): Promise<Answer | Refund> => {
      const payment = await this.ctx.repo.payment(trx, paymentId);
      if (!payment) return failed(404, MESSAGES.paymentNotFound);
      if (payment.status === 'refunded') return failed(400, MESSAGES.alreadyRefunded);
      if (payment.status !== 'succeeded') return failed(400, MESSAGES.notRefundable);
      return (await refundWithin(this.ctx, this.ledger, trx, paymentId, 'refund_requested', this.ctx.clock.now())) ?? failed(400, MESSAGES.alreadyRefunded);
    });
    if ('status' in result) return result;
    logRefund(this.ctx, result);
    const [view] = await this.views(await this.find([paymentId]));
    return {
      status: 200,
      body: { status: 'success', message: `Payment ${paymentId} refunded`, balance: toAmount(result.balanceCents), payment: view },
    };
  }

  async payment(paymentId: string): Promise<Answer> {
    const [view] = await this.views(await this.find([paymentId]));
    return view ? { status: 200, body: { status: 'success', payment: view } } : failed(404, MESSAGES.paymentNotFound);
  }

  /** Newest first, at most 100; one order's when orderId is given. */
  async payments(orderId: string | undefined): Promise<Answer> {
    const payments = await this.ctx.repo.payments(this.ctx.database.db, { orderId, limit: 100 });
    return { status: 200, body: { status: 'success', payments: await this.views(payments) } };
  }

  private async find(paymentIds: string[]): Promise<Payment[]> {
    const found = await Promise.all(paymentIds.map((id) => this.ctx.repo.payment(this.ctx.database.db, id)));
    return found.filter((p): p is Payment => p !== undefined);
  }

  private async views(payments: Payment[]): Promise<Record<string, unknown>[]> {
    const db = this.ctx.database.db;
    const ids = payments.map((p) => p.payment_id);
    const [jobs, attempts] = await Promise.all([this.ctx.repo.jobs(db, ids), this.ctx.repo.attempts(db, ids)]);
    const jobOf = new Map(jobs.map((j) => [j.payment_id, j]));
    const attemptsOf = new Map<string, CallbackAttempt[]>();
    for (const a of attempts) attemptsOf.set(a.payment_id, [...(attemptsOf.get(a.payment_id) ?? []), a]);
    return payments.map((p) => paymentView(p, jobOf.get(p.payment_id), attemptsOf.get(p.payment_id) ?? []));
  }
}

/** A payment and the delivery of its news to the store, as GET /payments shows it. */
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
      event: job ? (JSON.parse(job.payload) as { status: string }).status : null,
      state: job?.state ?? 'pending',
      attempts: attempts.map((a) => ({ attempt: a.attempt, event: a.event, at: iso(a.at), http_status: a.http_status, error: a.error, signed: a.signed === 1 })),
      next_attempt_at: job?.state === 'pending' ? iso(job.next_attempt_at) : null,
    },
    card_last4: payment.card_last4,
  };
}

import { backoffDelay } from '../shared/backoff.js';
import type { GatewayContext, Db } from './context.js';
import type { Ledger } from './ledger.js';
import { logRefund, refundWithin, type Refund } from './refunds.js';
import type { CallbackEvent, CallbackState } from './repository.js';

/** How one delivery attempt to the store ended. */
export type DeliveryOutcome = { signed: boolean } & (
  | { kind: 'delivered'; httpStatus: number }
  /** A 4xx: the store will not take this callback; delivery ends. */
  | { kind: 'refused'; httpStatus: number; detail: string }
  /** Unreachable, timed out, 5xx (or anything else): try again later. */
  | { kind: 'retry'; httpStatus: number | null; error: string }
);

export interface CallbackSender {
  /** Posts payload to the store's confirm path of that sandbox (`default`: the root path). */
  send(payload: string, sandboxId: string): Promise<DeliveryOutcome>;
}


/** One attempt to make: the job's message as it was when the attempt was claimed. */
export interface ClaimedCallback {
  /** The sandbox key of the job, and the sandbox's generation when the attempt began. */
  sandbox: number;
  generation: number;
  paymentId: string;
  /** The number this attempt gets for this message (1 is the first). */
  attempt: number;
  payload: string;
}

export interface DeliveryOptions {
  callbackMaxAttempts: number;
  callbackBaseDelayMs: number;
  /** How long one attempt holds its job before another worker may take it over. */
  callbackLeaseMs: number;
  random?: () => number;
}

export interface AttemptEffect {
  paymentId: string;
  orderId: string;
  event: CallbackEvent;
  attempt: number;
  outcome: DeliveryOutcome;
  /** The job had moved on (new message, or the attempt was taken over): recorded in history only. */
  stale: boolean;
  state: CallbackState;
  nextAttemptAt: number | undefined;
  refund: Refund | undefined;
}

/**
 * The outbox of store callbacks: one job per payment holding the newest news about it (success or
 * failed, then refunded if money went back), delivered with retries and backoff. Rules:
 * - only the attempt the job is waiting for, with the message it still holds, moves the job on;
 *   an attempt whose message was replaced meanwhile (a refund while a success was in flight) is
 *   only recorded, so the refund is still delivered after it;
 * - a success the store refuses (4xx) is refunded: the store never took it;
 * - a success that never got through (every attempt spent) is refunded too, and the refund is
 *   then delivered with a fresh budget: the store may have committed an attempt whose answer
 *   was lost, and must learn that the money went back.
 */
export class Deliveries {
  constructor(
    private readonly ctx: GatewayContext,
    private readonly ledger: Ledger,
    private readonly sender: CallbackSender,
    private readonly options: DeliveryOptions,
  ) {}

  send(payload: string): Promise<DeliveryOutcome> {
    return this.sender.send(payload, this.ctx.sandbox.id);
  }

  /**
   * Books one attempt made at `now` (the sandbox's time, which also schedules a retry) in the
   * caller's transaction; undefined if its job is gone (a reset) or its sandbox's rows were
   * replaced meanwhile (a restore: the attempt belongs to a history that no longer exists).
   */
  async record(trx: Db, claim: ClaimedCallback, outcome: DeliveryOutcome, now: number): Promise<AttemptEffect | undefined> {
    if ((await this.ctx.repo.generation(trx)) !== claim.generation) return undefined;
    const job = await this.ctx.repo.job(trx, claim.paymentId);
    if (!job) return undefined;
    const message = JSON.parse(claim.payload) as { order_id: string; status: CallbackEvent };
    const error = outcome.kind === 'delivered' ? null : outcome.kind === 'refused' ? outcome.detail : outcome.error;
    await this.ctx.repo.addAttempt(trx, {
      payment_id: claim.paymentId,
      attempt: claim.attempt,
      at: now,
      http_status: outcome.httpStatus,
      error,
      signed: outcome.signed ? 1 : 0,
      event: message.status,
    });
    const effect = { paymentId: claim.paymentId, orderId: message.order_id, event: message.status, attempt: claim.attempt, outcome };

    let state: CallbackState;
    let nextAttemptAt = now;
    if (outcome.kind === 'delivered') state = 'delivered';
    else if (outcome.kind === 'refused') state = 'refused';
    else if (claim.attempt >= this.options.callbackMaxAttempts) state = 'failed';
    else {
      state = 'pending';
      nextAttemptAt = now + backoffDelay(claim.attempt, this.options.callbackBaseDelayMs, this.options.random);
    }
    const changes = { state, attempts: claim.attempt, next_attempt_at: nextAttemptAt, updated_at: Date.now() };
    const attempted = {
      payment_id: claim.paymentId, order_id: message.order_id, event: message.status, attempt: claim.attempt,
      status: outcome.httpStatus, error, outcome: outcome.kind,
    };
    if (!(await this.ctx.repo.advanceJob(trx, claim.paymentId, claim.payload, changes))) {
      await this.ctx.record(trx, now, 'callback.attempted', attempted);
      return { ...effect, stale: true, state: job.state, nextAttemptAt: undefined, refund: undefined };
    }
    const refundReason = message.status !== 'success' ? undefined : state === 'refused' ? 'store_rejected' : state === 'failed' ? 'callback_undelivered' : undefined;
    // The account before the sandbox row (the event's seq), as a payment locks them: no deadlock.
    if (refundReason) await this.ledger.balance(trx, true);
    await this.ctx.record(trx, now, 'callback.attempted', attempted);
    const refund: Refund | undefined = refundReason && (await refundWithin(this.ctx, this.ledger, trx, claim.paymentId, refundReason, now));
    return { ...effect, stale: false, state, nextAttemptAt: state === 'pending' ? nextAttemptAt : undefined, refund };
  }

  log(effect: AttemptEffect): void {
    const { outcome } = effect;
    const context = { payment_id: effect.paymentId, order_id: effect.orderId, event: effect.event, attempt: effect.attempt, http_status: outcome.httpStatus, signed: outcome.signed };
    const log = this.ctx.log;
    if (effect.stale) log.info({ ...context, outcome: outcome.kind }, 'callback attempt recorded: the payment had news meanwhile, the job goes on with it');
    else if (outcome.kind === 'delivered') log.info(context, 'callback delivered');
    else if (outcome.kind === 'refused') log.info({ ...context, detail: outcome.detail }, 'callback refused by the store');
    else if (effect.state === 'failed') log.error({ ...context, error: outcome.error }, 'callback delivery failed: giving up after the last attempt');
    else log.info({ ...context, error: outcome.error, retry_in_ms: effect.nextAttemptAt! - this.ctx.clock.now() }, 'callback attempt failed: will retry');
    if (effect.refund) logRefund(this.ctx, effect.refund);
  }

  /** One background attempt at a claimed job of this scope's sandbox. */
  async deliver(claim: ClaimedCallback): Promise<void> {
    const outcome = await this.send(claim.payload);
    const effect = await this.ctx.tx((trx) => this.record(trx, claim, outcome, this.ctx.clock.now()));
    if (effect) this.log(effect);
  }
}

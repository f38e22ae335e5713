import type { Logger } from 'pino';
import type { WebhookConfig } from '../config.js';
import type { Database } from '../db/database.js';
import type { StoreSchema, WebhookDeliveryRow } from '../db/schema.js';
import { backoffDelay } from '../shared/backoff.js';
import { randomHex } from '../shared/ids.js';
import { Poller } from '../shared/poller.js';
import { ok } from '../shared/result.js';
import type { HostAllowList } from './allow-list.js';
import { webhookRepository as repo, type ClaimedDelivery, type SubscriptionCursor } from './repository.js';
import type { AttemptResult, WebhookSender } from './sender.js';
import { eventBody } from './body.js';
import type { GatewayEventImporter } from '../events/gateway-import.js';
import { GATEWAY_EVENT_TYPES } from '../shared/timeline.js';

/** The gateway's types reach the store's timeline only when imported (events/gateway-import.ts). */
const GATEWAY_TYPES: readonly string[] = GATEWAY_EVENT_TYPES;

/** `*` or the event's type among a subscription's types. */
const matches = (types: string[], type: string): boolean => types.includes('*') || types.includes(type);

/** Subscriptions advanced per poll, and events read per subscription per poll. */
const SUBSCRIPTIONS_PER_POLL = 50;
const EVENTS_PER_POLL = 200;
/** Deliveries claimed per poll; their attempts run concurrently. */
const ATTEMPTS_PER_POLL = 20;

/**
 * The store's webhook worker (spec/sandboxes.md section 3), one per store process. Each poll
 * (every WEBHOOK_POLL_INTERVAL_MS, and at once when woken):
 * 1. for each subscription whose sandbox has events past its cursor, creates a delivery per
 *    matching event and moves the cursor, in one transaction whose cursor update is conditional:
 *    of two processes that read the same cursor, one creates the deliveries, the other nothing;
 * 2. claims due deliveries (conditional update with a lease: each attempt is made by one process)
 *    and sends them; a 2xx ends a delivery, anything else is retried with exponential backoff
 *    (WEBHOOK_RETRY_BASE_MS * 2^(n-1), jittered) until WEBHOOK_MAX_ATTEMPTS attempts.
 * Everything lives in the database, so a restart resumes where the last process stopped. With no
 * subscriptions a poll is three small queries that find nothing; recording an event costs nothing here.
 */
export class WebhookWorker {
  private readonly poller: Poller;
  private readonly leaseMs: number;

  constructor(
    private readonly database: Database<StoreSchema>,
    private readonly config: WebhookConfig,
    private readonly allowList: HostAllowList,
    private readonly sender: WebhookSender,
    private readonly log: Logger,
    private readonly gatewayEvents: GatewayEventImporter,
  ) {
    this.poller = new Poller(() => this.poll(), config.pollIntervalMs, log, 'webhook worker poll failed');
    // Past the attempt's own timeout: another process takes a delivery over only once its attempt is surely over.
    this.leaseMs = config.timeoutMs + 5000;
  }

  start(): void {
    this.poller.start();
  }

  /** Stops polling, waits for the attempts in flight to be recorded, and closes the connections. */
  async stop(): Promise<void> {
    await this.poller.stop();
    await this.sender.close();
  }

  /** Polls now (a redelivery was queued) rather than at the next tick. */
  wake(): void {
    this.poller.wake();
  }

  private async poll(): Promise<void> {
    await this.importGatewayEvents();
    const subscriptions = await repo.behind(this.database.db, SUBSCRIPTIONS_PER_POLL);
    let more = subscriptions.length === SUBSCRIPTIONS_PER_POLL;
    for (const subscription of subscriptions) more = (await this.dispatch(subscription)) || more;
    more = (await this.deliverDue()) || more;
    // A full batch: there is more waiting, so the next poll comes now rather than at the tick.
    if (more) this.poller.wake();
  }

  /**
   * Brings the gateway's new events into the timelines of the sandboxes that have a subscription
   * wanting one of its types: otherwise a `callback.attempted` (recorded after the store answered
   * the callback) would wait for the next read of the timeline. One gateway call per such sandbox
   * per poll; none without such subscriptions.
   */
  private async importGatewayEvents(): Promise<void> {
    const sandboxes = await repo.subscribedSandboxes(this.database.db);
    for (const s of sandboxes) {
      const types = s.events.flatMap((e) => JSON.parse(e) as string[]);
      if (types.some((t) => t === '*' || GATEWAY_TYPES.includes(t))) await this.gatewayEvents.import({ key: s.sandbox, id: s.sandbox_id });
    }
  }

  /** Creates the deliveries of one subscription's new events; true if it read a full batch. */
  private async dispatch(subscription: SubscriptionCursor): Promise<boolean> {
    const { sandbox, id, cursor } = subscription;
    const events = await repo.eventsBetween(this.database.db, sandbox, cursor, subscription.last, EVENTS_PER_POLL);
    const full = events.length === EVENTS_PER_POLL;
    const types = JSON.parse(subscription.events) as string[];
    const now = Date.now();
    const deliveries: WebhookDeliveryRow[] = events
      .filter((event) => matches(types, event.type))
      .map((event) => ({
        id: `dlv_${randomHex(12)}`,
        webhook_id: id,
        event_seq: event.seq,
        event_type: event.type,
        body: eventBody(subscription.sandbox, subscription.sandbox_id, event),
        state: 'pending',
        attempts: 0,
        last_attempt: this.config.maxAttempts,
        next_attempt_at: now,
        leased_until: null,
        created_at: now,
      }));
    // Up to the last seq handed out, unless the batch was cut: seqs missing below it were cleared by a reset or the retention.
    const to = full ? events[events.length - 1]!.seq : subscription.last;
    const result = await this.database.transact(async (trx) => {
      if (!(await repo.advance(trx, sandbox, id, cursor, to))) return ok(false);
      await repo.insertDeliveries(trx, sandbox, deliveries);
      return ok(true);
    });
    if (result.ok && result.value && deliveries.length > 0) {
      this.log.debug({ sandbox_id: subscription.sandbox_id, webhook_id: id, deliveries: deliveries.length, cursor: to }, 'webhook deliveries queued');
    }
    return full;
  }

  /** Claims and makes the due attempts; true if it claimed a full batch. */
  private async deliverDue(): Promise<boolean> {
    const now = Date.now();
    const due = await repo.due(this.database.db, now, ATTEMPTS_PER_POLL);
    const claimed: ClaimedDelivery[] = [];
    for (const delivery of due) {
      if (await repo.claim(this.database.db, delivery.sandbox, delivery.id, delivery.attempts, now + this.leaseMs, now)) claimed.push(delivery);
    }
    // Webhooks are sent to concurrently; one webhook's deliveries one after another, in event order,
    // so a receiver sees `cart.created` before that cart's `cart.item_added`.
    const byWebhook = new Map<string, ClaimedDelivery[]>();
    for (const d of claimed) {
      const key = `${d.sandbox}/${d.webhook_id}`;
      byWebhook.set(key, [...(byWebhook.get(key) ?? []), d]);
    }
    await Promise.all(
      [...byWebhook.values()].map(async (deliveries) => {
        for (const delivery of deliveries) {
          await this.attempt(delivery).catch((error: unknown) => this.log.error({ err: error, delivery_id: delivery.id }, 'webhook attempt could not be recorded'));
        }
      }),
    );
    return due.length === ATTEMPTS_PER_POLL;
  }

  /** One attempt of a claimed delivery, recorded with the delivery's next state. */
  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const refused = this.allowList.problem(delivery.url);
    const result: AttemptResult = refused
      ? { httpStatus: null, error: refused, ms: 0 }
      : await this.sender.send({ url: delivery.url, secret: delivery.secret, body: delivery.body, eventType: delivery.event_type, deliveryId: delivery.id });
    const delivered = result.httpStatus !== null && result.httpStatus >= 200 && result.httpStatus < 300;
    const now = Date.now();
    const giveUp = !delivered && (refused !== undefined || delivery.attempt >= delivery.last_attempt);
    const changes: Pick<WebhookDeliveryRow, 'state' | 'next_attempt_at'> = delivered
      ? { state: 'delivered', next_attempt_at: null }
      : giveUp
        ? { state: 'failed', next_attempt_at: null }
        : { state: 'pending', next_attempt_at: now + backoffDelay(delivery.attempt - (delivery.last_attempt - this.config.maxAttempts), this.config.retryBaseMs) };
    const recorded = await this.database.transact(async (trx) => {
      if (!(await repo.settle(trx, delivery.sandbox, delivery.id, delivery.attempt, changes))) return ok(false);
      await repo.insertAttempt(trx, delivery.sandbox, {
        delivery_id: delivery.id, webhook_id: delivery.webhook_id, attempt: delivery.attempt, at: now,
        http_status: result.httpStatus, error: result.error, ms: result.ms,
      });
      return ok(true);
    });
    if (!recorded.ok || !recorded.value) return;
    const context = { sandbox_id: delivery.sandbox_id, webhook_id: delivery.webhook_id, delivery_id: delivery.id, event: delivery.event_type, attempt: delivery.attempt, http_status: result.httpStatus };
    if (delivered) this.log.info(context, 'webhook delivered');
    else if (giveUp) this.log.warn({ ...context, error: result.error }, 'webhook delivery failed: giving up');
    else this.log.info({ ...context, error: result.error, retry_in_ms: changes.next_attempt_at! - now }, 'webhook attempt failed: will retry');
  }
}

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { WebhookConfig } from '../config.js';
import type { Database } from '../db/database.js';
import type { SandboxRow, StoreSchema, WebhookDeliveryState, WebhookRow } from '../db/schema.js';
import { randomHex } from '../shared/ids.js';
import { keepsTimeline } from '../shared/timeline.js';
import { fail, ok, type Result } from '../shared/result.js';
import type { HostAllowList } from './allow-list.js';
import { webhookRepository as repo } from './repository.js';
import { eventId } from './body.js';
import { sandboxNotFound } from '../sandboxes/service.js';
import { isoTime as iso } from '../shared/time.js';

/** A subscription as answered (the secret only where said). */
export interface WebhookInfo {
  webhook_id: string;
  url: string;
  events: string[];
  created_at: string;
}

export interface WebhookWithSecret extends WebhookInfo {
  secret: string;
}

export interface SubscribeInput {
  url: string;
  events: string[];
  secret?: string | undefined;
}

/** One row of a webhook's delivery log: an attempt. */
export interface DeliveryAttempt {
  delivery_id: string;
  event_id: string;
  event_seq: number;
  event_type: string;
  attempt: number;
  /** When the attempt ended (real time). */
  at: string;
  http_status: number | null;
  error: string | null;
  ms: number;
  /** The delivery's state now: pending (a retry or redelivery is due), delivered, failed (given up). */
  state: WebhookDeliveryState;
}

export interface RedeliveryQueued {
  delivery_id: string;
  event_id: string;
  event_type: string;
  state: 'pending';
  /** The number the queued attempt will get. */
  attempt: number;
}

const webhookNotFound = () => fail('not_found', 'Webhook not found');
/** The root records nothing by default, so a subscription there would never fire: say why instead. */
const ROOT_OFF = 'The default shop records no events (ROOT_EVENTS=off): start the store with ROOT_EVENTS=changes, or subscribe in a sandbox';

/**
 * Webhook subscriptions of a sandbox and their delivery log (spec/sandboxes.md section 3); the
 * deliveries themselves are the WebhookWorker's. Subscriptions are not part of a sandbox's state:
 * reset keeps them (and drops the deliveries still pending for the events it cleared), snapshots
 * and forks do not copy them, deleting the sandbox deletes them with their deliveries.
 */
export class WebhookService {
  constructor(
    private readonly database: Database<StoreSchema>,
    /** The live sandbox of a public id (SandboxService.find). */
    private readonly findSandbox: (id: string) => Promise<SandboxRow | undefined>,
    private readonly config: WebhookConfig,
    private readonly allowList: HostAllowList,
    /** Asks the worker to poll now (a redelivery is due). */
    private readonly wake: () => void,
    private readonly log: Logger,
  ) {}

  private get db(): Kysely<StoreSchema> {
    return this.database.db;
  }

  /** Whether a live sandbox has this public id (routes answer 404 before validating a body). */
  async exists(sandboxId: string): Promise<boolean> {
    return (await this.findSandbox(sandboxId)) !== undefined;
  }

  /**
   * Subscribes `url` to events of these types (`*`: all) from now on. 422 (invalid) for a URL that
   * is not http(s) or whose host WEBHOOK_ALLOWED_HOSTS does not list; 409 (exists) past MAX_WEBHOOKS.
   * Without a secret, one is generated: 32 random bytes, 64 hex digits.
   */
  async create(sandboxId: string, input: SubscribeInput): Promise<Result<WebhookWithSecret>> {
    const sandbox = await this.findSandbox(sandboxId);
    if (!sandbox) return sandboxNotFound();
    if (!keepsTimeline(sandbox.sandbox)) return fail('exists', ROOT_OFF);
    const problem = this.allowList.problem(input.url);
    if (problem) return fail('invalid', problem);
    const row: WebhookRow = {
      id: `wh_${randomHex(12)}`,
      url: input.url,
      events: JSON.stringify([...new Set(input.events)]),
      secret: input.secret ?? randomHex(32),
      created_at: Date.now(),
      cursor: 0,
    };
    const max = this.config.maxPerSandbox;
    const result = await this.database.transact(async (trx) => {
      await repo.lockSandbox(trx, sandbox.sandbox);
      if ((await repo.count(trx, sandbox.sandbox)) >= max) return fail('exists', `Webhook limit reached (MAX_WEBHOOKS=${max}): delete one first`);
      // Only events recorded from now on are delivered.
      await repo.insert(trx, sandbox.sandbox, { ...row, cursor: await repo.lastSeq(trx, sandbox.sandbox) });
      return ok(undefined);
    });
    if (!result.ok) return result;
    this.log.info({ sandbox_id: sandboxId, webhook_id: row.id, url: row.url, events: input.events }, 'webhook created');
    return ok(withSecret(row));
  }

  async list(sandboxId: string): Promise<Result<WebhookInfo[]>> {
    const sandbox = await this.findSandbox(sandboxId);
    if (!sandbox) return sandboxNotFound();
    return ok((await repo.list(this.db, sandbox.sandbox)).map(info));
  }

  async get(sandboxId: string, webhookId: string): Promise<Result<WebhookWithSecret>> {
    const sandbox = await this.findSandbox(sandboxId);
    if (!sandbox) return sandboxNotFound();
    const row = await repo.find(this.db, sandbox.sandbox, webhookId);
    return row ? ok(withSecret(row)) : webhookNotFound();
  }

  /** Deletes a subscription with its deliveries and their log; an attempt in flight is not recorded. */
  async delete(sandboxId: string, webhookId: string): Promise<Result<void>> {
    const sandbox = await this.findSandbox(sandboxId);
    if (!sandbox) return sandboxNotFound();
    if (!(await repo.remove(this.db, sandbox.sandbox, webhookId))) return webhookNotFound();
    this.log.info({ sandbox_id: sandboxId, webhook_id: webhookId }, 'webhook deleted');
    return ok(undefined);
  }

  /** Every attempt of a webhook's deliveries, newest first, at most `limit`. */
  async deliveries(sandboxId: string, webhookId: string, limit: number): Promise<Result<DeliveryAttempt[]>> {
    const sandbox = await this.findSandbox(sandboxId);
    if (!sandbox) return sandboxNotFound();
    if (!(await repo.find(this.db, sandbox.sandbox, webhookId))) return webhookNotFound();
    const rows = await repo.attempts(this.db, sandbox.sandbox, webhookId, limit);
    return ok(rows.map((r) => ({
      delivery_id: r.delivery_id,
      event_id: eventId(sandbox.sandbox, Number(r.event_seq)),
      event_seq: Number(r.event_seq),
      event_type: r.event_type,
      attempt: r.attempt,
      at: iso(r.at),
      http_status: r.http_status,
      error: r.error,
      ms: r.ms,
      state: r.state,
    })));
  }

  /**
   * Sends a delivery's event again, the same body (same event_id) newly signed: the delivery is
   * queued for an attempt now with a fresh retry budget, and the worker is woken. 409 (exists)
   * while an attempt of it is in flight.
   */
  async redeliver(sandboxId: string, webhookId: string, deliveryId: string): Promise<Result<RedeliveryQueued>> {
    const sandbox = await this.findSandbox(sandboxId);
    if (!sandbox) return sandboxNotFound();
    const delivery = await repo.delivery(this.db, sandbox.sandbox, webhookId, deliveryId);
    if (!delivery) return fail('not_found', 'Delivery not found');
    if (!(await repo.requeue(this.db, sandbox.sandbox, webhookId, deliveryId, Date.now(), this.config.maxAttempts))) {
      return fail('exists', 'An attempt of this delivery is in progress: try again when it ends');
    }
    this.wake();
    this.log.info({ sandbox_id: sandboxId, webhook_id: webhookId, delivery_id: deliveryId }, 'webhook redelivery queued');
    return ok({
      delivery_id: deliveryId,
      event_id: eventId(sandbox.sandbox, Number(delivery.event_seq)),
      event_type: delivery.event_type,
      state: 'pending',
      attempt: delivery.attempts + 1,
    });
  }

  /** After a reset: the pending deliveries of events the reset cleared are dropped (subscriptions stay). */
  async afterReset(sandbox: SandboxRow): Promise<void> {
    const dropped = await repo.dropOrphans(this.db, sandbox.sandbox);
    if (dropped > 0) this.log.info({ sandbox_id: sandbox.public_id, dropped }, 'webhook deliveries of reset events dropped');
  }
}

function info(row: WebhookRow): WebhookInfo {
  return { webhook_id: row.id, url: row.url, events: JSON.parse(row.events) as string[], created_at: iso(row.created_at) };
}

function withSecret(row: WebhookRow): WebhookWithSecret {
  return { ...info(row), secret: row.secret };
}

import { sql, type Kysely } from 'kysely';
import type { StoreSchema, WebhookAttemptRow, WebhookDeliveryRow, WebhookRow } from '../db/schema.js';

type Db = Kysely<StoreSchema>;

/** A subscription with its sandbox's key and public id, as the worker reads it. */
export interface SubscriptionCursor {
  sandbox: number;
  sandbox_id: string;
  id: string;
  events: string;
  cursor: number;
  /** The last event seq handed out in the sandbox. */
  last: number;
}

/** One event of a sandbox's timeline (the events table, spec/sandboxes.md section 3). */
export interface TimelineEvent {
  seq: number;
  at: number;
  type: string;
  data: string;
}

/** A delivery claimed for one attempt, with where and how to send it. */
export interface ClaimedDelivery {
  sandbox: number;
  sandbox_id: string;
  id: string;
  webhook_id: string;
  event_type: string;
  body: string;
  url: string;
  secret: string;
  /** This attempt's number (1 is the first). */
  attempt: number;
  last_attempt: number;
}

/** One row of the delivery log: an attempt with its delivery's event and state. */
export type AttemptLogRow = WebhookAttemptRow & Pick<WebhookDeliveryRow, 'event_seq' | 'event_type' | 'state'>;

/** The data access of webhooks (migration 0010); every call works on both dialects. */
export const webhookRepository = {
  list(db: Db, sandbox: number): Promise<WebhookRow[]> {
    return db.selectFrom('webhooks').select(['id', 'url', 'events', 'secret', 'created_at', 'cursor']).where('sandbox', '=', sandbox).orderBy('created_at').orderBy('id').execute();
  },

  find(db: Db, sandbox: number, id: string): Promise<WebhookRow | undefined> {
    return db.selectFrom('webhooks').select(['id', 'url', 'events', 'secret', 'created_at', 'cursor']).where('sandbox', '=', sandbox).where('id', '=', id).executeTakeFirst();
  },

  async count(db: Db, sandbox: number): Promise<number> {
    const row = await db.selectFrom('webhooks').select((eb) => eb.fn.countAll<number>().as('n')).where('sandbox', '=', sandbox).executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /**
   * Takes the sandbox row's lock for the rest of the transaction (a no-op update: PostgreSQL locks
   * the row, SQLite's BEGIN IMMEDIATE already holds the database), so that two subscriptions made
   * at once are counted one after the other against MAX_WEBHOOKS.
   */
  async lockSandbox(db: Db, sandbox: number): Promise<void> {
    await db.updateTable('sandboxes').set((eb) => ({ last_used_at: eb.ref('last_used_at') })).where('sandbox', '=', sandbox).execute();
  },

  /** The last event seq handed out in a sandbox (events/recorder.ts): a new subscription starts after it. */
  async lastSeq(db: Db, sandbox: number): Promise<number> {
    const row = await db.selectFrom('sandboxes').select('event_seq').where('sandbox', '=', sandbox).executeTakeFirst();
    return Number(row?.event_seq ?? 0);
  },

  async insert(db: Db, sandbox: number, row: WebhookRow): Promise<void> {
    await db.insertInto('webhooks').values({ sandbox, ...row }).execute();
  },

  /** Deletes a subscription with its deliveries and their attempts (cascade); false if there was none. */
  async remove(db: Db, sandbox: number, id: string): Promise<boolean> {
    const result = await db.deleteFrom('webhooks').where('sandbox', '=', sandbox).where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  },

  /** The sandboxes that have subscriptions, each with the `events` lists (JSON text) of its subscriptions. */
  async subscribedSandboxes(db: Db): Promise<{ sandbox: number; sandbox_id: string; events: string[] }[]> {
    const rows = await db.selectFrom('webhooks as w').innerJoin('sandboxes as s', 's.sandbox', 'w.sandbox').select(['w.sandbox', 's.public_id', 'w.events']).execute();
    const bySandbox = new Map<number, { sandbox: number; sandbox_id: string; events: string[] }>();
    for (const r of rows) {
      const key = Number(r.sandbox);
      const entry = bySandbox.get(key) ?? { sandbox: key, sandbox_id: r.public_id!, events: [] };
      entry.events.push(r.events);
      bySandbox.set(key, entry);
    }
    return [...bySandbox.values()];
  },

  /**
   * Subscriptions whose sandbox has handed out event seqs past their cursor, with the last seq
   * handed out (`last`). Compared on the sandbox row (events/recorder.ts keeps the counter there),
   * so no subscriptions means no work, and no query touches the events table until there is news.
   */
  behind(db: Db, limit: number): Promise<SubscriptionCursor[]> {
    return db
      .selectFrom('webhooks as w')
      .innerJoin('sandboxes as s', 's.sandbox', 'w.sandbox')
      .select(['w.sandbox', 's.public_id as sandbox_id', 'w.id', 'w.events', 'w.cursor', 's.event_seq as last'])
      .whereRef('s.event_seq', '>', 'w.cursor')
      .limit(limit)
      .execute()
      .then((rows) => rows.map((r) => ({ ...r, sandbox: Number(r.sandbox), sandbox_id: r.sandbox_id!, cursor: Number(r.cursor), last: Number(r.last) })));
  },

  /** Events of a sandbox with `after` < seq <= `upTo`, in order (fewer when a reset or the retention removed some). */
  eventsBetween(db: Db, sandbox: number, after: number, upTo: number, limit: number): Promise<TimelineEvent[]> {
    return db
      .selectFrom('events')
      .select(['seq', 'at', 'type', 'data'])
      .where('sandbox', '=', sandbox)
      .where('seq', '>', after)
      .where('seq', '<=', upTo)
      .orderBy('seq')
      .limit(limit)
      .execute()
      .then((rows) => rows.map((r) => ({ ...r, seq: Number(r.seq), at: Number(r.at) })));
  },

  /**
   * Moves a subscription's cursor from `from` to `to`; false if another process moved it first
   * (that process then creates the deliveries for these events, this one must not).
   */
  async advance(db: Db, sandbox: number, id: string, from: number, to: number): Promise<boolean> {
    const result = await db.updateTable('webhooks').set({ cursor: to }).where('sandbox', '=', sandbox).where('id', '=', id).where('cursor', '=', from).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  async insertDeliveries(db: Db, sandbox: number, rows: WebhookDeliveryRow[]): Promise<void> {
    if (rows.length > 0) await db.insertInto('webhook_deliveries').values(rows.map((row) => ({ sandbox, ...row }))).execute();
  },

  /** Pending deliveries due by `now` (real time) and held by no attempt in flight, every sandbox at once. */
  due(db: Db, now: number, limit: number): Promise<(ClaimedDelivery & { attempts: number })[]> {
    return db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhooks as w', (join) => join.onRef('w.sandbox', '=', 'd.sandbox').onRef('w.id', '=', 'd.webhook_id'))
      .innerJoin('sandboxes as s', 's.sandbox', 'd.sandbox')
      .select(['d.sandbox', 's.public_id as sandbox_id', 'd.id', 'd.webhook_id', 'd.event_type', 'd.body', 'd.attempts', 'd.last_attempt', 'w.url', 'w.secret'])
      .where('d.next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('d.leased_until', 'is', null), eb('d.leased_until', '<=', now)]))
      .orderBy('d.next_attempt_at')
      .orderBy('d.event_seq')
      .limit(limit)
      .execute()
      .then((rows) => rows.map((r) => ({ ...r, sandbox: Number(r.sandbox), sandbox_id: r.sandbox_id!, attempt: r.attempts + 1 })));
  },

  /**
   * Takes a due delivery for attempt number `attempts + 1` until `leaseUntil`: matches only if no
   * other claimer took or changed it since it was read, so exactly one process makes each attempt.
   */
  async claim(db: Db, sandbox: number, id: string, attempts: number, leaseUntil: number, now: number): Promise<boolean> {
    const result = await db
      .updateTable('webhook_deliveries')
      .set({ attempts: attempts + 1, leased_until: leaseUntil })
      .where('sandbox', '=', sandbox)
      .where('id', '=', id)
      .where('attempts', '=', attempts)
      .where('next_attempt_at', 'is not', null)
      .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<=', now)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  /**
   * Ends attempt `attempt` of a delivery: its new state and next due time, the lease freed. False
   * if the delivery is gone (its webhook or sandbox was deleted) or a later attempt took it over.
   */
  async settle(db: Db, sandbox: number, id: string, attempt: number, changes: Pick<WebhookDeliveryRow, 'state' | 'next_attempt_at'>): Promise<boolean> {
    const result = await db
      .updateTable('webhook_deliveries')
      .set({ ...changes, leased_until: null })
      .where('sandbox', '=', sandbox)
      .where('id', '=', id)
      .where('attempts', '=', attempt)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  async insertAttempt(db: Db, sandbox: number, row: WebhookAttemptRow): Promise<void> {
    await db.insertInto('webhook_attempts').values({ sandbox, ...row }).execute();
  },

  /**
   * Queues a delivery again for an attempt now, with a fresh retry budget; false if it does not
   * exist for that webhook, or an attempt of it is in flight.
   */
  async requeue(db: Db, sandbox: number, webhookId: string, id: string, now: number, maxAttempts: number): Promise<boolean> {
    const result = await db
      .updateTable('webhook_deliveries')
      .set((eb) => ({ state: 'pending', next_attempt_at: now, last_attempt: eb('attempts', '+', maxAttempts) }))
      .where('sandbox', '=', sandbox)
      .where('webhook_id', '=', webhookId)
      .where('id', '=', id)
      .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<=', now)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  delivery(db: Db, sandbox: number, webhookId: string, id: string): Promise<Pick<WebhookDeliveryRow, 'id' | 'event_seq' | 'event_type' | 'state' | 'attempts'> | undefined> {
    return db
      .selectFrom('webhook_deliveries')
      .select(['id', 'event_seq', 'event_type', 'state', 'attempts'])
      .where('sandbox', '=', sandbox)
      .where('webhook_id', '=', webhookId)
      .where('id', '=', id)
      .executeTakeFirst();
  },

  /** A webhook's attempts, newest first (pending deliveries not yet attempted are not listed). */
  attempts(db: Db, sandbox: number, webhookId: string, limit: number): Promise<AttemptLogRow[]> {
    return db
      .selectFrom('webhook_attempts as a')
      .innerJoin('webhook_deliveries as d', (join) => join.onRef('d.sandbox', '=', 'a.sandbox').onRef('d.id', '=', 'a.delivery_id'))
      .select(['a.delivery_id', 'a.webhook_id', 'a.attempt', 'a.at', 'a.http_status', 'a.error', 'a.ms', 'd.event_seq', 'd.event_type', 'd.state'])
      .where('a.sandbox', '=', sandbox)
      .where('a.webhook_id', '=', webhookId)
      .orderBy('a.at', 'desc')
      .orderBy('a.attempt', 'desc')
      .limit(limit)
      .execute();
  },

  /**
   * Drops a sandbox's pending deliveries of events that are no longer on its timeline (after a
   * reset cleared it): their news describes a shop that is gone.
   */
  async dropOrphans(db: Db, sandbox: number): Promise<number> {
    const result = await db
      .deleteFrom('webhook_deliveries as d')
      .where('d.sandbox', '=', sandbox)
      .where('d.state', '=', 'pending')
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('events as e').select(sql.lit(1).as('one')).whereRef('e.sandbox', '=', 'd.sandbox').whereRef('e.seq', '=', 'd.event_seq'))),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};

import type { ShopDb } from '../sandboxes/shop.js';
import { keepsTimeline } from '../shared/timeline.js';

/**
 * Every event type of a sandbox's timeline (spec/sandboxes.md section 3). `request` events carry
 * `{method, path, status, ms}`; the others carry the ids and amounts (JSON numbers, at most two
 * decimals) of the state change they record.
 */
export const EVENT_TYPES = [
  'request',
  'cart.created',
  'cart.item_added',
  'cart.item_updated',
  'cart.item_removed',
  'order.created',
  'order.paid',
  'order.payment_failed',
  'order.expired',
  'order.cancelled',
  'payment.succeeded',
  'payment.failed',
  'payment.refunded',
  'callback.attempted',
  'fault.fired',
  'clock.advanced',
  'sandbox.reset',
  'snapshot.restored',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** Which server an event happened on: gateway events are imported into the store's timeline. */
export type EventSource = 'store' | 'gateway';

/** One event to record: `at` in epoch ms of the sandbox clock, `data` a JSON object. */
export interface NewEvent {
  at: number;
  type: EventType;
  data: object;
  source?: EventSource;
}

/**
 * Records one event in the caller's transaction (`db.q` must be the transaction handle, e.g. the
 * `tx.db` of `Shop.transact`), so the event exists exactly when the state change it describes
 * commits. Returns its seq, or undefined when the sandbox no longer exists (deleted meanwhile).
 *
 * The seq is taken from `sandboxes.event_seq` by a conditional `update … returning`: on PostgreSQL
 * that locks the sandbox row until commit, so concurrent writers (any number of instances) get
 * consecutive numbers and a rolled-back transaction leaves no gap. Call it as the LAST statement
 * of the transaction, after every other lock, so that row lock is held only for the commit.
 *
 * `at`: epoch milliseconds of the sandbox clock (`shop.clock.now()`). `data`: a JSON object.
 * Retention (MAX_EVENTS_PER_SANDBOX) is applied by the sweep and on reads, not here (repository.ts).
 */
export async function recordEvent(db: ShopDb, at: number, type: EventType, data: object, source: EventSource = 'store'): Promise<number | undefined> {
  return recordEvents(db, [{ at, type, data, source }]);
}

/**
 * Records several events of one sandbox in order, with one counter update (as recordEvent, which
 * it generalises). Returns the last seq, or undefined when the sandbox is gone, `events` is empty
 * or the shop keeps no timeline (the root with ROOT_EVENTS=off).
 */
export async function recordEvents(db: ShopDb, events: NewEvent[]): Promise<number | undefined> {
  if (events.length === 0 || !keepsTimeline(db.key)) return undefined;
  const row = await db.q
    .updateTable('sandboxes')
    .set((eb) => ({ event_seq: eb('event_seq', '+', events.length) }))
    .where('sandbox', '=', db.key)
    .returning('event_seq')
    .executeTakeFirst();
  if (!row) return undefined;
  const last = Number(row.event_seq);
  const first = last - events.length + 1;
  await db.q
    .insertInto('events')
    .values(events.map((e, i) => ({ sandbox: db.key, seq: first + i, at: e.at, source: e.source ?? 'store', type: e.type, data: JSON.stringify(e.data) })))
    .execute();
  return last;
}

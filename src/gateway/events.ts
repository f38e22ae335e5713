import type { Db } from './context.js';
import { GATEWAY_EVENT_TYPES, keepsTimeline } from '../shared/timeline.js';

/** The event types the gateway records (GATEWAY_EVENT_TYPES). */
export type GatewayEventType = (typeof GATEWAY_EVENT_TYPES)[number];

/** One event of the gateway's log as the management endpoint answers it: `at` in epoch ms of the sandbox clock. */
export interface GatewayEvent {
  seq: number;
  at: number;
  type: string;
  data: unknown;
}

/**
 * Records one event in the gateway's log of sandbox `sandbox` (its `sandboxes.key`), inside the
 * caller's transaction `db`, so it exists exactly when the change it describes commits. The seq
 * comes from a conditional `update … returning` on the sandbox row (gapless across instances; on
 * PostgreSQL the row stays locked until commit, so call it last, after the account lock). `at`:
 * epoch ms of the sandbox clock; `data`: a JSON object (amounts as numbers with at most two
 * decimals). Returns the seq, or undefined when the sandbox is gone. The store imports these
 * into the sandbox's timeline (src/events/gateway-import.ts). Nothing at the root with
 * ROOT_EVENTS=off, like the store (keepsTimeline).
 */
export async function recordGatewayEvent(db: Db, sandbox: number, at: number, type: GatewayEventType, data: object): Promise<number | undefined> {
  if (!keepsTimeline(sandbox)) return undefined;
  const row = await db
    .updateTable('sandboxes')
    .set((eb) => ({ event_seq: eb('event_seq', '+', 1) }))
    .where('key', '=', sandbox)
    .returning('event_seq')
    .executeTakeFirst();
  if (!row) return undefined;
  const seq = Number(row.event_seq);
  await db.insertInto('events').values({ sandbox, seq, at, source: 'gateway', type, data: JSON.stringify(data) }).execute();
  return seq;
}

/** Reading, pruning and clearing a sandbox's gateway log. */
export const gatewayEvents = {
  /** Events with seq > `after`, oldest first, at most `limit`. */
  async list(db: Db, sandbox: number, after: number, limit: number): Promise<GatewayEvent[]> {
    const rows = await db.selectFrom('events').select(['seq', 'at', 'type', 'data']).where('sandbox', '=', sandbox).where('seq', '>', after).orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({ seq: Number(r.seq), at: Number(r.at), type: r.type, data: JSON.parse(r.data) as unknown }));
  },

  /**
   * Keeps the newest `keep` (MAX_EVENTS_PER_SANDBOX) events of every sandbox: one indexed range
   * delete per sandbox whose counter passed `keep`. Returns how many were deleted.
   */
  async prune(db: Db, keep: number): Promise<number> {
    const due = await db.selectFrom('sandboxes').select(['key', 'event_seq']).where('event_seq', '>', keep).execute();
    let deleted = 0;
    for (const { key, event_seq } of due) {
      const result = await db.deleteFrom('events').where('sandbox', '=', key).where('seq', '<=', Number(event_seq) - keep).executeTakeFirst();
      deleted += Number(result.numDeletedRows);
    }
    return deleted;
  },

  /** Deletes the sandbox's whole log; its counter stays, so seqs keep counting upward. */
  async clear(db: Db, sandbox: number): Promise<void> {
    await db.deleteFrom('events').where('sandbox', '=', sandbox).execute();
  },
};

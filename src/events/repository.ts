import type { Kysely } from 'kysely';
import type { EventRow, StoreSchema } from '../db/schema.js';

/** Reading and pruning a sandbox's timeline (rows written by recorder.ts). */
export const eventRepository = {
  /**
   * Events of sandbox `key` with seq > `after`, oldest first, at most `limit`, and only the
   * newest `keep` (MAX_EVENTS_PER_SANDBOX) of the timeline: between two prunes a reader never
   * sees more than the retention allows.
   */
  async list(db: Kysely<StoreSchema>, key: number, after: number, limit: number, keep: number): Promise<EventRow[]> {
    const counter = await db.selectFrom('sandboxes').select('event_seq').where('sandbox', '=', key).executeTakeFirst();
    if (!counter) return [];
    const from = Math.max(after, Number(counter.event_seq) - keep);
    const rows = await db
      .selectFrom('events')
      .select(['seq', 'at', 'source', 'type', 'data'])
      .where('sandbox', '=', key)
      .where('seq', '>', from)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq), at: Number(r.at) }));
  },

  /**
   * Drops every sandbox's events beyond the newest `keep`: one indexed range delete per sandbox
   * whose counter passed `keep` (cheap when nothing is due). Returns the number deleted.
   */
  async prune(db: Kysely<StoreSchema>, keep: number): Promise<number> {
    const due = await db.selectFrom('sandboxes').select(['sandbox', 'event_seq']).where('event_seq', '>', keep).execute();
    let deleted = 0;
    for (const { sandbox, event_seq } of due) {
      const result = await db.deleteFrom('events').where('sandbox', '=', Number(sandbox)).where('seq', '<=', Number(event_seq) - keep).executeTakeFirst();
      deleted += Number(result.numDeletedRows);
    }
    return deleted;
  },

  /** Deletes a sandbox's whole timeline (its counter stays: seq keeps counting upward). */
  async clear(db: Kysely<StoreSchema>, key: number): Promise<void> {
    await db.deleteFrom('events').where('sandbox', '=', key).execute();
  },
};

import type { Db } from './context.js';

/** The event types the gateway records (a subset of the store's EventType, spec/sandboxes.md section 3). */
export type GatewayEventType = 'request' | 'payment.succeeded' | 'payment.failed' | 'payment.refunded' | 'callback.attempted' | 'fault.fired';

/**
 * Records one event in the gateway's log of sandbox `sandbox` (its `sandboxes.key`), inside the
 * caller's transaction `db`, so it exists exactly when the change it describes commits. The seq
 * comes from a conditional `update … returning` on the sandbox row (gapless across instances; on
 * PostgreSQL the row stays locked until commit, so call it last). `at`: epoch ms of the sandbox
 * clock; `data`: a JSON object (amounts as numbers with at most two decimals). Returns the seq, or
 * undefined when the sandbox is gone. The store imports these into the sandbox's timeline.
 */
export async function recordGatewayEvent(db: Db, sandbox: number, at: number, type: GatewayEventType, data: object): Promise<number | undefined> {
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

import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import type { StoreSchema } from '../db/schema.js';
import type { GatewayClient } from '../sandboxes/gateway-client.js';
import { ok } from '../shared/result.js';
import { recordEvents, type EventType } from './recorder.js';
import { keepsTimeline } from '../shared/timeline.js';

/** The gateway answers at most this many events a call: a full page means there may be more. */
const PAGE = 1000;
/**
 * How long a payment callback waits for the import (a loopback call takes a few ms): the gateway
 * times its callback out (CALLBACK_TIMEOUT_MS), and a gateway that does not answer must not make
 * the store late. Past it, the events are imported at the next read, after the order's change.
 */
const CALLBACK_IMPORT_TIMEOUT_MS = 250;

/**
 * Brings a sandbox's new gateway events into its store timeline (one timeline, spec/sandboxes.md
 * section 3). The gateway keeps its own durable log (written in the transaction of each payment
 * change); the store reads what follows its cursor (`sandboxes.gateway_event_seq`) through the
 * management client and records the events under its own seqs, in the same transaction that
 * moves the cursor conditionally (`where gateway_event_seq = <the value read>`): of two instances
 * importing at once exactly one records them, the other finds the cursor moved and records nothing.
 *
 * Called when a timeline is read (GET events, the SSE poll, GET state) and when a payment callback
 * arrives, before the order changes: payment.succeeded then reads before order.paid.
 */
export class GatewayEventImporter {
  constructor(
    private readonly database: Database<StoreSchema>,
    private readonly gateway: GatewayClient,
    private readonly log: Logger,
  ) {}

  /**
   * Imports everything new; a gateway that does not answer is skipped (the next read catches up).
   * `duringCallback`: one page, waiting at most CALLBACK_IMPORT_TIMEOUT_MS for the gateway.
   */
  async import(sandbox: { key: number; id: string }, duringCallback = false): Promise<void> {
    if (!keepsTimeline(sandbox.key)) return; // the gateway records nothing there either
    try {
      if (duringCallback) await this.importPage(sandbox, CALLBACK_IMPORT_TIMEOUT_MS);
      else while (await this.importPage(sandbox)) {
        // A full page: read on.
      }
    } catch (error) {
      this.log.warn({ err: error, sandbox_id: sandbox.id }, 'gateway events import failed');
    }
  }

  /** One page; true when it was full (more may follow). */
  private async importPage(sandbox: { key: number; id: string }, timeoutMs?: number): Promise<boolean> {
    const row = await this.database.db.selectFrom('sandboxes').select('gateway_event_seq').where('sandbox', '=', sandbox.key).executeTakeFirst();
    if (!row) return false;
    const cursor = Number(row.gateway_event_seq);
    const answer = await this.gateway.events(sandbox.id, cursor, timeoutMs);
    if (!answer.ok) {
      this.log.debug({ sandbox_id: sandbox.id, reason: answer.message }, 'gateway events not imported');
      return false;
    }
    const events = answer.value.events;
    if (events.length === 0) return false;
    const imported = await this.database.transact(async (trx) => {
      const moved = await trx
        .updateTable('sandboxes')
        .set({ gateway_event_seq: events.at(-1)!.seq })
        .where('sandbox', '=', sandbox.key)
        .where('gateway_event_seq', '=', cursor)
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) !== 1) return ok(false);
      await recordEvents({ q: trx, key: sandbox.key }, events.map((e) => ({ at: e.at, type: e.type as EventType, data: e.data, source: 'gateway' as const })));
      return ok(true);
    });
    return imported.ok && imported.value && events.length === PAGE;
  }
}

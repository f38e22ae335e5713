import type { Database } from '../db/database.js';
import type { StoreSchema } from '../db/schema.js';
import { sandboxNotFound, type SandboxService } from '../sandboxes/service.js';
import { ok, type Result } from '../shared/result.js';
import type { GatewayEventImporter } from './gateway-import.js';
import { eventRepository } from './repository.js';
import type { EventSource } from './recorder.js';
import { isoTime } from '../shared/time.js';

/** One event as the API shows it: `at` is ISO 8601 (UTC), `data` the recorded object. */
export interface TimelineEvent {
  seq: number;
  at: string;
  source: EventSource;
  type: string;
  data: unknown;
}

/** A sandbox whose timeline is read: its key and public id. */
export interface TimelineRef {
  key: number;
  id: string;
}

/** Most events one read returns; a client pages on with `after` = the last seq it got. */
export const MAX_EVENTS_PER_READ = 1000;

/** Reads a sandbox's timeline (spec/sandboxes.md section 3), the gateway's new events imported first. */
export class EventService {
  constructor(
    private readonly database: Database<StoreSchema>,
    private readonly sandboxes: Pick<SandboxService, 'find'>,
    private readonly importer: Pick<GatewayEventImporter, 'import'>,
    /** MAX_EVENTS_PER_SANDBOX. */
    private readonly keep: number,
  ) {}

  /** The live sandbox of a public id, or undefined. */
  async resolve(sandboxId: string): Promise<TimelineRef | undefined> {
    const row = await this.sandboxes.find(sandboxId);
    return row && { key: row.sandbox, id: row.public_id! };
  }

  /** Events with seq > `after`, oldest first, at most `limit`. not_found: no such sandbox. */
  async list(sandboxId: string, after: number, limit = MAX_EVENTS_PER_READ): Promise<Result<{ events: TimelineEvent[] }>> {
    const ref = await this.resolve(sandboxId);
    if (!ref) return sandboxNotFound();
    return ok({ events: await this.read(ref, after, limit) });
  }

  /** Imports the gateway's new events, then reads (the SSE stream's poll). */
  async read(ref: TimelineRef, after: number, limit = MAX_EVENTS_PER_READ): Promise<TimelineEvent[]> {
    await this.importer.import(ref);
    const rows = await eventRepository.list(this.database.db, ref.key, after, limit, this.keep);
    return rows.map((r) => ({ seq: r.seq, at: isoTime(r.at), source: r.source, type: r.type, data: JSON.parse(r.data) as unknown }));
  }

  /** Whether the sandbox still exists (a stream of a deleted sandbox ends). */
  async exists(ref: TimelineRef): Promise<boolean> {
    return (await this.database.db.selectFrom('sandboxes').select('sandbox').where('sandbox', '=', ref.key).executeTakeFirst()) !== undefined;
  }
}

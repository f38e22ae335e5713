import type { Database } from '../db/database.js';
import type { StoreSchema } from '../db/schema.js';
import type { SandboxService } from '../sandboxes/service.js';
import { fail, ok, type Result } from '../shared/result.js';
import { eventRepository } from './repository.js';
import type { EventSource } from './recorder.js';

/** One event as the API shows it: `at` is ISO 8601 (UTC), `data` the recorded object. */
export interface TimelineEvent {
  seq: number;
  at: string;
  source: EventSource;
  type: string;
  data: unknown;
}

/** Most events one read returns; a client pages on with `after` = the last seq it got. */
export const MAX_EVENTS_PER_READ = 1000;

/** Reads a sandbox's timeline (spec/sandboxes.md section 3). */
export class EventService {
  constructor(
    private readonly database: Database<StoreSchema>,
    private readonly sandboxes: Pick<SandboxService, 'find'>,
    private readonly keep: number,
  ) {}

  /** Events with seq > `after`, oldest first, at most `limit`. not_found: no such sandbox. */
  async list(sandboxId: string, after: number, limit = MAX_EVENTS_PER_READ): Promise<Result<{ events: TimelineEvent[] }>> {
    const row = await this.sandboxes.find(sandboxId);
    if (!row) return fail('not_found', 'Sandbox not found');
    const rows = await eventRepository.list(this.database.db, row.sandbox, after, limit, this.keep);
    return ok({
      events: rows.map((r) => ({ seq: r.seq, at: new Date(r.at).toISOString(), source: r.source, type: r.type, data: JSON.parse(r.data) as unknown })),
    });
  }
}

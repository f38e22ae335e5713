import { sql, type Generated, type Kysely, type Selectable } from 'kysely';
import type { Dialect } from '../db/database.js';
import { SANDBOXED_TABLES, type CallbackJob, type GatewaySchema } from './repository.js';

/**
 * The `sandboxes` table and what acts on a whole sandbox at once: resolving ids, the copy
 * primitive (every create-from-snapshot, snapshot, restore and reset is a copy), deletion, the id
 * counter, and the callback jobs due across all sandboxes (each by its own clock).
 */
export interface SandboxTable {
  key: Generated<number>;
  /** The id on the wire (`default`, `run-7`); null for a snapshot. */
  public_id: string | null;
  kind: 'live' | 'snapshot';
  /** A snapshot's owner (a live sandbox's key). */
  parent_key: number | null;
  snapshot_name: string | null;
  /** Deterministic ids when set (ids.ts). */
  seed: number | null;
  /** Ids derived so far; a seeded sandbox's next id uses the next value. Copied with every snapshot. */
  id_counter: number;
  /** The sandbox clock: now = clock_frozen_at ?? real now + clock_offset_ms (epoch ms). */
  clock_frozen_at: number | null;
  clock_offset_ms: number;
  /**
   * Bumped by every restore and reset: the rows were replaced, so a callback attempt begun
   * before (its claim carries the generation it saw) is dropped instead of recorded.
   */
  generation: number;
  created_at: number;
  /** Moves with every change to the sandbox's fault rules (migration 0005; faults/repository.ts). */
  faults_version: Generated<number>;
  /** Random fault draws made so far. */
  fault_draws: Generated<number>;
  /** The last event seq handed out in this sandbox's log (migration 0004; events.ts). */
  event_seq: Generated<number>;
}

export type SandboxRow = Selectable<SandboxTable>;

/** A sandbox's time as the store sends it (issue-9 interface): frozen at an instant, or real time moved by an offset. */
export interface ClockState {
  frozen_at: number | null;
  offset_ms: number;
}

/** The root sandbox `default`: key 0, real time, never deleted (migration 0003 creates it). */
export const ROOT = { key: 0, id: 'default' } as const;

/** The hidden snapshot a sandbox returns to on reset; no snapshot name can start with '#'. */
export const CREATION_SNAPSHOT = '#created';

/** A due job with the generation of the sandbox it belongs to. */
export type DueJob = CallbackJob & { generation: number };

type Db = Kysely<GatewaySchema>;

/** The columns a copy carries over, per table: all but `sandbox` and the serial key (renumbered in order). */
const COPIED: Record<(typeof SANDBOXED_TABLES)[number], { columns: string[]; serial?: string }> = {
  accounts: { columns: ['id', 'holder', 'balance_cents'] },
  ledger: { columns: ['type', 'recipient', 'order_id', 'payment_id', 'amount_cents', 'balance_after_cents', 'created_at'], serial: 'id' },
  payments: {
    columns: ['payment_id', 'order_id', 'amount_cents', 'amount_text', 'status', 'reason', 'card_last4', 'created_at', 'refunded_at', 'response_status', 'response_json'],
    serial: 'seq',
  },
  callback_jobs: { columns: ['payment_id', 'payload', 'state', 'attempts', 'next_attempt_at', 'leased_until', 'created_at', 'updated_at'] },
  callback_attempts: { columns: ['payment_id', 'attempt', 'at', 'http_status', 'error', 'signed', 'event'], serial: 'id' },
};

export class SandboxRepository {
  constructor(private readonly dialect: Dialect) {}

  live(db: Db, publicId: string): Promise<SandboxRow | undefined> {
    return db.selectFrom('sandboxes').selectAll().where('public_id', '=', publicId).where('kind', '=', 'live').executeTakeFirst();
  }

  byKey(db: Db, key: number): Promise<SandboxRow | undefined> {
    return db.selectFrom('sandboxes').selectAll().where('key', '=', key).executeTakeFirst();
  }

  /** With `lock`, PostgreSQL holds the row until the transaction ends (management calls on one sandbox queue up). */
  async liveForUpdate(db: Db, publicId: string): Promise<SandboxRow | undefined> {
    let query = db.selectFrom('sandboxes').selectAll().where('public_id', '=', publicId).where('kind', '=', 'live');
    if (this.dialect === 'postgres') query = query.forUpdate();
    return query.executeTakeFirst();
  }

  snapshot(db: Db, parentKey: number, name: string): Promise<SandboxRow | undefined> {
    return db.selectFrom('sandboxes').selectAll().where('parent_key', '=', parentKey).where('snapshot_name', '=', name).executeTakeFirst();
  }

  snapshotKeys(db: Db, parentKey: number): Promise<number[]> {
    return db
      .selectFrom('sandboxes')
      .select('key')
      .where('parent_key', '=', parentKey)
      .execute()
      .then((rows) => rows.map((r) => r.key));
  }

  async insert(db: Db, row: Omit<SandboxRow, 'key' | 'event_seq' | 'faults_version' | 'fault_draws'>): Promise<number> {
    return (await db.insertInto('sandboxes').values(row).returning('key').executeTakeFirstOrThrow()).key;
  }

  async update(db: Db, key: number, changes: Partial<Pick<SandboxRow, 'id_counter' | 'clock_frozen_at' | 'clock_offset_ms' | 'generation'>>): Promise<void> {
    await db.updateTable('sandboxes').set(changes).where('key', '=', key).execute();
  }

  /** Takes the sandbox's next id number (1, 2, ...) in the caller's transaction. */
  async nextCounter(db: Db, key: number): Promise<number> {
    const row = await db
      .updateTable('sandboxes')
      .set((eb) => ({ id_counter: eb('id_counter', '+', 1) }))
      .where('key', '=', key)
      .returning('id_counter')
      .executeTakeFirstOrThrow();
    return row.id_counter;
  }

  /** Copies every row of sandbox `from` to sandbox `to` (which holds none), serial tables in serial order. */
  async copy(db: Db, from: number, to: number): Promise<void> {
    for (const table of SANDBOXED_TABLES) {
      const { columns, serial } = COPIED[table];
      const list = sql.join(columns.map((c) => sql.id(c)));
      const order = serial ? sql` order by ${sql.id(serial)}` : sql``;
      await sql`insert into ${sql.id(table)} (sandbox, ${list}) select ${to}, ${list} from ${sql.id(table)} where sandbox = ${from}${order}`.execute(db);
    }
  }

  /** Deletes every row of the sandbox's data (not its `sandboxes` row). */
  async clear(db: Db, key: number): Promise<void> {
    for (const table of SANDBOXED_TABLES) await db.deleteFrom(table).where('sandbox', '=', key).execute();
  }

  /** Deletes the sandbox's data, its fault rules, its event log and its row. */
  async drop(db: Db, key: number): Promise<void> {
    await this.clear(db, key);
    await db.deleteFrom('fault_rules').where('sandbox', '=', key).execute();
    await db.deleteFrom('events').where('sandbox', '=', key).execute();
    await db.deleteFrom('sandboxes').where('key', '=', key).execute();
  }

  paymentCount(db: Db, key: number): Promise<number> {
    return db
      .selectFrom('payments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('sandbox', '=', key)
      .executeTakeFirstOrThrow()
      .then((r) => Number(r.n));
  }

  /**
   * Pending jobs due by their own sandbox's clock and held by no attempt in flight, across every
   * live sandbox. `realNow` is real time (epoch ms); each sandbox's now is computed from its row.
   */
  dueJobs(db: Db, realNow: number, limit: number): Promise<DueJob[]> {
    return db
      .selectFrom('callback_jobs as j')
      .innerJoin('sandboxes as s', 's.key', 'j.sandbox')
      .selectAll('j')
      .select('s.generation')
      .where('s.kind', '=', 'live')
      .where('j.state', '=', 'pending')
      .where((eb) => eb.or([eb('j.leased_until', 'is', null), eb('j.leased_until', '<=', realNow)]))
      .where(sql<boolean>`j.next_attempt_at <= coalesce(s.clock_frozen_at, ${realNow} + s.clock_offset_ms)`)
      .orderBy('j.next_attempt_at')
      .limit(limit)
      .execute();
  }

  /**
   * Takes a due job for one attempt by leasing it until `leaseUntil` (real time). The update only
   * matches if nobody took or changed the job since it was read, so among concurrent claimers (in
   * this process or another) exactly one gets it.
   */
  async claimJob(db: Db, job: CallbackJob, leaseUntil: number, realNow: number): Promise<boolean> {
    const result = await db
      .updateTable('callback_jobs')
      .set({ leased_until: leaseUntil, updated_at: realNow })
      .where('sandbox', '=', job.sandbox)
      .where('payment_id', '=', job.payment_id)
      .where('state', '=', 'pending')
      .where('attempts', '=', job.attempts)
      .where('payload', '=', job.payload)
      .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<=', realNow)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}

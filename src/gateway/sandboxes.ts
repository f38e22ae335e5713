import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import type { FaultBook } from '../faults/book.js';
import { parseFaultRules, type FaultRule } from '../faults/rules.js';
import { toAmount } from '../shared/money.js';
import { ok } from '../shared/result.js';
import type { Db } from './context.js';
import { ACCOUNT_ID } from './ledger.js';
import { DEFAULT_ACCOUNT } from './migrations.js';
import { gatewayEvents } from './events.js';
import type { GatewaySchema } from './repository.js';
import { failed, type Answer } from './requests.js';
import { CREATION_SNAPSHOT, ROOT, type SandboxRepository, type SandboxRow } from './sandbox-repository.js';
import { clockOf } from './service.js';
import { parseClock, parseCreate, parseSandboxId, parseSnapshotName } from './sandbox-requests.js';

/** The messages of the management endpoints (issue-9 interface). */
export const SANDBOX_MESSAGES = {
  notFound: 'Sandbox not found',
  exists: 'Sandbox already exists',
  snapshotNotFound: 'Snapshot not found',
  defaultNotDeletable: 'The default sandbox cannot be deleted',
  defaultRealTime: 'The default sandbox keeps real time',
} as const;

/** An answer that ends a management call early: thrown inside its transaction, so nothing is kept. */
class Refusal extends Error {
  constructor(readonly answer: Answer) {
    super(String(answer.body.message));
  }
}

const refuse = (status: number, message: string): never => {
  throw new Refusal(failed(status, message));
};

/** A unique key already taken: two creates of one id racing (PostgreSQL 23505, SQLite's constraint error). */
const isUniqueViolation = (error: unknown): boolean => {
  const code = (error as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
};

const noContent: Answer = { status: 204, body: {} };

/**
 * The gateway's half of sandbox management, called by the store (admin-routes.ts). Each call is
 * one transaction; every state change is a copy between sandbox keys (SandboxRepository.copy):
 * create from a snapshot, snapshot, restore, and reset (back to the hidden creation snapshot
 * taken at create). A refused call changes nothing.
 */
export class SandboxAdmin {
  constructor(
    private readonly database: Database<GatewaySchema>,
    private readonly repo: SandboxRepository,
    private readonly log: Logger,
    /** Called after a sandbox's clock changed: callback retries it made due go out at once. */
    private readonly clockMoved: () => void,
    private readonly faults: FaultBook,
  ) {}

  /**
   * PUT /admin/sandboxes/{id}/faults `{rules: [{index, rule}]}`: the gateway's rules of a sandbox
   * (the store keeps the whole list; each rule keeps its index in it), replacing the previous ones.
   */
  async setFaults(rawId: string, body: unknown): Promise<Answer> {
    const id = parseSandboxId(rawId);
    if (!id.ok) return id.answer;
    const entries = (body as { rules?: unknown } | null)?.rules;
    if (!Array.isArray(entries) || !entries.every((e) => Number.isInteger((e as { index?: unknown } | null)?.index))) {
      return failed(400, 'Body must be {"rules": [{"index": <integer>, "rule": {...}}]}');
    }
    const typed = entries as { index: number; rule: unknown }[];
    const parsed = parseFaultRules({ rules: typed.map((e) => e.rule) }, Number.MAX_SAFE_INTEGER);
    if (!parsed.ok) return failed(400, parsed.message);
    let key: number | undefined;
    const answer = await this.run(async (trx) => {
      const row = await this.live(trx, id.value, true);
      key = row.key;
      await this.faults.repo.replace(trx, row.key, parsed.value.map((rule, i) => ({ index: typed[i]!.index, rule, server: 'gateway' as const })));
      return { status: 200, body: { sandbox_id: id.value, rules: parsed.value.length } };
    });
    // After the commit: a request reading the rules before it would cache the old list under the new version.
    if (key !== undefined) this.faults.invalidate(key);
    if (answer.status === 200) this.log.info({ sandbox_id: id.value, rules: parsed.value.length }, 'fault rules set');
    return answer;
  }

  /** GET /admin/sandboxes/{id}/faults: how often each rule fired, by index. */
  async faultCounts(rawId: string): Promise<Answer> {
    const id = parseSandboxId(rawId);
    if (!id.ok) return id.answer;
    return this.run(async (trx) => {
      const row = await this.live(trx, id.value);
      const rules = (await this.faults.repo.rules(trx, row.key)).map((r) => ({ index: r.idx, kind: (JSON.parse(r.rule) as FaultRule).kind, fired: r.fired }));
      return { status: 200, body: { sandbox_id: id.value, rules } };
    });
  }

  /** POST /admin/sandboxes: a fresh account at 50000.0, or a copy of `from`'s snapshot; 201. */
  async create(body: unknown): Promise<Answer> {
    const parsed = parseCreate(body);
    if (!parsed.ok) return parsed.answer;
    const { sandboxId, seed, clock, from } = parsed.value;
    const answer = await this.run(async (trx) => {
      if (await this.repo.live(trx, sandboxId)) refuse(409, SANDBOX_MESSAGES.exists);
      let source: SandboxRow | undefined;
      if (from) {
        const owner = await this.repo.live(trx, from.sandboxId);
        source = owner && (await this.repo.snapshot(trx, owner.key, from.snapshot));
        if (!source) refuse(404, SANDBOX_MESSAGES.snapshotNotFound);
      }
      const row = { seed, id_counter: source?.id_counter ?? 0, clock_frozen_at: clock.frozen_at, clock_offset_ms: clock.offset_ms, generation: 0, created_at: Date.now() };
      const key = await this.repo.insert(trx, { public_id: sandboxId, kind: 'live', parent_key: null, snapshot_name: null, ...row });
      if (source) await this.repo.copy(trx, source.key, key);
      else await this.freshAccount(trx, key);
      await this.saveSnapshot(trx, key, CREATION_SNAPSHOT, row);
      return { status: 201, body: { sandbox_id: sandboxId, balance: await this.balance(trx, key) } };
    }).catch((error: unknown) => {
      if (isUniqueViolation(error)) return failed(409, SANDBOX_MESSAGES.exists);
      throw error;
    });
    if (answer.status === 201) this.log.info({ sandbox_id: sandboxId, seed, from: from ?? null }, 'sandbox created');
    return answer;
  }

  /** GET /admin/sandboxes/{id}: balance and number of payments. */
  async get(rawId: string): Promise<Answer> {
    const id = parseSandboxId(rawId);
    if (!id.ok) return id.answer;
    return this.run(async (trx) => {
      const row = await this.live(trx, id.value);
      return { status: 200, body: { sandbox_id: id.value, balance: await this.balance(trx, row.key), payments: await this.repo.paymentCount(trx, row.key) } };
    });
  }

  /** DELETE /admin/sandboxes/{id}: the sandbox and its snapshots; 204 also when it does not exist. */
  async remove(rawId: string): Promise<Answer> {
    const id = parseSandboxId(rawId);
    if (!id.ok) return id.answer;
    if (id.value === ROOT.id) return failed(409, SANDBOX_MESSAGES.defaultNotDeletable);
    const deleted = await this.run(async (trx) => {
      const row = await this.repo.liveForUpdate(trx, id.value);
      if (!row) return false;
      for (const key of await this.repo.snapshotKeys(trx, row.key)) await this.repo.drop(trx, key);
      await this.repo.drop(trx, row.key);
      return true;
    });
    if (deleted === true) this.log.info({ sandbox_id: id.value }, 'sandbox deleted');
    return noContent;
  }

  /** POST /admin/sandboxes/{id}/reset: back to the state at creation, with the clock given. */
  reset(rawId: string, body: unknown): Promise<Answer> {
    return this.restoreFrom(rawId, CREATION_SNAPSHOT, body, 'sandbox reset to its creation state');
  }

  /** POST /admin/sandboxes/{id}/snapshots/{name}/restore: the saved state back exactly. */
  async restore(rawId: string, rawName: string, body: unknown): Promise<Answer> {
    const name = parseSnapshotName(rawName);
    if (!name.ok) return name.answer;
    return this.restoreFrom(rawId, name.value, body, 'sandbox restored from a snapshot');
  }

  /** PUT /admin/sandboxes/{id}/snapshots/{name}: saves (or replaces) a snapshot; 201. */
  async snapshot(rawId: string, rawName: string): Promise<Answer> {
    const id = parseSandboxId(rawId);
    if (!id.ok) return id.answer;
    const name = parseSnapshotName(rawName);
    if (!name.ok) return name.answer;
    const answer = await this.run(async (trx) => {
      const row = await this.live(trx, id.value, true);
      const existing = await this.repo.snapshot(trx, row.key, name.value);
      if (existing) await this.repo.drop(trx, existing.key);
      await this.saveSnapshot(trx, row.key, name.value, row);
      return { status: 201, body: { sandbox_id: id.value, snapshot: name.value } };
    });
    if (answer.status === 201) this.log.info({ sandbox_id: id.value, snapshot: name.value }, 'sandbox snapshot saved');
    return answer;
  }

  /** DELETE /admin/sandboxes/{id}/snapshots/{name}: 204, also when there is no such snapshot. */
  async deleteSnapshot(rawId: string, rawName: string): Promise<Answer> {
    const id = parseSandboxId(rawId);
    if (!id.ok) return id.answer;
    const name = parseSnapshotName(rawName);
    if (!name.ok) return name.answer;
    return this.run(async (trx) => {
      const row = await this.live(trx, id.value, true);
      const existing = await this.repo.snapshot(trx, row.key, name.value);
      if (existing) await this.repo.drop(trx, existing.key);
      return noContent;
    });
  }

  /** PUT /admin/sandboxes/{id}/clock: the sandbox's new time; pending retries due under it go out at once. */
  async setClock(rawId: string, body: unknown): Promise<Answer> {
    const id = parseSandboxId(rawId);
    if (!id.ok) return id.answer;
    const clock = parseClock(body, true);
    if (!clock.ok) return clock.answer;
    if (id.value === ROOT.id) return failed(409, SANDBOX_MESSAGES.defaultRealTime);
    const state = clock.value!;
    const answer = await this.run(async (trx) => {
      const row = await this.live(trx, id.value, true);
      await this.repo.update(trx, row.key, { clock_frozen_at: state.frozen_at, clock_offset_ms: state.offset_ms });
      return { status: 200, body: { sandbox_id: id.value, now: new Date(clockOf({ clock_frozen_at: state.frozen_at, clock_offset_ms: state.offset_ms }).now()).toISOString() } };
    });
    if (answer.status === 200) {
      this.log.info({ sandbox_id: id.value, now: answer.body.now }, 'sandbox clock set');
      this.clockMoved();
    }
    return answer;
  }

  /** Replaces the sandbox's rows (and id counter) with those of its snapshot `name`, and sets its clock. */
  private async restoreFrom(rawId: string, name: string, body: unknown, event: string): Promise<Answer> {
    const id = parseSandboxId(rawId);
    if (!id.ok) return id.answer;
    const clock = parseClock(body, false);
    if (!clock.ok) return clock.answer;
    let key: number | undefined;
    const answer = await this.run(async (trx) => {
      const row = await this.live(trx, id.value, true);
      key = row.key;
      const saved = await this.repo.snapshot(trx, row.key, name);
      if (!saved) return refuse(404, SANDBOX_MESSAGES.snapshotNotFound);
      await this.repo.clear(trx, row.key);
      await this.repo.copy(trx, saved.key, row.key);
      // A reset clears the fault rules and their draws, and starts a new timeline (its seq counts on);
      // a restore keeps the rules (snapshots do not carry faults) and is part of the history.
      if (name === CREATION_SNAPSHOT) {
        await this.faults.repo.replace(trx, row.key, [], true);
        await gatewayEvents.clear(trx, row.key);
      }
      // `default` keeps real time whatever the store sends.
      const time = clock.value && row.key !== ROOT.key ? { clock_frozen_at: clock.value.frozen_at, clock_offset_ms: clock.value.offset_ms } : {};
      await this.repo.update(trx, row.key, { id_counter: saved.id_counter, generation: row.generation + 1, ...time });
      return { status: 200, body: { sandbox_id: id.value, balance: await this.balance(trx, row.key) } };
    });
    if (key !== undefined) this.faults.invalidate(key);
    if (answer.status === 200) {
      this.log.info({ sandbox_id: id.value, snapshot: name === CREATION_SNAPSHOT ? null : name }, event);
      this.clockMoved();
    }
    return answer;
  }

  /** One transaction; a Refusal thrown inside rolls it back and becomes the answer. */
  private async run<T>(fn: (trx: Db) => Promise<T>): Promise<T | Answer> {
    try {
      const result = await this.database.transact(async (trx) => ok(await fn(trx)));
      if (!result.ok) throw new Error(result.message);
      return result.value;
    } catch (error) {
      if (error instanceof Refusal) return error.answer;
      throw error;
    }
  }

  /** The live sandbox, locked for the transaction when `lock` (PostgreSQL); refuses 404 if unknown. */
  private async live(trx: Db, sandboxId: string, lock = false): Promise<SandboxRow> {
    const row = lock ? await this.repo.liveForUpdate(trx, sandboxId) : await this.repo.live(trx, sandboxId);
    return row ?? refuse(404, SANDBOX_MESSAGES.notFound);
  }

  /** A hidden snapshot row owned by `owner`, holding a copy of its rows and its counter. */
  private async saveSnapshot(trx: Db, owner: number, name: string, from: Pick<SandboxRow, 'seed' | 'id_counter' | 'clock_frozen_at' | 'clock_offset_ms'>): Promise<void> {
    const { seed, id_counter, clock_frozen_at, clock_offset_ms } = from;
    const key = await this.repo.insert(trx, {
      public_id: null,
      kind: 'snapshot',
      parent_key: owner,
      snapshot_name: name,
      seed,
      id_counter,
      clock_frozen_at,
      clock_offset_ms,
      generation: 0,
      created_at: Date.now(),
    });
    await this.repo.copy(trx, owner, key);
  }

  private async freshAccount(trx: Db, key: number): Promise<void> {
    await trx.insertInto('accounts').values({ sandbox: key, id: DEFAULT_ACCOUNT.id, holder: DEFAULT_ACCOUNT.holder, balance_cents: DEFAULT_ACCOUNT.balanceCents }).execute();
  }

  private async balance(trx: Db, key: number): Promise<number> {
    const account = await trx.selectFrom('accounts').select('balance_cents').where('sandbox', '=', key).where('id', '=', ACCOUNT_ID).executeTakeFirstOrThrow();
    return toAmount(account.balance_cents);
  }
}

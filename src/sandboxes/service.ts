import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { SandboxConfig } from '../config.js';
import type { Database } from '../db/database.js';
import type { SandboxRow, StoreSchema } from '../db/schema.js';
import { apiCatalogProblem, insertCatalog, type SeedCatalog } from '../db/seed.js';
import { fail, ok, type Result } from '../shared/result.js';
import type { FaultBook } from '../faults/book.js';
import { faultViews, faultViewsOf, type FaultView } from '../faults/service.js';
import type { GatewayClient } from './gateway-client.js';
import { sandboxRepository as sandboxes, type SandboxCounts } from './repository.js';
import { clockOf, type ClockState, type ShopFactory } from './shop.js';
import { eventRepository } from '../events/repository.js';
import { recordEvent } from '../events/recorder.js';
import { isoTime as iso } from '../shared/time.js';

/** Public sandbox ids (the contract) and snapshot names (the gateway interface). */
export const SANDBOX_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface CreateSandbox {
  sandbox_id?: string | undefined;
  catalog?: unknown;
  seed?: number | undefined;
  from?: { sandbox_id: string; snapshot: string } | undefined;
  now?: string | undefined;
}

export interface SandboxCreated {
  sandbox_id: string;
  store_url: string;
  payments_url: string;
  created_at: string;
  expires_at: string | null;
}

export interface SandboxInfo extends SandboxCreated {
  last_used_at: string;
  seed: number | null;
  clock: { now: string; frozen: boolean };
  counts: SandboxCounts & { payments: number | null };
  /** Its fault rules (as GET .../faults lists them; gateway counts are null in the list). */
  faults: FaultView[];
}

export interface SnapshotInfo {
  name: string;
  created_at: string;
}

/** The answer every sandbox operation gives for an unknown id (spec/sandboxes.md section 1: 404). */
export const sandboxNotFound = () => fail('not_found', 'Sandbox not found');
const DEFAULT_ID = 'default';

/**
 * Sandbox management: create, list, get, delete, reset, snapshots and the clock. Every operation
 * that has a gateway half runs the store half in one transaction and calls the gateway before
 * committing: if the gateway fails, the transaction rolls back and nothing changed on either
 * side. Only a store commit failing after the gateway succeeded could leave the two apart (the
 * gateway's half of a create is then undone; see README "Sandboxes").
 */
export class SandboxService {
  private readonly ttlMs: number;
  private readonly resetListeners: ((row: SandboxRow) => Promise<void>)[] = [];

  constructor(
    private readonly database: Database<StoreSchema>,
    private readonly shops: ShopFactory,
    private readonly gateway: GatewayClient,
    private readonly config: SandboxConfig,
    private readonly log: Logger,
    private readonly faults: FaultBook,
  ) {
    this.ttlMs = config.ttlSeconds * 1000;
  }

  private get db(): Kysely<StoreSchema> {
    return this.database.db;
  }

  urls(id: string): { store_url: string; payments_url: string } {
    const suffix = id === DEFAULT_ID ? '' : `/sandboxes/${id}`;
    return { store_url: `${this.config.publicStoreUrl}${suffix}`, payments_url: `${this.config.publicPaymentsUrl}${suffix}` };
  }

  private created(row: SandboxRow): SandboxCreated {
    const id = row.public_id!;
    return { sandbox_id: id, ...this.urls(id), created_at: iso(row.created_at), expires_at: row.expires_at === null ? null : iso(row.expires_at) };
  }

  /** The live row of a public id, or undefined (an id outside the pattern cannot exist). */
  find(id: string): Promise<SandboxRow | undefined> {
    return SANDBOX_ID.test(id) ? sandboxes.findLive(this.db, id) : Promise.resolve(undefined);
  }

  async create(input: CreateSandbox): Promise<Result<SandboxCreated>> {
    const id = input.sandbox_id ?? `sbx_${randomBytes(12).toString('hex')}`;
    if (!SANDBOX_ID.test(id)) return fail('rejected', 'sandbox_id must match ^[a-z0-9][a-z0-9_-]{0,63}$');
    if (input.catalog !== undefined && input.from !== undefined) return fail('rejected', 'Give either catalog or from, not both');
    if (input.catalog !== undefined) {
      const problem = apiCatalogProblem(input.catalog, this.config.maxCatalogProducts);
      if (problem) return fail('invalid', problem);
    }
    let start: number | null = null;
    if (input.now !== undefined) {
      start = Date.parse(input.now);
      if (Number.isNaN(start)) return fail('rejected', `now must be an ISO 8601 time, got '${input.now}'`);
    }
    if (id === DEFAULT_ID || (await sandboxes.findLive(this.db, id))) return fail('exists', 'Sandbox already exists');
    if ((await sandboxes.countLive(this.db)) >= this.config.maxSandboxes) {
      return fail('exists', `Sandbox limit reached (MAX_SANDBOXES=${this.config.maxSandboxes}): delete one first`);
    }
    let source: SandboxRow | undefined;
    if (input.from) {
      const parent = await this.find(input.from.sandbox_id);
      if (!parent) return sandboxNotFound();
      source = await sandboxes.findHidden(this.db, parent.sandbox, 'snapshot', input.from.snapshot);
      if (!source) return fail('not_found', 'Snapshot not found');
    }
    const template = input.catalog === undefined && !source ? await sandboxes.template(this.db) : undefined;
    const now = Date.now();
    const clock: ClockState = start !== null ? { frozen_at: start, offset_ms: 0 } : source ? { frozen_at: source.frozen_at, offset_ms: source.offset_ms } : { frozen_at: null, offset_ms: 0 };
    const seed = input.seed ?? source?.seed ?? null;
    const result = await this.database.transact<SandboxRow>(async (trx) => {
      const row: Omit<SandboxRow, 'sandbox'> = {
        public_id: id, kind: 'live', parent: null, name: null, origin: null, seed, faults_version: 0, fault_draws: 0,
        id_counter: source?.id_counter ?? 0, ...clock, start_at: start,
        created_at: now, last_used_at: now, expires_at: now + this.ttlMs,
      };
      const key = await sandboxes.insert(trx, row);
      // Another request created the same id between our check and this insert.
      if (key === undefined) return fail('exists', 'Sandbox already exists');
      let origin = template?.sandbox ?? null;
      if (input.catalog !== undefined) {
        const catalog = input.catalog as SeedCatalog;
        await insertCatalog({ q: trx, key }, catalog.categories, catalog.products);
      } else {
        await sandboxes.copyState(trx, (source ?? template)!.sandbox, key);
      }
      if (origin === null) {
        // Custom catalogs and forks keep their creation state: reset returns to it.
        origin = (await sandboxes.insert(trx, { ...row, public_id: null, kind: 'creation', parent: key }))!;
        await sandboxes.copyState(trx, key, origin);
      }
      await sandboxes.update(trx, key, { origin });
      const gateway = await this.gateway.create(id, seed, clock, input.from);
      if (!gateway.ok) return gateway.kind === 'exists' ? fail('exists', 'Sandbox already exists') : gateway;
      return ok({ ...row, sandbox: key, origin });
    });
    if (!result.ok) return result;
    this.log.info({ sandbox_id: id, seed, from: input.from, custom_catalog: input.catalog !== undefined }, 'sandbox created');
    return ok(this.created(result.value));
  }

  async list(): Promise<SandboxInfo[]> {
    const rows = await sandboxes.listLive(this.db);
    const keys = rows.map((r) => r.sandbox);
    const counts = await sandboxes.counts(this.db, keys);
    const faults = await this.faults.repo.rulesOf(this.db, keys);
    return rows.map((row) => this.info(row, counts.get(row.sandbox)!, null, faultViews(faults.get(row.sandbox)!, undefined)));
  }

  async get(id: string): Promise<Result<SandboxInfo>> {
    const row = await this.find(id);
    if (!row) return sandboxNotFound();
    const counts = (await sandboxes.counts(this.db, [row.sandbox])).get(row.sandbox)!;
    const gateway = await this.gateway.get(id);
    const faults = await faultViewsOf(this.gateway, id, await this.faults.repo.rules(this.db, row.sandbox));
    return ok(this.info(row, counts, gateway.ok ? (gateway.value.payments ?? null) : null, faults));
  }

  private info(row: SandboxRow, counts: SandboxCounts, payments: number | null, faults: FaultView[]): SandboxInfo {
    return {
      ...this.created(row),
      last_used_at: iso(row.last_used_at),
      seed: row.seed,
      clock: { now: iso(clockOf(row).now()), frozen: row.frozen_at !== null },
      counts: { ...counts, payments },
      faults,
    };
  }

  async delete(id: string): Promise<Result<void>> {
    if (id === DEFAULT_ID) return fail('exists', 'The default sandbox cannot be deleted');
    const row = await this.find(id);
    if (!row) return sandboxNotFound();
    const result = await this.database.transact(async (trx) => {
      const hidden = await trx.selectFrom('sandboxes').select('sandbox').where('parent', '=', row.sandbox).execute();
      for (const { sandbox } of hidden) await sandboxes.remove(trx, Number(sandbox));
      await sandboxes.remove(trx, row.sandbox);
      const gateway = await this.gateway.delete(id);
      return gateway.ok ? ok(undefined) : gateway;
    });
    if (result.ok) {
      this.shops.drop(row.sandbox);
      this.log.info({ sandbox_id: id }, 'sandbox deleted');
    }
    return result;
  }

  /**
   * Replaces a sandbox's state with a hidden row's (its creation state, or a snapshot): data,
   * clock and id counter, with the gateway's half in the same step.
   */
  private async restoreFrom(
    row: SandboxRow,
    source: SandboxRow,
    clock: ClockState,
    event: { type: 'sandbox.reset' } | { type: 'snapshot.restored'; snapshot: string },
    gatewayHalf: () => Promise<Result<unknown>>,
  ): Promise<Result<void>> {
    return this.database.transact(async (trx) => {
      await sandboxes.clearState(trx, row.sandbox);
      await sandboxes.copyState(trx, source.sandbox, row.sandbox);
      await sandboxes.update(trx, row.sandbox, { ...clock, id_counter: source.id_counter, last_used_at: Date.now() });
      // A reset starts a new timeline (seq counts on, so a resumed stream misses nothing) and clears
      // the fault rules and their draws (the gateway clears its own); a restore is part of the
      // history and keeps the rules in force: snapshots do not carry faults.
      if (event.type === 'sandbox.reset') {
        await eventRepository.clear(trx, row.sandbox);
        await this.faults.repo.replace(trx, row.sandbox, [], true);
      }
      const db = { q: trx, key: row.sandbox };
      await recordEvent(db, clockOf(clock).now(), event.type, event.type === 'snapshot.restored' ? { snapshot: event.snapshot } : {});
      const gateway = await gatewayHalf();
      return gateway.ok ? ok(undefined) : gateway;
    });
  }

  /** Runs `listener` after every reset that succeeded (webhooks drop the deliveries of the events it cleared). */
  onReset(listener: (row: SandboxRow) => Promise<void>): void {
    this.resetListeners.push(listener);
  }

  async reset(id: string): Promise<Result<SandboxInfo>> {
    const row = await this.find(id);
    if (!row) return sandboxNotFound();
    const origin = row.origin === null ? await sandboxes.template(this.db) : await this.db.selectFrom('sandboxes').selectAll().where('sandbox', '=', row.origin).executeTakeFirst();
    if (!origin) return fail('unavailable', 'Sandbox has no creation state to reset to');
    // The template has no clock of its own: the sandbox's start (its `now`), or real time.
    const clock: ClockState = origin.kind === 'template' ? { frozen_at: row.start_at, offset_ms: 0 } : { frozen_at: origin.frozen_at, offset_ms: origin.offset_ms };
    const result = await this.restoreFrom(row, { ...origin, id_counter: origin.kind === 'template' ? 0 : origin.id_counter }, clock, { type: 'sandbox.reset' }, () => this.gateway.reset(id, clock));
    this.faults.invalidate(row.sandbox);
    if (!result.ok) return result;
    this.log.info({ sandbox_id: id }, 'sandbox reset');
    for (const listener of this.resetListeners) await listener(row).catch((error: unknown) => this.log.error({ err: error, sandbox_id: id }, 'after-reset step failed'));
    return this.get(id);
  }

  async saveSnapshot(id: string, name: string): Promise<Result<SnapshotInfo>> {
    if (!SNAPSHOT_NAME.test(name)) return fail('rejected', 'name must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$');
    const row = await this.find(id);
    if (!row) return sandboxNotFound();
    const now = Date.now();
    const result = await this.database.transact(async (trx) => {
      const previous = await sandboxes.findHidden(trx, row.sandbox, 'snapshot', name);
      if (previous) await sandboxes.remove(trx, previous.sandbox);
      // The clock and counter as of this transaction (a request may have moved them since `row` was read).
      const { sandbox: _key, ...current } = (await trx.selectFrom('sandboxes').selectAll().where('sandbox', '=', row.sandbox).executeTakeFirst()) ?? row;
      const key = (await sandboxes.insert(trx, { ...current, public_id: null, kind: 'snapshot', parent: row.sandbox, name, created_at: now, last_used_at: now, expires_at: null }))!;
      await sandboxes.copyState(trx, row.sandbox, key);
      const gateway = await this.gateway.saveSnapshot(id, name);
      return gateway.ok ? ok(undefined) : gateway;
    });
    if (!result.ok) return result;
    this.log.info({ sandbox_id: id, snapshot: name }, 'snapshot saved');
    return ok({ name, created_at: iso(now) });
  }

  async snapshots(id: string): Promise<Result<SnapshotInfo[]>> {
    const row = await this.find(id);
    if (!row) return sandboxNotFound();
    return ok((await sandboxes.snapshots(this.db, row.sandbox)).map((s) => ({ name: s.name!, created_at: iso(s.created_at) })));
  }

  async restore(id: string, name: string): Promise<Result<SandboxInfo>> {
    const row = await this.find(id);
    if (!row) return sandboxNotFound();
    const snapshot = SNAPSHOT_NAME.test(name) ? await sandboxes.findHidden(this.db, row.sandbox, 'snapshot', name) : undefined;
    if (!snapshot) return fail('not_found', 'Snapshot not found');
    const clock: ClockState = { frozen_at: snapshot.frozen_at, offset_ms: snapshot.offset_ms };
    const result = await this.restoreFrom(row, snapshot, clock, { type: 'snapshot.restored', snapshot: name }, () => this.gateway.restore(id, name, clock));
    if (!result.ok) return result;
    this.log.info({ sandbox_id: id, snapshot: name }, 'snapshot restored');
    return this.get(id);
  }

  async deleteSnapshot(id: string, name: string): Promise<Result<void>> {
    const row = await this.find(id);
    if (!row) return sandboxNotFound();
    const snapshot = SNAPSHOT_NAME.test(name) ? await sandboxes.findHidden(this.db, row.sandbox, 'snapshot', name) : undefined;
    if (!snapshot) return fail('not_found', 'Snapshot not found');
    return this.database.transact(async (trx) => {
      await sandboxes.remove(trx, snapshot.sandbox);
      const gateway = await this.gateway.deleteSnapshot(id, name);
      return gateway.ok ? ok(undefined) : gateway;
    });
  }

  async clock(id: string): Promise<Result<{ now: string }>> {
    const row = await this.find(id);
    return row ? ok({ now: iso(clockOf(row).now()) }) : sandboxNotFound();
  }

  /**
   * Moves a sandbox's clock forward (`advance_seconds`, or to `now`), never back. The gateway is
   * told first (its due callback retries go out at once); then the store's clock moves, and
   * orders past their deadline expire and idle carts go, before the answer.
   */
  async setClock(id: string, change: { advance_seconds?: number | undefined; now?: string | undefined }): Promise<Result<{ now: string }>> {
    const row = await this.find(id);
    if (!row) return sandboxNotFound();
    if (row.sandbox === 0) return fail('exists', 'The clock of the default sandbox follows real time');
    if ((change.advance_seconds === undefined) === (change.now === undefined)) return fail('rejected', 'Give either advance_seconds or now');
    const current = clockOf(row).now();
    const target = change.now !== undefined ? Date.parse(change.now) : current + change.advance_seconds! * 1000;
    if (Number.isNaN(target)) return fail('rejected', `now must be an ISO 8601 time, got '${change.now}'`);
    if (target < current) return fail('rejected', `The clock never goes backwards (it is ${iso(current)})`);
    const clock: ClockState = row.frozen_at !== null ? { frozen_at: target, offset_ms: 0 } : { frozen_at: null, offset_ms: target - Date.now() };
    const gateway = await this.gateway.setClock(id, clock);
    if (!gateway.ok) return gateway;
    await this.database.transact(async (trx) => {
      await sandboxes.update(trx, row.sandbox, clock);
      await recordEvent({ q: trx, key: row.sandbox }, target, 'clock.advanced', { from: iso(current), to: iso(target), advanced_seconds: (target - current) / 1000 });
      return ok(undefined);
    });
    const shop = this.shops.forRow({ ...row, ...clock });
    const expired = await shop.orders.expireDue();
    const carts = await shop.carts.sweep();
    this.log.info({ sandbox_id: id, now: iso(target), expired_orders: expired, deleted_carts: carts }, 'sandbox clock moved');
    return ok({ now: iso(target) });
  }

  /** Deletes live sandboxes idle past SANDBOX_TTL_SECONDS; one whose gateway half cannot be deleted now waits for the next sweep. */
  async sweepIdle(): Promise<number> {
    let count = 0;
    for (const id of await sandboxes.idle(this.db, Date.now())) if ((await this.delete(id)).ok) count++;
    return count;
  }

  /** Records a shop request's use of a sandbox, at most once a minute per sandbox (a read stays a read otherwise). */
  touch(row: SandboxRow): void {
    const now = Date.now();
    if (row.sandbox === 0 || now - row.last_used_at < 60_000) return;
    sandboxes.touch(this.db, row.sandbox, now, this.ttlMs).catch((error: unknown) => this.log.warn({ err: error }, 'sandbox touch failed'));
  }
}

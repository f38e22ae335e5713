import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import type { SandboxFaults } from '../faults/book.js';
import { ok } from '../shared/result.js';
import { recordGatewayEvent, type GatewayEventType } from './events.js';
import { GatewayRepository, type GatewaySchema } from './repository.js';

export type Db = Kysely<GatewaySchema>;

/** A sandbox's time source: epoch milliseconds, frozen, real time plus an offset, or real time (the root). */
export interface Clock {
  now(): number;
}

/** Where new payment ids come from: random, or derived from a seeded sandbox's counter (ids.ts). */
export interface IdSource {
  /** A new `pay_` id; a seeded source takes its counter in `trx`, the transaction that creates the payment. */
  payment(trx: Db): Promise<string>;
}

/** Which sandbox a scope serves: its key in every table and its id on the wire. */
export interface SandboxRef {
  key: number;
  id: string;
}

/**
 * What every part of the gateway's service shares for one sandbox (one request or one callback
 * job): the database, that sandbox's queries (every one filtered by its key), its clock, its id
 * source, the log. Built per request by GatewayService, so no function takes a sandbox argument.
 */
export class GatewayContext {
  readonly repo: GatewayRepository;

  constructor(
    readonly database: Database<GatewaySchema>,
    readonly log: Logger,
    readonly sandbox: SandboxRef,
    readonly clock: Clock,
    readonly ids: IdSource,
    /** The gateway's fault rules of this sandbox (faults/book.ts). */
    readonly faults: SandboxFaults,
  ) {
    this.repo = new GatewayRepository(database.dialect, sandbox.key);
  }

  /** Records an event of this sandbox at `at` (its clock) in transaction `trx`, as its last statement (events.ts). */
  async record(trx: Db, at: number, type: GatewayEventType, data: object): Promise<void> {
    await recordGatewayEvent(trx, this.sandbox.key, at, type, data);
  }

  /** One transaction; every path through fn commits (answers that change nothing write nothing). */
  async tx<T>(fn: (trx: Db) => Promise<T>): Promise<T> {
    const result = await this.database.transact(async (trx) => ok(await fn(trx)));
    if (!result.ok) throw new Error(result.message);
    return result.value;
  }
}

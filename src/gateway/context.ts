import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import { ok } from '../shared/result.js';
import { GatewayRepository, type GatewaySchema } from './repository.js';

export type Db = Kysely<GatewaySchema>;

/** What every part of the gateway's service shares: the database, its queries, the log. */
export class GatewayContext {
  readonly repo: GatewayRepository;

  constructor(
    readonly database: Database<GatewaySchema>,
    readonly log: Logger,
  ) {
    this.repo = new GatewayRepository(database.dialect);
  }

  /** One transaction; every path through fn commits (answers that change nothing write nothing). */
  async tx<T>(fn: (trx: Db) => Promise<T>): Promise<T> {
    const result = await this.database.transact(async (trx) => ok(await fn(trx)));
    if (!result.ok) throw new Error(result.message);
    return result.value;
  }
}

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import type { SandboxRow, StoreSchema } from '../db/schema.js';
import type { GatewayClient, GatewayFaultCount } from '../sandboxes/gateway-client.js';
import { ok, type Result } from '../shared/result.js';
import type { FaultBook } from './book.js';
import type { StoredFaultRule } from './repository.js';
import { parseFaultRules, serverOf, type FaultRule } from './rules.js';
import { sandboxNotFound } from '../sandboxes/service.js';

/** A rule as GET shows it: its index in the list, the rule, and how often it fired (null: the gateway's count is not known here). */
export type FaultView = { index: number; fired: number | null } & FaultRule;

export interface FaultList {
  rules: FaultView[];
}


/**
 * Rules as shown, store counts from its own rows and gateway counts from `gateway` (by index;
 * a gateway rule missing there, or no answer, shows null).
 */
export function faultViews(stored: StoredFaultRule[], gateway: GatewayFaultCount[] | undefined): FaultView[] {
  const counts = new Map(gateway?.map((c) => [c.index, c.fired]));
  return stored.map((row) => ({
    index: row.idx,
    fired: row.server === 'store' ? row.fired : (counts.get(row.idx) ?? null),
    ...(JSON.parse(row.rule) as FaultRule),
  }));
}

/** The views of a sandbox's stored rules, asking the gateway for its counts only when it has rules. */
export async function faultViewsOf(gateway: GatewayClient, sandboxId: string, stored: StoredFaultRule[]): Promise<FaultView[]> {
  let counts: GatewayFaultCount[] | undefined;
  if (stored.some((r) => r.server === 'gateway')) {
    const answer = await gateway.faults(sandboxId);
    counts = answer.ok ? answer.value.rules : undefined;
  }
  return faultViews(stored, counts);
}

/**
 * Fault management (spec/sandboxes.md section 2): `PUT/GET/DELETE /sandboxes/{id}/faults`. The
 * store keeps every rule of a sandbox in its database (so every instance applies them); the rules
 * the gateway applies (server `gateway`, payment_decline, callback) are also pushed to it in the
 * same step, as every sandbox operation with a gateway half: the store's transaction commits
 * only if the gateway took them.
 */
export class FaultService {
  constructor(
    private readonly database: Database<StoreSchema>,
    private readonly book: FaultBook,
    private readonly gateway: GatewayClient,
    private readonly find: (id: string) => Promise<SandboxRow | undefined>,
    private readonly maxRules: number,
    private readonly log: Logger,
  ) {}

  private get db(): Kysely<StoreSchema> {
    return this.database.db;
  }

  /** PUT: replaces the sandbox's rules; 422 (`invalid`) names the first bad rule and field. */
  async put(id: string, body: unknown): Promise<Result<FaultList>> {
    const row = await this.find(id);
    if (!row) return sandboxNotFound();
    const parsed = parseFaultRules(body, this.maxRules);
    if (!parsed.ok) return parsed;
    const result = await this.replace(row, parsed.value);
    if (!result.ok) return result;
    this.log.info({ sandbox_id: id, rules: parsed.value.length }, 'fault rules set');
    return this.get(id);
  }

  /** DELETE: no rules any more (204). */
  async clear(id: string): Promise<Result<void>> {
    const row = await this.find(id);
    if (!row) return sandboxNotFound();
    const result = await this.replace(row, []);
    if (result.ok) this.log.info({ sandbox_id: id }, 'fault rules cleared');
    return result;
  }

  async get(id: string): Promise<Result<FaultList>> {
    const row = await this.find(id);
    if (!row) return sandboxNotFound();
    return ok({ rules: await faultViewsOf(this.gateway, id, await this.book.repo.rules(this.db, row.sandbox)) });
  }

  private async replace(row: SandboxRow, rules: FaultRule[]): Promise<Result<void>> {
    const entries = rules.map((rule, index) => ({ index, rule, server: serverOf(rule) }));
    const forGateway = entries.filter((e) => e.server === 'gateway').map(({ index, rule }) => ({ index, rule }));
    const result = await this.database.transact(async (trx) => {
      const before = await this.book.repo.rules(trx, row.sandbox);
      await this.book.repo.replace(trx, row.sandbox, entries);
      // The gateway is only involved when it has (or had) rules: store-only rules need no gateway.
      if (forGateway.length > 0 || before.some((r) => r.server === 'gateway')) {
        const pushed = await this.gateway.setFaults(row.public_id!, forGateway);
        if (!pushed.ok) return pushed;
      }
      return ok(undefined);
    });
    this.book.invalidate(row.sandbox);
    return result;
  }
}

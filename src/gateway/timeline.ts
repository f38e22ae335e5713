import type { Database } from '../db/database.js';
import { toFixedAmount } from '../shared/money.js';
import { gatewayEvents } from './events.js';
import { ACCOUNT_ID } from './ledger.js';
import type { GatewaySchema } from './repository.js';
import { failed, type Answer } from './requests.js';
import type { SandboxRepository } from './sandbox-repository.js';
import { parseSandboxId } from './sandbox-requests.js';
import { SANDBOX_MESSAGES } from './sandboxes.js';
import { isoTime } from '../shared/time.js';

/** Most events one read of the gateway's log returns (the store pages on with `after`). */
const MAX_READ = 1000;

const iso = (ms: number | null): string | null => (ms === null ? null : isoTime(ms));

/**
 * What the store reads of a sandbox's gateway half for its timeline and its state hash
 * (spec/sandboxes.md section 3), behind the management endpoints' access rule (admin-routes.ts).
 */
export class GatewayTimeline {
  constructor(
    private readonly database: Database<GatewaySchema>,
    private readonly repo: SandboxRepository,
  ) {}

  /**
   * GET /admin/sandboxes/{id}/events?after=&limit=: `{sandbox_id, events: [{seq, at (epoch ms), type, data}]}`,
   * oldest first (main.ts prunes the logs to MAX_EVENTS_PER_SANDBOX in the background).
   */
  async events(rawId: string, query: { after?: unknown; limit?: unknown }): Promise<Answer> {
    const id = parseSandboxId(rawId);
    if (!id.ok) return id.answer;
    const after = Number(query.after ?? 0);
    const limit = Number(query.limit ?? MAX_READ);
    if (!Number.isSafeInteger(after) || after < 0) return failed(400, "'after' must be a whole number >= 0");
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_READ) return failed(400, `'limit' must be a whole number from 1 to ${MAX_READ}`);
    const db = this.database.db;
    const row = await this.repo.live(db, id.value);
    if (!row) return failed(404, SANDBOX_MESSAGES.notFound);
    return { status: 200, body: { sandbox_id: id.value, events: await gatewayEvents.list(db, row.key, after, limit) } };
  }

  /**
   * GET /admin/sandboxes/{id}/state: the gateway's canonical part of the state: balance, ledger
   * (oldest first) and payments (oldest first), money as fixed-decimal text, times ISO 8601. Read
   * in one transaction, so the parts agree. Callback delivery progress is left out: it depends on
   * timing, not on what the client did.
   */
  async state(rawId: string): Promise<Answer> {
    const id = parseSandboxId(rawId);
    if (!id.ok) return id.answer;
    const result = await this.database.transact(async (trx) => {
      const row = await this.repo.live(trx, id.value);
      if (!row) return { ok: true as const, value: undefined };
      const account = await trx.selectFrom('accounts').select('balance_cents').where('sandbox', '=', row.key).where('id', '=', ACCOUNT_ID).executeTakeFirstOrThrow();
      const ledger = await trx.selectFrom('ledger').selectAll().where('sandbox', '=', row.key).orderBy('id').execute();
      const payments = await trx.selectFrom('payments').selectAll().where('sandbox', '=', row.key).orderBy('seq').execute();
      return {
        ok: true as const,
        value: {
          balance: toFixedAmount(account.balance_cents),
          ledger: ledger.map((e) => ({
            type: e.type, recipient: e.recipient, order_id: e.order_id, payment_id: e.payment_id,
            amount: toFixedAmount(e.amount_cents), balance_after: toFixedAmount(e.balance_after_cents), created_at: iso(e.created_at),
          })),
          payments: payments.map((p) => ({
            payment_id: p.payment_id, order_id: p.order_id, amount: toFixedAmount(p.amount_cents), status: p.status, reason: p.reason,
            card_last4: p.card_last4, created_at: iso(p.created_at), refunded_at: iso(p.refunded_at),
          })),
        },
      };
    });
    if (!result.ok || result.value === undefined) return failed(404, SANDBOX_MESSAGES.notFound);
    return { status: 200, body: { sandbox_id: id.value, state: result.value } };
  }
}

import type { Generated, Kysely, Selectable } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { FaultRuleRow } from '../db/schema.js';
import type { SandboxTable } from './sandbox-repository.js';
import { statements, type NewCallbackAttempt, type NewCallbackJob, type NewLedgerEntry, type NewPayment } from './statements.js';

/** Row types of the gateway's tables. Money columns are integer cents, times are epoch milliseconds. */
export interface AccountTable {
  /** The sandbox the row belongs to (sandboxes.key; the root is 0): every table has it. */
  sandbox: number;
  id: string;
  holder: string;
  balance_cents: number;
}

export type LedgerType = 'payment' | 'refund';

export interface LedgerTable {
  id: Generated<number>;
  sandbox: number;
  type: LedgerType;
  /** Set for POST /pay. */
  recipient: string | null;
  /** Set for order payments and refunds. */
  order_id: string | null;
  payment_id: string | null;
  amount_cents: number;
  balance_after_cents: number;
  created_at: number;
}

export type PaymentStatus = 'succeeded' | 'failed' | 'refunded';

export interface PaymentTable {
  seq: Generated<number>;
  sandbox: number;
  payment_id: string;
  order_id: string;
  amount_cents: number;
  /** The amount as the client wrote it, for messages ("Payment of 100 for order ..."). */
  amount_text: string;
  status: PaymentStatus;
  reason: string | null;
  card_last4: string | null;
  created_at: number;
  refunded_at: number | null;
  /** The answer given to the first request, replayed to any repeated one. */
  response_status: number | null;
  response_json: string | null;
}

export type CallbackState = 'pending' | 'delivered' | 'failed' | 'refused';

export interface CallbackJobTable {
  sandbox: number;
  payment_id: string;
  /** The exact JSON body sent on every attempt. */
  payload: string;
  state: CallbackState;
  /** Attempts made so far. */
  attempts: number;
  /** When a pending job is due, in the sandbox's time (its clock decides). */
  next_attempt_at: number;
  /** Real time: an attempt in flight holds the job until then (null: nobody holds it). */
  leased_until: number | null;
  created_at: number;
  /** Real time (bookkeeping only). */
  updated_at: number;
}

export interface CallbackAttemptTable {
  id: Generated<number>;
  sandbox: number;
  payment_id: string;
  attempt: number;
  at: number;
  http_status: number | null;
  error: string | null;
  /** 1 if the request carried X-Payment-Signature. */
  signed: number;
  /** The message it carried: success, failed or refunded (null before migration 0002). */
  event: CallbackEvent | null;
}

/** What a callback tells the store: the `status` of its body. */
export type CallbackEvent = 'success' | 'failed' | 'refunded';

/** One entry of the gateway's event log of a sandbox (migration 0004; events.ts). */
export interface GatewayEventTable {
  sandbox: number;
  /** Gapless per sandbox, from `sandboxes.event_seq`. */
  seq: number;
  /** Epoch milliseconds of the sandbox clock. */
  at: number;
  /** Always 'gateway' (the store's timeline has the same shape). */
  source: string;
  type: string;
  /** JSON text of the data object. */
  data: string;
}

export interface GatewaySchema {
  accounts: AccountTable;
  ledger: LedgerTable;
  payments: PaymentTable;
  callback_jobs: CallbackJobTable;
  callback_attempts: CallbackAttemptTable;
  sandboxes: SandboxTable;
  fault_rules: FaultRuleRow;
  events: GatewayEventTable;
}

export type Account = Selectable<AccountTable>;
export type LedgerEntry = Selectable<LedgerTable>;
export type Payment = Selectable<PaymentTable>;
export type CallbackJob = Selectable<CallbackJobTable>;
export type CallbackAttempt = Selectable<CallbackAttemptTable>;

type Db = Kysely<GatewaySchema>;

/**
 * Gateway data access for one sandbox: every query filters on (and every insert writes) the key
 * the repository was made with, so a caller cannot reach another sandbox's rows. The statements
 * of a payment are compiled once (statements.ts); a new row is written with every column. Every method
 * takes the handle it runs on, so it joins the caller's transaction.
 */
export class GatewayRepository {
  constructor(
    private readonly dialect: Dialect,
    /** sandboxes.key of the sandbox served. */
    readonly key: number,
  ) {}

  /** The sandbox's generation (sandbox-repository.ts); undefined once the sandbox is deleted. */
  async generation(db: Db): Promise<number | undefined> {
    return (await statements.generation.first(db, { key: this.key }))?.generation;
  }

  /**
   * The account row. With `lock`, PostgreSQL locks it until the transaction ends, which serialises
   * every balance change (SQLite's BEGIN IMMEDIATE already holds the database's write lock).
   */
  async account(db: Db, accountId: string, lock = false): Promise<Account> {
    const account = await (lock && this.dialect === 'postgres' ? statements.lockedAccount : statements.account).first(db, { key: this.key, id: accountId });
    if (!account) throw new Error(`account ${accountId} of sandbox ${this.key} is missing from the gateway database`);
    return account;
  }

  async setBalance(db: Db, accountId: string, balanceCents: number): Promise<void> {
    await statements.setBalance.execute(db, { key: this.key, id: accountId, balance: balanceCents });
  }

  async addLedgerEntry(db: Db, entry: NewLedgerEntry): Promise<LedgerEntry> {
    return (await statements.addLedgerEntry.first(db, { ...entry, key: this.key }))!;
  }

  ledger(db: Db): Promise<LedgerEntry[]> {
    return db.selectFrom('ledger').selectAll().where('sandbox', '=', this.key).orderBy('id').execute();
  }

  ledgerEntryOf(db: Db, paymentId: string, type: LedgerType): Promise<LedgerEntry | undefined> {
    return db
      .selectFrom('ledger')
      .selectAll()
      .where('sandbox', '=', this.key)
      .where('payment_id', '=', paymentId)
      .where('type', '=', type)
      .executeTakeFirst();
  }

  async insertPayment(db: Db, payment: NewPayment): Promise<void> {
    await statements.insertPayment.execute(db, { ...payment, key: this.key });
  }

  payment(db: Db, paymentId: string): Promise<Payment | undefined> {
    return db.selectFrom('payments').selectAll().where('sandbox', '=', this.key).where('payment_id', '=', paymentId).executeTakeFirst();
  }

  /** The order's kept payment (succeeded and not refunded), if any: at most one exists (a unique index). */
  keptPayment(db: Db, orderId: string): Promise<Payment | undefined> {
    return statements.keptPayment.first(db, { key: this.key, orderId });
  }

  /** Newest first. */
  payments(db: Db, filter: { orderId?: string | undefined; limit: number }): Promise<Payment[]> {
    let query = db.selectFrom('payments').selectAll().where('sandbox', '=', this.key);
    if (filter.orderId !== undefined) query = query.where('order_id', '=', filter.orderId);
    return query.orderBy('seq', 'desc').limit(filter.limit).execute();
  }

  /** succeeded -> refunded, evaluated on the row itself: of concurrent refunds exactly one wins. */
  async markRefunded(db: Db, paymentId: string, reason: string, now: number): Promise<boolean> {
    const result = await db
      .updateTable('payments')
      .set({ status: 'refunded', reason, refunded_at: now })
      .where('sandbox', '=', this.key)
      .where('payment_id', '=', paymentId)
      .where('status', '=', 'succeeded')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async saveResponse(db: Db, paymentId: string, status: number, body: unknown): Promise<void> {
    await statements.saveResponse.execute(db, { key: this.key, paymentId, status, json: JSON.stringify(body) });
  }

  async insertJob(db: Db, job: NewCallbackJob): Promise<void> {
    await statements.insertJob.execute(db, { ...job, key: this.key });
  }

  job(db: Db, paymentId: string): Promise<CallbackJob | undefined> {
    return statements.job.first(db, { key: this.key, paymentId });
  }

  jobs(db: Db, paymentIds: string[]): Promise<CallbackJob[]> {
    if (paymentIds.length === 0) return Promise.resolve([]);
    return db.selectFrom('callback_jobs').selectAll().where('sandbox', '=', this.key).where('payment_id', 'in', paymentIds).execute();
  }

  /**
   * Gives a job new news to deliver (a refund after a success): a fresh message with its own
   * attempt budget, due at `dueAt` (sandbox time) and free to take at once. An attempt still in
   * flight with the old message becomes stale.
   */
  async replaceMessage(db: Db, paymentId: string, payload: string, dueAt: number, realNow: number): Promise<void> {
    await db
      .updateTable('callback_jobs')
      .set({ payload, state: 'pending', attempts: 0, next_attempt_at: dueAt, leased_until: null, updated_at: realNow })
      .where('sandbox', '=', this.key)
      .where('payment_id', '=', paymentId)
      .execute();
  }

  /**
   * Records the outcome of attempt `attempts` of `payload` on a job still pending at attempts - 1
   * with that payload, and frees the job's lease.
   */
  async advanceJob(
    db: Db,
    paymentId: string,
    payload: string,
    changes: { state: CallbackState; attempts: number; next_attempt_at: number; updated_at: number },
  ): Promise<boolean> {
    return (await statements.advanceJob.affected(db, { ...changes, key: this.key, paymentId, payload, previous: changes.attempts - 1 })) === 1;
  }

  async addAttempt(db: Db, attempt: NewCallbackAttempt): Promise<void> {
    await statements.addAttempt.execute(db, { ...attempt, key: this.key });
  }

  attempts(db: Db, paymentIds: string[]): Promise<CallbackAttempt[]> {
    if (paymentIds.length === 0) return Promise.resolve([]);
    return db
      .selectFrom('callback_attempts')
      .selectAll()
      .where('sandbox', '=', this.key)
      .where('payment_id', 'in', paymentIds)
      .orderBy('payment_id')
      .orderBy('id')
      .execute();
  }

  /** Balance back to the start; payments, movements and pending deliveries forgotten. */
  async reset(db: Db, accountId: string, balanceCents: number): Promise<void> {
    for (const table of SANDBOXED_TABLES) {
      if (table !== 'accounts') await db.deleteFrom(table).where('sandbox', '=', this.key).execute();
    }
    await this.setBalance(db, accountId, balanceCents);
  }
}

/** Every table holding a sandbox's rows, in the order a copy writes them (serial tables keep their order). */
export const SANDBOXED_TABLES = ['accounts', 'ledger', 'payments', 'callback_jobs', 'callback_attempts'] as const satisfies readonly (keyof GatewaySchema)[];

import type { Generated, Insertable, Kysely, Selectable } from 'kysely';
import type { Dialect } from '../db/database.js';

/** Row types of the gateway's tables. Money columns are integer cents, times are epoch milliseconds. */
export interface AccountTable {
  id: string;
  holder: string;
  balance_cents: number;
}

export type LedgerType = 'payment' | 'refund';

export interface LedgerTable {
  id: Generated<number>;
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
  payment_id: string;
  /** The exact JSON body sent on every attempt. */
  payload: string;
  state: CallbackState;
  /** Attempts made so far. */
  attempts: number;
  /** When a pending job is due; while an attempt is in flight, the end of its lease. */
  next_attempt_at: number;
  created_at: number;
  updated_at: number;
}

export interface CallbackAttemptTable {
  id: Generated<number>;
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

export interface GatewaySchema {
  accounts: AccountTable;
  ledger: LedgerTable;
  payments: PaymentTable;
  callback_jobs: CallbackJobTable;
  callback_attempts: CallbackAttemptTable;
}

export type Account = Selectable<AccountTable>;
export type LedgerEntry = Selectable<LedgerTable>;
export type Payment = Selectable<PaymentTable>;
export type CallbackJob = Selectable<CallbackJobTable>;
export type CallbackAttempt = Selectable<CallbackAttemptTable>;

type Db = Kysely<GatewaySchema>;

/** Gateway data access. Every method takes the handle it runs on, so it joins the caller's transaction. */
export class GatewayRepository {
  constructor(private readonly dialect: Dialect) {}

  /**
   * The account row. With `lock`, PostgreSQL locks it until the transaction ends, which serialises
   * every balance change (SQLite's BEGIN IMMEDIATE already holds the database's write lock).
   */
  async account(db: Db, accountId: string, lock = false): Promise<Account> {
    let query = db.selectFrom('accounts').selectAll().where('id', '=', accountId);
    if (lock && this.dialect === 'postgres') query = query.forUpdate();
    const account = await query.executeTakeFirst();
    if (!account) throw new Error(`account ${accountId} is missing from the gateway database`);
    return account;
  }

  async setBalance(db: Db, accountId: string, balanceCents: number): Promise<void> {
    await db.updateTable('accounts').set({ balance_cents: balanceCents }).where('id', '=', accountId).execute();
  }

  addLedgerEntry(db: Db, entry: Insertable<LedgerTable>): Promise<LedgerEntry> {
    return db.insertInto('ledger').values(entry).returningAll().executeTakeFirstOrThrow();
  }

  ledger(db: Db): Promise<LedgerEntry[]> {
    return db.selectFrom('ledger').selectAll().orderBy('id').execute();
  }

  ledgerEntryOf(db: Db, paymentId: string, type: LedgerType): Promise<LedgerEntry | undefined> {
    return db.selectFrom('ledger').selectAll().where('payment_id', '=', paymentId).where('type', '=', type).executeTakeFirst();
  }

  async insertPayment(db: Db, payment: Insertable<PaymentTable>): Promise<void> {
    await db.insertInto('payments').values(payment).execute();
  }

  payment(db: Db, paymentId: string): Promise<Payment | undefined> {
    return db.selectFrom('payments').selectAll().where('payment_id', '=', paymentId).executeTakeFirst();
  }

  /** The order's kept payment (succeeded and not refunded), if any: at most one exists (a unique index). */
  keptPayment(db: Db, orderId: string): Promise<Payment | undefined> {
    return db.selectFrom('payments').selectAll().where('order_id', '=', orderId).where('status', '=', 'succeeded').executeTakeFirst();
  }

  /** Newest first. */
  payments(db: Db, filter: { orderId?: string | undefined; limit: number }): Promise<Payment[]> {
    let query = db.selectFrom('payments').selectAll();
    if (filter.orderId !== undefined) query = query.where('order_id', '=', filter.orderId);
    return query.orderBy('seq', 'desc').limit(filter.limit).execute();
  }

  /** succeeded -> refunded, evaluated on the row itself: of concurrent refunds exactly one wins. */
  async markRefunded(db: Db, paymentId: string, reason: string, now: number): Promise<boolean> {
    const result = await db
      .updateTable('payments')
      .set({ status: 'refunded', reason, refunded_at: now })
      .where('payment_id', '=', paymentId)
      .where('status', '=', 'succeeded')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async saveResponse(db: Db, paymentId: string, status: number, body: unknown): Promise<void> {
    await db
      .updateTable('payments')
      .set({ response_status: status, response_json: JSON.stringify(body) })
      .where('payment_id', '=', paymentId)
      .execute();
  }

  async insertJob(db: Db, job: Insertable<CallbackJobTable>): Promise<void> {
    await db.insertInto('callback_jobs').values(job).execute();
  }

  job(db: Db, paymentId: string): Promise<CallbackJob | undefined> {
    return db.selectFrom('callback_jobs').selectAll().where('payment_id', '=', paymentId).executeTakeFirst();
  }

  jobs(db: Db, paymentIds: string[]): Promise<CallbackJob[]> {
    if (paymentIds.length === 0) return Promise.resolve([]);
    return db.selectFrom('callback_jobs').selectAll().where('payment_id', 'in', paymentIds).execute();
  }

  dueJobs(db: Db, now: number, limit: number): Promise<CallbackJob[]> {
    return db
      .selectFrom('callback_jobs')
      .selectAll()
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .limit(limit)
      .execute();
  }

  /**
   * Takes a due job for one attempt by moving its due time to the end of a lease. The update only
   * matches if nobody changed the row since it was read, so among concurrent claimers (in this
   * process or another) exactly one gets the job.
   */
  async claimJob(db: Db, job: CallbackJob, leaseUntil: number, now: number): Promise<boolean> {
    const result = await db
      .updateTable('callback_jobs')
      .set({ next_attempt_at: leaseUntil, updated_at: now })
      .where('payment_id', '=', job.payment_id)
      .where('state', '=', 'pending')
      .where('attempts', '=', job.attempts)
      .where('next_attempt_at', '=', job.next_attempt_at)
      .where('payload', '=', job.payload)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Gives a job new news to deliver (a refund after a success): a fresh message with its own
   * attempt budget, due at `dueAt`. An attempt still in flight with the old message becomes stale.
   */
  async replaceMessage(db: Db, paymentId: string, payload: string, dueAt: number, now: number): Promise<void> {
    await db
      .updateTable('callback_jobs')
      .set({ payload, state: 'pending', attempts: 0, next_attempt_at: dueAt, updated_at: now })
      .where('payment_id', '=', paymentId)
      .execute();
  }

  /** Records the outcome of attempt `attempts` of `payload` on a job still pending at attempts - 1 with that payload. */
  async advanceJob(
    db: Db,
    paymentId: string,
    payload: string,
    changes: { state: CallbackState; attempts: number; next_attempt_at: number; updated_at: number },
  ): Promise<boolean> {
    const result = await db
      .updateTable('callback_jobs')
      .set(changes)
      .where('payment_id', '=', paymentId)
      .where('payload', '=', payload)
      .where('state', '=', 'pending')
      .where('attempts', '=', changes.attempts - 1)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async addAttempt(db: Db, attempt: Insertable<CallbackAttemptTable>): Promise<void> {
    await db.insertInto('callback_attempts').values(attempt).execute();
  }

  attempts(db: Db, paymentIds: string[]): Promise<CallbackAttempt[]> {
    if (paymentIds.length === 0) return Promise.resolve([]);
    return db.selectFrom('callback_attempts').selectAll().where('payment_id', 'in', paymentIds).orderBy('payment_id').orderBy('id').execute();
  }

  /** Balance back to the start; payments, movements and pending deliveries forgotten. */
  async reset(db: Db, accountId: string, balanceCents: number): Promise<void> {
    await db.deleteFrom('callback_attempts').execute();
    await db.deleteFrom('callback_jobs').execute();
    await db.deleteFrom('payments').execute();
    await db.deleteFrom('ledger').execute();
    await this.setBalance(db, accountId, balanceCents);
  }
}

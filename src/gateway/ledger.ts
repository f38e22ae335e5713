import { toAmount, type Cents } from '../shared/money.js';
import type { Db, GatewayContext } from './context.js';
import { DEFAULT_ACCOUNT } from './migrations.js';
import type { LedgerEntry } from './repository.js';
import { failed, MESSAGES, parsePayRequest, type Answer } from './requests.js';
import type { NewLedgerEntry } from './statements.js';
import { isoTime as iso } from '../shared/time.js';

export const ACCOUNT_ID = DEFAULT_ACCOUNT.id;


/** A ledger entry as /pay, /payments/orders and /transactions show it (key order is part of the contract). */
export function transactionView(entry: LedgerEntry): Record<string, unknown> {
  const common = { amount: toAmount(entry.amount_cents), balance_after: toAmount(entry.balance_after_cents) };
  if (entry.recipient !== null) return { recipient: entry.recipient, ...common, type: entry.type, created_at: iso(entry.created_at) };
  return { order_id: entry.order_id, ...common, payment_id: entry.payment_id, type: entry.type, created_at: iso(entry.created_at) };
}

type Movement = Omit<NewLedgerEntry, 'balance_after_cents'>;

/**
 * The account and its movements. Every balance change goes through `move`, inside the caller's
 * transaction with the account row locked, so the balance always equals the start minus
 * payments plus refunds in the ledger.
 */
export class Ledger {
  constructor(private readonly ctx: GatewayContext) {}

  /** The balance in cents; with `lock`, the account row stays locked until the transaction ends. */
  async balance(trx: Db, lock = false): Promise<Cents> {
    return (await this.ctx.repo.account(trx, ACCOUNT_ID, lock)).balance_cents;
  }

  /**
   * Debits (payment) or credits (refund) the account and records the movement; the account must be
   * locked. `lockedBalance`: the balance the caller read with the lock in this transaction, so it
   * is not read twice.
   */
  async move(trx: Db, movement: Movement, lockedBalance?: Cents): Promise<LedgerEntry> {
    const balance = lockedBalance ?? (await this.balance(trx, true));
    const after = movement.type === 'payment' ? balance - movement.amount_cents : balance + movement.amount_cents;
    await this.ctx.repo.setBalance(trx, ACCOUNT_ID, after);
    return this.ctx.repo.addLedgerEntry(trx, { ...movement, balance_after_cents: after });
  }

  async balanceAnswer(): Promise<Answer> {
    const account = await this.ctx.repo.account(this.ctx.database.db, ACCOUNT_ID);
    return {
      status: 200,
      body: { status: 'success', account_id: account.id, holder: account.holder, balance: toAmount(account.balance_cents) },
    };
  }

  /** POST /pay: a payment from the account to a named recipient. */
  async pay(body: unknown): Promise<Answer> {
    const parsed = parsePayRequest(body);
    if (!parsed.ok) return parsed.answer;
    const { amount, recipient } = parsed.value;
    const answer = await this.ctx.tx(async (trx): Promise<Answer> => {
      const balance = await this.balance(trx, true);
      const now = this.ctx.clock.now();
      if (amount.cents > balance) {
        await this.ctx.record(trx, now, 'payment.failed', { recipient, amount: toAmount(amount.cents), reason: 'insufficient_funds' });
        return failed(402, MESSAGES.insufficientFunds, { balance: toAmount(balance), requested: toAmount(amount.cents) });
      }
      const entry = await this.move(trx, { type: 'payment', recipient, order_id: null, payment_id: null, amount_cents: amount.cents, created_at: now }, balance);
      await this.ctx.record(trx, now, 'payment.succeeded', { recipient, amount: toAmount(amount.cents) });
      return {
        status: 200,
        body: {
          status: 'success',
          message: `Payment of ${amount.text} to ${recipient} completed`,
          balance: toAmount(entry.balance_after_cents),
          transaction: transactionView(entry),
        },
      };
    });
    const context = { recipient, amount: toAmount(amount.cents), balance: answer.body.balance };
    this.ctx.log.info(context, answer.status === 200 ? 'account payment completed' : 'account payment refused: insufficient funds');
    return answer;
  }

  async transactions(): Promise<Answer> {
    const entries = await this.ctx.repo.ledger(this.ctx.database.db);
    return { status: 200, body: { status: 'success', account_id: ACCOUNT_ID, transactions: entries.map(transactionView) } };
  }

  async reset(): Promise<Answer> {
    await this.ctx.tx((trx) => this.ctx.repo.reset(trx, ACCOUNT_ID, DEFAULT_ACCOUNT.balanceCents));
    this.ctx.log.info({ balance: toAmount(DEFAULT_ACCOUNT.balanceCents) }, 'account reset: movements, payments and pending callbacks cleared');
    return { status: 200, body: { status: 'success', message: 'Account reset to default balance', balance: toAmount(DEFAULT_ACCOUNT.balanceCents) } };
  }
}

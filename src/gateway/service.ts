import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import { FaultBook, SandboxFaults, transactor, type FiredListener, type Transactor } from '../faults/book.js';
import { FaultRepository } from '../faults/repository.js';
import { ok } from '../shared/result.js';
import { GatewayContext, type Clock, type IdSource } from './context.js';
import type { CallbackSender, ClaimedCallback, DeliveryOptions } from './deliveries.js';
import { randomIds, seededIds } from './ids.js';
import { KeyedMutex } from './payments.js';
import type { GatewaySchema } from './repository.js';
import { ROOT, SandboxRepository, type SandboxRow } from './sandbox-repository.js';
import { PaymentsScope, type ScopeShared } from './scope.js';

export type { Answer } from './requests.js';
export type { CallbackSender, ClaimedCallback, DeliveryOutcome } from './deliveries.js';
export { PaymentsScope } from './scope.js';
export type GatewayServiceOptions = DeliveryOptions;

const realClock: Clock = { now: () => Date.now() };

/** A sandbox's clock from its row: frozen at an instant, or real time moved by an offset. */
export function clockOf(row: Pick<SandboxRow, 'clock_frozen_at' | 'clock_offset_ms'>): Clock {
  const frozen = row.clock_frozen_at;
  if (frozen !== null) return { now: () => frozen };
  const offset = row.clock_offset_ms;
  return offset === 0 ? realClock : { now: () => Date.now() + offset };
}

/**
 * The gateway for the whole process: it hands out a PaymentsScope per request or callback job,
 * and claims the callbacks due in every sandbox. The root scope (`default`: real time, random
 * ids) is made once, so the root paths read no sandbox row.
 */
export class GatewayService {
  readonly root: PaymentsScope;
  readonly sandboxes: SandboxRepository;
  /** The process's copy of the gateway's fault rules. */
  readonly faultBook: FaultBook;
  private readonly transact: Transactor;
  private readonly shared: ScopeShared;

  constructor(
    readonly database: Database<GatewaySchema>,
    sender: CallbackSender,
    private readonly log: Logger,
    private readonly options: GatewayServiceOptions,
    /** Told of every fault fired (the event timeline). */
    private readonly onFaultFired?: FiredListener,
  ) {
    this.shared = { sender, options, orderLocks: new KeyedMutex() };
    this.sandboxes = new SandboxRepository(database.dialect);
    this.faultBook = new FaultBook(database.db, new FaultRepository('key'), 'gateway', ROOT.key);
    this.transact = transactor(database);
    const faults = new SandboxFaults(this.faultBook, this.transact, ROOT, realClock, null, undefined, log, onFaultFired);
    this.root = new PaymentsScope(new GatewayContext(database, log, ROOT, realClock, randomIds, faults), this.shared);
  }

  /** The scope of a live sandbox by its public id, with the clock and seed its row holds now; undefined if unknown. */
  async forId(sandboxId: string): Promise<PaymentsScope | undefined> {
    if (sandboxId === ROOT.id) return this.root;
    const row = await this.sandboxes.live(this.database.db, sandboxId);
    return row && this.forRow(row);
  }

  private forRow(row: SandboxRow): PaymentsScope {
    if (row.key === ROOT.key) return this.root;
    const ids: IdSource = row.seed === null ? randomIds : seededIds(this.sandboxes, row.key, row.seed);
    const sandbox = { key: row.key, id: row.public_id! };
    const log = this.log.child({ sandbox_id: sandbox.id });
    const clock = clockOf(row);
    const faults = new SandboxFaults(this.faultBook, this.transact, sandbox, clock, row.seed, row.faults_version, log, this.onFaultFired);
    const ctx = new GatewayContext(this.database, log, sandbox, clock, ids, faults);
    return new PaymentsScope(ctx, this.shared);
  }

  /** Takes up to `limit` callback jobs due by their sandbox's clock, for one attempt each. */
  async claimDueCallbacks(limit: number): Promise<ClaimedCallback[]> {
    const result = await this.database.transact(async (trx) => {
      const now = Date.now();
      const claimed: ClaimedCallback[] = [];
      for (const job of await this.sandboxes.dueJobs(trx, now, limit)) {
        if (await this.sandboxes.claimJob(trx, job, now + this.options.callbackLeaseMs, now)) {
          claimed.push({ sandbox: job.sandbox, generation: job.generation, paymentId: job.payment_id, attempt: job.attempts + 1, payload: job.payload });
        }
      }
      return ok(claimed);
    });
    return result.ok ? result.value : [];
  }

  /** One background attempt at a claimed job, in its sandbox's scope (nothing if the sandbox is gone). */
  async deliver(claim: ClaimedCallback): Promise<void> {
    const row = await this.sandboxes.byKey(this.database.db, claim.sandbox);
    if (row?.kind === 'live') await this.forRow(row).deliver(claim);
  }
}

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import { seededHex } from '../shared/ids.js';
import { ok } from '../shared/result.js';
import type { FaultRepository, StoredFaultRule } from './repository.js';
import { activeRule, DRAW_HEX, drawFrom, type ActiveRule, type FaultRule } from './rules.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- one code path over either server's schema */
type AnyDb = Kysely<any>;

/** Sandboxes whose rules a process keeps; past this many, the least recently used is dropped. */
const CACHED_SANDBOXES = 2000;
/**
 * How long the root's faults version is trusted before it is read again (ms). The root resolves
 * no sandbox row per request (that is what keeps it fast), so it re-reads its version at most
 * this often; a sandbox request reads the version with its row, so it is always current.
 */
export const ROOT_REFRESH_MS = 100;

/** Rules still able to fire: not exhausted (`times`) when the list was read. */
const live = (row: StoredFaultRule): boolean => row.times === null || row.fired < row.times;

/**
 * One process's copy of the fault rules a server applies, per sandbox key and faults version:
 * while the version is the one cached, no rule is read again. With no rules (the common case)
 * a request costs no statement at all at the root, and none beyond its sandbox row elsewhere.
 */
export class FaultBook {
  private readonly cache = new Map<number, { version: number; rules: ActiveRule[] }>();
  private root = { version: -1, checkedAt: 0, reading: undefined as Promise<number> | undefined };

  constructor(
    private readonly db: AnyDb,
    readonly repo: FaultRepository,
    private readonly server: 'store' | 'gateway',
    private readonly rootKey = 0,
  ) {}

  /**
   * The rules this server applies in sandbox `key` at faults `version` (undefined: the root, see
   * ROOT_REFRESH_MS). `q`: the caller's transaction when it is in one. It must be: on SQLite the
   * transaction holds the only connection, so a read through the database handle would wait for
   * that transaction, which waits for the read (and on PostgreSQL it would take a second
   * connection from the pool per transaction, which a busy pool may not have).
   */
  async rules(key: number, version: number | undefined, q: AnyDb = this.db): Promise<ActiveRule[]> {
    const current = version ?? (await this.rootVersion(q));
    const cached = this.cache.get(key);
    if (cached && cached.version === current) return cached.rules;
    const stored = await this.repo.rules(q, key);
    const rules = stored.filter((r) => r.server === this.server && live(r)).map((r) => activeRule(r.idx, Number(r.set_version), JSON.parse(r.rule) as FaultRule));
    this.cache.delete(key);
    if (this.cache.size >= CACHED_SANDBOXES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { version: current, rules });
    return rules;
  }

  /**
   * The rules without waiting, when this process knows them current (the root's version checked
   * within ROOT_REFRESH_MS); undefined otherwise (call `rules`). The request hook's fast path.
   */
  cached(key: number, version: number | undefined): ActiveRule[] | undefined {
    const current = version ?? (Date.now() - this.root.checkedAt < ROOT_REFRESH_MS ? this.root.version : undefined);
    const cached = this.cache.get(key);
    return current !== undefined && cached?.version === current ? cached.rules : undefined;
  }

  private async rootVersion(q: AnyDb): Promise<number> {
    const root = this.root;
    if (Date.now() - root.checkedAt < ROOT_REFRESH_MS) return root.version;
    // Concurrent reads outside transactions share one statement; a transaction reads through its
    // own handle and never waits for a read queued behind it (see rules).
    const version = await (q === this.db
      ? (root.reading ??= this.repo.version(this.db, this.rootKey).finally(() => (root.reading = undefined)))
      : this.repo.version(q, this.rootKey));
    root.version = version;
    root.checkedAt = Date.now();
    return version;
  }

  /** Forgets what this process knew of a sandbox's rules (it just changed them). */
  invalidate(key: number): void {
    this.cache.delete(key);
    if (key === this.rootKey) this.root.checkedAt = 0;
  }
}

/** A rule that fired, for the log and the event timeline. */
export interface FiredFault {
  sandboxId: string;
  key: number;
  /** When, on the sandbox clock (epoch ms). */
  at: number;
  /** The rule; undefined for an X-Fault header. */
  rule: ActiveRule | undefined;
  /** What it fired on: method and path, product, payment... */
  detail: Record<string, unknown>;
}

/** The `data` of a `fault.fired` event: the rule's index and kind (`header` for X-Fault), and what it fired on. */
export const firedEventData = (fired: FiredFault): Record<string, unknown> => ({
  rule: fired.rule?.index ?? null,
  kind: fired.rule?.rule.kind ?? 'header',
  ...(fired.rule?.rule.kind === 'callback' ? { mode: fired.rule.rule.mode } : {}),
  ...fired.detail,
});

/** Records a firing (the event timeline) in the transaction `db`. */
export type FiredListener = (db: AnyDb, fired: FiredFault) => Promise<void>;

/** Runs fn in one transaction of the server's database and returns what it returns. */
export type Transactor = <T>(fn: (q: AnyDb) => Promise<T>) => Promise<T>;

/** A Transactor over a Database (db/database.ts): a failure of the unit of work is thrown. */
export function transactor(database: Database<any>): Transactor {
  return async (fn) => {
    const result = await database.transact(async (trx) => ok(await fn(trx)));
    if (!result.ok) throw new Error(result.message);
    return result.value;
  };
}

/**
 * A caller's unit of work that fires faults: its transaction handle, and the firings whose events
 * wait for `SandboxFaults.record`, called last in that transaction (the event's sandbox row lock is
 * then held only for the commit, as events/recorder.ts asks).
 */
export interface FaultTx {
  q: AnyDb;
  fired: FiredFault[];
}

/** What an injected request fault asks: wait this long, then (maybe) answer this status. */
export interface RequestFault {
  latencyMs: number;
  status: number | undefined;
  fired: ActiveRule[];
}

/**
 * The faults of one sandbox for one request or job: which rules apply, and firing them. A firing
 * draws (when the rule's probability is below 1) and counts in a transaction: its own, or the
 * caller's (`FaultTx`), so a firing inside a unit of work that rolls back never happened.
 */
export class SandboxFaults {
  constructor(
    private readonly book: FaultBook,
    private readonly transact: Transactor,
    readonly sandbox: { key: number; id: string },
    private readonly clock: { now(): number },
    private readonly seed: number | null,
    /** The version read with the sandbox row; undefined for the root. */
    private readonly version: number | undefined,
    private readonly log: Logger,
    private readonly onFired: FiredListener | undefined,
  ) {}

  /** The rules this server applies here now; `q`: the caller's transaction, if it is in one (FaultBook.rules). */
  active(q?: AnyDb): Promise<ActiveRule[]> {
    return this.book.rules(this.sandbox.key, this.version, q);
  }

  /** True when this process knows, without a statement, that no rule applies here (FaultBook.cached). */
  knownNone(): boolean {
    return this.book.cached(this.sandbox.key, this.version)?.length === 0;
  }

  /**
   * Fires `rule` once if its draw says so and it has firings left; true if it fired. Without
   * `tx`, in a transaction of its own that also records the event.
   */
  async fire(tx: FaultTx | undefined, rule: ActiveRule, detail: Record<string, unknown>): Promise<boolean> {
    if (tx) return this.fireIn(tx, rule, detail);
    return this.transact(async (q) => {
      const own: FaultTx = { q, fired: [] };
      const fired = await this.fireIn(own, rule, detail);
      await this.record(own);
      return fired;
    });
  }

  private async fireIn(tx: FaultTx, rule: ActiveRule, detail: Record<string, unknown>): Promise<boolean> {
    const probability = rule.rule.probability ?? 1;
    if (probability < 1) {
      const draw = this.seed === null ? undefined : seededHex(this.seed, 'fault', await this.book.repo.nextDraw(tx.q, this.sandbox.key), DRAW_HEX);
      if (drawFrom(draw) >= probability) return false;
    }
    if (!(await this.book.repo.fire(tx.q, this.sandbox.key, rule.index, rule.setVersion))) return false;
    this.log.info({ sandbox_id: this.sandbox.id, rule: rule.index, kind: rule.rule.kind, ...detail }, 'fault fired');
    tx.fired.push({ sandboxId: this.sandbox.id, key: this.sandbox.key, at: this.clock.now(), rule, detail });
    return true;
  }

  /** Records the events of the firings `tx` holds, in its transaction (call it last there). */
  async record(tx: FaultTx): Promise<void> {
    for (const fired of tx.fired.splice(0)) await this.onFired?.(tx.q, fired);
  }

  /** Notes a fault an X-Fault header injected into one request. */
  async headerFired(detail: Record<string, unknown>): Promise<void> {
    this.log.info({ sandbox_id: this.sandbox.id, ...detail }, 'X-Fault header applied');
    const listener = this.onFired;
    if (listener) await this.transact((q) => listener(q, { sandboxId: this.sandbox.id, key: this.sandbox.key, at: this.clock.now(), rule: undefined, detail }));
  }

  /** Latency and error rules matching a request (method, URL relative to the sandbox base), fired in list order. */
  async forRequest(method: string, url: string): Promise<RequestFault> {
    const result: RequestFault = { latencyMs: 0, status: undefined, fired: [] };
    for (const rule of await this.active()) {
      const r = rule.rule;
      if ((r.kind !== 'latency' && r.kind !== 'error') || !rule.matches(method, url)) continue;
      if (r.kind === 'error' && result.status !== undefined) continue;
      if (!(await this.fire(undefined, rule, { method, path: url }))) continue;
      result.fired.push(rule);
      if (r.kind === 'latency') result.latencyMs += r.ms;
      else result.status = r.status;
    }
    return result;
  }

  /** The active rules of one kind (`q` as in active). */
  async ofKind<K extends FaultRule['kind']>(kind: K, q?: AnyDb): Promise<(ActiveRule & { rule: Extract<FaultRule, { kind: K }> })[]> {
    return (await this.active(q)).filter((r): r is ActiveRule & { rule: Extract<FaultRule, { kind: K }> } => r.rule.kind === kind);
  }

  /** Fires the first rule of `kind` passing `which` that fires (list order); undefined if none did. */
  async fireFirst<K extends FaultRule['kind']>(
    tx: FaultTx | undefined,
    kind: K,
    detail: Record<string, unknown>,
    which: (rule: Extract<FaultRule, { kind: K }>) => boolean = () => true,
  ): Promise<Extract<FaultRule, { kind: K }> | undefined> {
    for (const rule of await this.ofKind(kind, tx?.q)) if (which(rule.rule) && (await this.fire(tx, rule, detail))) return rule.rule;
    return undefined;
  }
}

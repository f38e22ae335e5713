import { sql, type Kysely } from 'kysely';
import type { FaultRuleRow } from '../db/schema.js';
import type { FaultRule } from './rules.js';

/** A stored rule: its position, the list version it belongs to, and how often it fired. */
export type StoredFaultRule = Omit<FaultRuleRow, 'sandbox'>;

/** A database of either server: the statements below are plain SQL over the tables both have. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

const rows = async <T>(db: AnyDb, query: ReturnType<typeof sql<T>>): Promise<T[]> => (await query.execute(db)).rows;

/**
 * The fault tables of one server (store migration 0009, gateway 0005): `fault_rules` (sandbox,
 * idx, set_version, server, rule, times, fired) and two columns of `sandboxes`, `faults_version`
 * and `fault_draws`. The two servers name the sandboxes key differently (`keyColumn`).
 */
export class FaultRepository {
  private readonly key;

  constructor(keyColumn: 'sandbox' | 'key') {
    this.key = sql.id(keyColumn);
  }

  /** The sandbox's faults version (0 when it has no row). */
  async version(db: AnyDb, key: number): Promise<number> {
    const [row] = await rows(db, sql<{ faults_version: number }>`select faults_version from sandboxes where ${this.key} = ${key}`);
    return Number(row?.faults_version ?? 0);
  }

  rules(db: AnyDb, key: number): Promise<StoredFaultRule[]> {
    return rows(db, sql<StoredFaultRule>`select idx, set_version, server, rule, times, fired from fault_rules where sandbox = ${key} order by idx`);
  }

  /** The rules of several sandboxes (a list page), by key. */
  async rulesOf(db: AnyDb, keys: number[]): Promise<Map<number, StoredFaultRule[]>> {
    const result = new Map<number, StoredFaultRule[]>(keys.map((k) => [k, []]));
    if (keys.length === 0) return result;
    const found = await rows(db, sql<StoredFaultRule & { sandbox: number }>`select sandbox, idx, set_version, server, rule, times, fired
      from fault_rules where sandbox in (${sql.join(keys)}) order by sandbox, idx`);
    for (const row of found) result.get(Number(row.sandbox))?.push(row);
    return result;
  }

  /**
   * Replaces the sandbox's rules (each at its index in the full list) and moves its faults
   * version; returns the new version. `resetDraws` also restarts the draw sequence (a reset).
   */
  async replace(db: AnyDb, key: number, rules: { index: number; rule: FaultRule; server: 'store' | 'gateway' }[], resetDraws = false): Promise<number> {
    const draws = resetDraws ? sql`, fault_draws = 0` : sql``;
    const [row] = await rows(db, sql<{ faults_version: number }>`update sandboxes set faults_version = faults_version + 1${draws}
      where ${this.key} = ${key} returning faults_version`);
    const version = Number(row?.faults_version ?? 0);
    await sql`delete from fault_rules where sandbox = ${key}`.execute(db);
    for (const { index, rule, server } of rules) {
      await sql`insert into fault_rules (sandbox, idx, set_version, server, rule, times, fired)
        values (${key}, ${index}, ${version}, ${server}, ${JSON.stringify(rule)}, ${rule.times ?? null}, 0)`.execute(db);
    }
    return version;
  }

  /** Deletes a deleted sandbox's rules. */
  async remove(db: AnyDb, key: number): Promise<void> {
    await sql`delete from fault_rules where sandbox = ${key}`.execute(db);
  }

  /** Takes the sandbox's next draw number (1, 2, ...) in the caller's transaction. */
  async nextDraw(db: AnyDb, key: number): Promise<number> {
    const [row] = await rows(db, sql<{ fault_draws: number }>`update sandboxes set fault_draws = fault_draws + 1 where ${this.key} = ${key} returning fault_draws`);
    return Number(row?.fault_draws ?? 0);
  }

  /**
   * Counts one firing of rule `idx` of list `setVersion`, only while it has firings left: one
   * conditional update, so instances firing at once never exceed `times`. A rule that has just
   * used its last firing moves the faults version, so every instance drops it. True if it fired.
   */
  async fire(db: AnyDb, key: number, idx: number, setVersion: number): Promise<boolean> {
    const [row] = await rows(db, sql<{ fired: number; times: number | null }>`update fault_rules set fired = fired + 1
      where sandbox = ${key} and idx = ${idx} and set_version = ${setVersion} and (times is null or fired < times) returning fired, times`);
    if (!row) return false;
    if (row.times !== null && Number(row.fired) >= Number(row.times)) {
      await sql`update sandboxes set faults_version = faults_version + 1 where ${this.key} = ${key}`.execute(db);
    }
    return true;
  }
}

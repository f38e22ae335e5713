import type { Kysely } from 'kysely';

/**
 * The fault tables, created by store migration 0009 and gateway migration 0005 (both servers keep
 * rules the same way, faults/repository.ts): on `sandboxes`, `faults_version` (moves with every
 * change to the sandbox's rules, and when a rule's `times` runs out: a process that sees the
 * version it cached knows its copy is current) and `fault_draws` (the draw counter that makes
 * random faults of a seeded sandbox a fixed sequence); `fault_rules`, a sandbox's rules in list
 * order with their counts. Rules are not sandbox state: snapshots and forks do not carry them.
 * Written against no schema type, and never to be changed: both migrations have shipped with it.
 */
export async function faultTablesMigration(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sandboxes').addColumn('faults_version', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('sandboxes').addColumn('fault_draws', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema
    .createTable('fault_rules')
    .addColumn('sandbox', 'bigint', (c) => c.notNull())
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('set_version', 'bigint', (c) => c.notNull())
    .addColumn('server', 'text', (c) => c.notNull())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('times', 'integer')
    .addColumn('fired', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('fault_rules_pk', ['sandbox', 'idx'] as never[])
    .execute();
}

import { CompiledQuery, type LogEvent } from 'kysely';
import { migrate, openDatabase, type Database } from '../../src/db/database.js';
import { storeMigrations } from '../../src/db/migrations.js';
import type { StoreSchema } from '../../src/db/schema.js';
import { freshDatabaseUrl } from './processes.js';

/** A new, migrated store database of the test's dialect that appends every statement it runs to `issued`. */
export async function openRecordingStore(): Promise<{ database: Database<StoreSchema>; issued: CompiledQuery[] }> {
  const issued: CompiledQuery[] = [];
  const log = (event: LogEvent) => {
    if (event.level === 'query') issued.push(CompiledQuery.raw(event.query.sql, [...event.query.parameters]));
  };
  const database = openDatabase<StoreSchema>({ url: freshDatabaseUrl(), log });
  await migrate(database, storeMigrations, 'store_migrations');
  return { database, issued };
}

/**
 * The plan the database chooses for a statement, as text: SQLite's `explain query plan` lines, or
 * PostgreSQL's `explain` asked with enable_seqscan off, so that a Seq Scan means no index can serve
 * the statement at all, whatever the table's size.
 */
export async function explainPlan<Schema>(database: Database<Schema>, query: CompiledQuery): Promise<string> {
  return database.db.connection().execute(async (conn) => {
    if (database.dialect === 'sqlite') {
      const rows = await conn.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]));
      return rows.rows.map((r) => r.detail).join('\n');
    }
    await conn.executeQuery(CompiledQuery.raw('set enable_seqscan = off'));
    try {
      const rows = await conn.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${query.sql}`, [...query.parameters]));
      return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await conn.executeQuery(CompiledQuery.raw('reset enable_seqscan'));
    }
  });
}

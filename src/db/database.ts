import { closeSync, mkdirSync, openSync, readSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, Migrator, type KyselyConfig, type PostgresPool, type PostgresPoolClient, PostgresDialect, SqliteDialect, sql, type Migration, type SqliteDatabase as SqliteDriverDatabase } from 'kysely';
import pg from 'pg';
import type { SqliteOptions } from '../config.js';
import type { Result } from '../shared/result.js';
import { statementName } from './prepared.js';

export type Dialect = 'sqlite' | 'postgres';

/**
 * One connection layer for both dialects. Services get a `Database` and run each state change
 * through `transact`, which hands a single transaction handle down to every repository call.
 */
export interface Database<Schema> {
  readonly db: Kysely<Schema>;
  readonly dialect: Dialect;
  /** PostgreSQL schema selected by `?schema=` in the URL. */
  readonly schema?: string | undefined;
  /** Runs fn in one transaction: commits when it returns ok, rolls back on a failure or an exception. */
  transact<T>(fn: (trx: Kysely<Schema>) => Promise<Result<T>>): Promise<Result<T>>;
  /**
   * SQLite only: an opaque mark that differs from an earlier one whenever a commit happened in
   * between, by this connection or any other process (the WAL-index header, see walMarks). Equal
   * marks mean nothing was written, so a value read after the first mark is still current. Costs
   * one `pread` of 48 bytes. Absent on PostgreSQL, where no such check avoids a round trip.
   */
  readonly writeMark?: () => string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url: string;
  poolSize?: number;
  sqlite?: SqliteOptions;
  /** Kysely's query log (tests read the SQL of the statements they cause). */
  log?: KyselyConfig['log'];
}

// int8 (COUNT, SUM, bigint columns) comes back as a string by default; our values stay far below 2^53.
pg.types.setTypeParser(20, (value) => Number(value));

/** PostgreSQL: deadlock_detected, serialization_failure. */
const RETRYABLE = new Set(['40P01', '40001']);

class Rollback<T> extends Error {
  constructor(readonly result: Result<T>) {
    super('rollback');
  }
}

export function openDatabase<Schema>(options: DatabaseOptions): Database<Schema> {
  return options.url.startsWith('sqlite:') ? openSqlite<Schema>(options) : openPostgres<Schema>(options);
}

function sqlitePath(url: string): string {
  const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  return path === ':memory:' ? path : resolve(path);
}

/**
 * Kysely prepares every query anew; compiling the same SQL again costs more than running it.
 * Statements are reused per SQL text (the set of distinct query shapes is small and bounded).
 */
function withStatementCache(connection: SqliteDatabase.Database, limit = 1000): SqliteDriverDatabase {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    prepare(source: string) {
      let statement = cache.get(source);
      if (!statement) {
        statement = connection.prepare(source);
        if (cache.size >= limit) cache.delete(cache.keys().next().value!);
        cache.set(source, statement);
      }
      return statement;
    },
    close: () => connection.close(),
  };
}

/** Compiled once: a transaction's own statements cost no query building (see db/prepared.ts). */
const BEGIN_IMMEDIATE = CompiledQuery.raw('begin immediate');
const COMMIT = CompiledQuery.raw('commit');
const ROLLBACK = CompiledQuery.raw('rollback');

function openSqlite<Schema>(options: DatabaseOptions): Database<Schema> {
  const path = sqlitePath(options.url);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  // One connection per process, kept open: reopening per request recreates the WAL and costs 4x in writes.
  const connection = new SqliteDatabase(path);
  connection.pragma('journal_mode = WAL');
  connection.pragma(`synchronous = ${options.sqlite?.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  connection.pragma('foreign_keys = ON');
  // Other processes (WORKERS, npm run db:reset) may hold the write lock briefly; wait rather than fail.
  connection.pragma('busy_timeout = 10000');
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: withStatementCache(connection) }), ...(options.log ? { log: options.log } : {}) });
  const marks = walMarks(connection, path);

  return {
    db,
    dialect: 'sqlite',
    writeMark: marks.mark,
    // Kysely's SQLite driver lends its single connection to one holder at a time, so this also
    // serialises transactions within the process. BEGIN IMMEDIATE takes the write lock up front,
    // so a transaction never reads a snapshot that another process invalidates before it writes.
    transact: (fn) =>
      db.connection().execute(async (conn) => {
        await conn.executeQuery(BEGIN_IMMEDIATE);
        try {
          const result = await fn(conn);
          await conn.executeQuery(result.ok ? COMMIT : ROLLBACK);
          return result;
        } catch (error) {
          await conn.executeQuery(ROLLBACK);
          throw error;
        }
      }),
    close: () => db.destroy().finally(marks.close),
  };
}

/** WAL-index header: its first copy is the first 48 bytes of the `-shm` file (walformat.html). */
const WAL_INDEX_HEADER_BYTES = 48;

/**
 * Database.writeMark for SQLite. In WAL mode, the WAL-index header at the start of the `-shm`
 * file (https://www.sqlite.org/walformat.html, "The WAL-Index Header") changes with every commit
 * of any connection, this one included: its change counter and frame count move, and its salts
 * when a checkpoint restarts the WAL. Reading it is one pread; the data_version statement it
 * replaces opens a read transaction, which measured 17 us per call in a loaded store (2 us for
 * the pread). A torn read only looks like a change. Uncommitted writes of this process do not
 * move it, and need not: nothing reads them outside their transaction.
 *
 * Anywhere the `-shm` file cannot be read (`:memory:`, a journal mode other than WAL), the mark
 * falls back to that statement, plus total_changes() for this connection's own writes.
 * The descriptor is closed only after the connection: closing any descriptor of a file releases
 * the POSIX locks the process holds on it (https://www.sqlite.org/howtocorrupt.html, 2.2).
 */
function walMarks(connection: SqliteDatabase.Database, path: string): { mark: () => string; close: () => void } {
  const statement = connection.prepare('select data_version, total_changes() from pragma_data_version').raw();
  const fallback = () => (statement.get() as number[]).join(':');
  const header = Buffer.alloc(WAL_INDEX_HEADER_BYTES);
  let fd: number | undefined;
  const walMode = path !== ':memory:' && String(connection.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
  return {
    mark: () => {
      if (!walMode) return fallback();
      try {
        fd ??= openSync(`${path}-shm`, 'r');
        return readSync(fd, header, 0, WAL_INDEX_HEADER_BYTES, 0) === WAL_INDEX_HEADER_BYTES ? header.toString('latin1') : fallback();
      } catch {
        return fallback();
      }
    },
    close: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/** `?schema=name` in a postgres URL selects (and creates) a schema: several stores or test runs can share a database. */
function postgresTarget(url: string): { connectionString: string; schema: string | undefined } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid schema name '${schema}' in database URL`);
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), schema };
}

function openPostgres<Schema>(options: DatabaseOptions): Database<Schema> {
  const { connectionString, schema } = postgresTarget(options.url);
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: namedStatements(pool) }), ...(options.log ? { log: options.log } : {}) });
  return {
    db,
    dialect: 'postgres',
    schema,
    transact: async (fn) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await db.transaction().execute(async (trx) => {
            const result = await fn(trx);
            if (!result.ok) throw new Rollback(result);
            return result;
          });
        } catch (error) {
          if (error instanceof Rollback) return error.result as never;
          // Lock ordering avoids deadlocks; should one still happen, the transaction left no trace: run it again.
          if (attempt < 5 && RETRYABLE.has((error as { code?: string }).code ?? '')) continue;
          throw error;
        }
      }
    },
    close: () => db.destroy(),
  };
}

/**
 * The pool as Kysely's PostgreSQL driver sees it, with one change: the SQL of a prepared query
 * (prepared.ts) runs as a named statement, which each connection parses and plans once and then
 * only binds and executes (PostgreSQL re-plans it by itself if a table it uses changes). Measured
 * +8% and +21% purchases/s in two `npm run bench -- --only purchases --databases postgres` runs.
 * Any other query, and Kysely's cursors, go to pg unchanged.
 */
function namedStatements(pool: pg.Pool): PostgresPool {
  return {
    connect: async () => {
      const client = await pool.connect();
      // One function for both of the driver's overloads (a SQL text with values, or a cursor).
      const query = ((text: unknown, values?: unknown[]) => {
        const name = typeof text === 'string' ? statementName(text) : undefined;
        return name === undefined ? client.query(text as string, values) : client.query({ name, text: text as string, values });
      }) as unknown as PostgresPoolClient['query'];
      return { query, release: (destroy?: boolean) => client.release(destroy) };
    },
    end: () => pool.end(),
  };
}

/** Where a database URL points, for messages: the SQLite file's absolute path, or host:port/database. */
export function describeTarget(url: string): string {
  if (url.startsWith('sqlite:')) return sqlitePath(url);
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}

/**
 * Opens the database `variable` points at and applies its migrations: the first use at start-up.
 * A failure names the variable and the file or host, not only the driver's words.
 */
export async function openMigrated<Schema>(
  variable: string,
  options: DatabaseOptions,
  migrations: Record<string, (dialect: Dialect) => Migration>,
  tableName: string,
): Promise<Database<Schema>> {
  let database: Database<Schema> | undefined;
  try {
    database = openDatabase<Schema>(options);
    await migrate(database, migrations, tableName);
    return database;
  } catch (error) {
    await database?.close().catch(() => undefined);
    const reason = error instanceof Error ? error.message || (error as { code?: string }).code || error.name : String(error);
    throw new Error(`Cannot open the database at ${describeTarget(options.url)} (set by ${variable}): ${reason}`);
  }
}

/** Applies every versioned migration not yet applied; safe to run from several processes at once. */
export async function migrate<Schema>(
  database: Database<Schema>,
  migrations: Record<string, (dialect: Dialect) => Migration>,
  tableName: string,
): Promise<void> {
  if (database.schema) await sql`create schema if not exists ${sql.id(database.schema)}`.execute(database.db);
  const built = Object.fromEntries(Object.entries(migrations).map(([name, make]) => [name, make(database.dialect)]));
  const migrator = new Migrator({
    db: database.db,
    provider: { getMigrations: async () => built },
    migrationTableName: tableName,
    migrationLockTableName: `${tableName}_lock`,
    // Without it Kysely would find another schema's migration tables on the same database.
    ...(database.schema ? { migrationTableSchema: database.schema } : {}),
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}

import { type Compilable, type CompiledQuery, type Kysely, type QueryResult, type RawBuilder } from 'kysely';

/** Server-side statement names of the compiled SQL texts (PostgreSQL runs those as named prepared statements). */
const statementNames = new Map<string, string>();

/** The name a connection may prepare `sql` under, if `sql` is the text of a prepared query; undefined otherwise. */
export const statementName = (sql: string): string | undefined => statementNames.get(sql);

/** Where a value goes in a prepared query: the parameter of that name, filled in on each run. */
class Placeholder {
  constructor(readonly name: string) {}
}

/** A query compiled for one dialect: its SQL, and per parameter position a placeholder's name or a constant. */
interface Template {
  readonly compiled: CompiledQuery;
  readonly names: ReadonlyArray<string | undefined>;
  readonly constants: ReadonlyArray<unknown>;
}

/**
 * A query built and compiled once per dialect and then run with new values: Kysely builds and
 * compiles every query anew, which measured more CPU than SQLite spends running the statements of
 * a purchase (`npm run bench`, issue 12). The row type is the builder's, as with `execute()`.
 * SQLite keeps one prepared statement per SQL text (database.ts); PostgreSQL runs the SQL as a
 * named statement (`statementName`, database.ts).
 */
export interface Prepared<DB, P, O> {
  /** Runs it on `db` (a connection or the caller's transaction) with `values`. */
  execute(db: Kysely<DB>, values: P): Promise<QueryResult<O>>;
  /** The rows it returns. */
  all(db: Kysely<DB>, values: P): Promise<O[]>;
  /** The first row it returns, if any. */
  first(db: Kysely<DB>, values: P): Promise<O | undefined>;
  /** How many rows an insert, update or delete changed. */
  affected(db: Kysely<DB>, values: P): Promise<number>;
}

/**
 * Prepares the query `build` makes. `build` gets the handle it may compile with and stand-ins
 * for the values: each stand-in must be used whole as a value of the query (`where('id', '=',
 * p.id)`, `values({ id: p.id })`, `sql\`… ${p.id}\``), never computed with (`p.n + 1`) or tested
 * (`p.x ?? null`), nor as an `in` list, because the query is built once for all values. Anything
 * else `build` writes (columns, constants, the shape) is fixed. A stand-in that does not reach
 * the compiled query is an error on first use.
 *
 * Compiled once per dialect (the handle's adapter: a Kysely instance and its transactions share
 * it). Handles with plugins are not supported: a plugin may rewrite each query as it runs.
 */
export function prepare<DB, P extends object, O>(build: (db: Kysely<DB>, p: P) => Compilable<O> | RawBuilder<O>): Prepared<DB, P, O> {
  const templates = new WeakMap<object, Template>();

  const template = (db: Kysely<DB>): Template => {
    const executor = db.getExecutor();
    // Checked on every call: a handle made with withPlugin() shares its adapter with the plain one.
    if (executor.plugins.length > 0) throw new Error('prepare: a handle with Kysely plugins cannot run prepared queries');
    let found = templates.get(executor.adapter);
    if (found) return found;
    const used = new Set<string>();
    const stand = new Proxy({} as P, {
      get: (_target, name) => {
        used.add(String(name));
        return new Placeholder(String(name));
      },
    });
    const built = build(db, stand);
    const compiled = 'isRawBuilder' in built ? built.compile(db) : built.compile();
    const names = compiled.parameters.map((value) => (value instanceof Placeholder ? value.name : undefined));
    const missing = [...used].filter((name) => !names.includes(name));
    if (missing.length > 0) throw new Error(`prepare: ${missing.join(', ')} did not become a parameter of: ${compiled.sql}`);
    found = { compiled, names, constants: compiled.parameters };
    if (!statementNames.has(compiled.sql)) statementNames.set(compiled.sql, `prepared_${statementNames.size + 1}`);
    templates.set(executor.adapter, found);
    return found;
  };

  const execute = (db: Kysely<DB>, values: P): Promise<QueryResult<O>> => {
    const { compiled, names, constants } = template(db);
    const parameters = new Array<unknown>(names.length);
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      parameters[i] = name === undefined ? constants[i] : (values as Record<string, unknown>)[name];
    }
    // The query id only tells plugins which result is which, and there are none.
    return db.executeQuery<O>({ query: compiled.query, queryId: compiled.queryId, sql: compiled.sql, parameters });
  };

  return {
    execute,
    all: async (db, values) => (await execute(db, values)).rows,
    first: async (db, values) => (await execute(db, values)).rows[0],
    affected: async (db, values) => Number((await execute(db, values)).numAffectedRows ?? 0),
  };
}

import { CamelCasePlugin, sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/database.js';
import { prepare } from '../src/db/prepared.js';
import { fail, ok } from '../src/shared/result.js';
import { freshDatabaseUrl, testDialect } from './helpers/processes.js';

interface Schema {
  items: { id: number; name: string; qty: number; note: string | null };
}
type Db = Kysely<Schema>;

const insert = prepare((db: Db, p: { id: number; name: string; qty: number }) => db.insertInto('items').values({ id: p.id, name: p.name, qty: p.qty, note: null }));
const byQty = prepare((db: Db, p: { min: number; limit: number }) =>
  db.selectFrom('items').select(['id', 'name']).where('qty', '>=', p.min).where('note', 'is', null).orderBy('id').limit(p.limit));
const take = prepare((db: Db, p: { id: number; qty: number }) =>
  db.updateTable('items').set({ qty: sql<number>`qty - ${p.qty}` }).where('id', '=', p.id).where('qty', '>=', p.qty));
const raw = prepare((db: Db, p: { name: string }) => sql<{ n: number }>`select count(*) as n from items where name = ${p.name} and qty > ${0}`);

/** Prepared queries (src/db/prepared.ts) compile once per dialect and must behave as the built query they replace. */
describe(`prepared queries (${testDialect()})`, () => {
  let database: Database<Schema>;

  beforeAll(async () => {
    database = openDatabase<Schema>({ url: freshDatabaseUrl() });
    if (database.schema) await sql`create schema if not exists ${sql.id(database.schema)}`.execute(database.db);
    await database.db.schema.createTable('items').addColumn('id', 'integer', (c) => c.primaryKey()).addColumn('name', 'text', (c) => c.notNull())
      .addColumn('qty', 'integer', (c) => c.notNull()).addColumn('note', 'text').execute();
  });
  afterAll(() => database.close());

  it('runs with each call its own values, in and out of a transaction, as the built query does', async () => {
    for (const [id, name, qty] of [[1, 'a', 5], [2, 'b', 1], [3, 'a', 9]] as const) expect(await insert.affected(database.db, { id, name, qty })).toBe(1);
    expect(await byQty.all(database.db, { min: 5, limit: 10 })).toEqual([{ id: 1, name: 'a' }, { id: 3, name: 'a' }]);
    expect(await byQty.all(database.db, { min: 5, limit: 10 })).toEqual(
      await database.db.selectFrom('items').select(['id', 'name']).where('qty', '>=', 5).where('note', 'is', null).orderBy('id').limit(10).execute(),
    );
    expect(await byQty.first(database.db, { min: 0, limit: 1 })).toEqual({ id: 1, name: 'a' });
    expect(await byQty.first(database.db, { min: 100, limit: 1 })).toBeUndefined();
    expect(Number((await raw.first(database.db, { name: 'a' }))?.n)).toBe(2);

    // Inside a transaction it joins it: a rolled-back change leaves nothing.
    const result = await database.transact(async (trx) => {
      expect(await take.affected(trx, { id: 3, qty: 4 })).toBe(1);
      expect(await take.affected(trx, { id: 2, qty: 4 })).toBe(0);
      return fail('rejected', 'undo');
    });
    expect(result.ok).toBe(false);
    expect((await byQty.all(database.db, { min: 9, limit: 10 })).map((r) => r.id)).toEqual([3]);
    const kept = await database.transact(async (trx) => ok(await take.affected(trx, { id: 3, qty: 4 })));
    expect(kept).toEqual({ ok: true, value: 1 });
    expect((await byQty.all(database.db, { min: 5, limit: 10 })).map((r) => r.id)).toEqual([1, 3]);
  });

  // Defined in the PostgreSQL run only (the SQLite run has nothing to check here, rather than a skipped test).
  if (testDialect() === 'postgres') it('runs as a named statement of the connection on PostgreSQL', async () => {
    const result = await database.transact(async (trx) => {
      await byQty.all(trx, { min: 0, limit: 1 });
      return ok((await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(trx)).rows.map((r) => r.statement));
    });
    expect(result.ok && result.value.some((statement) => statement.includes('"qty" >= $1'))).toBe(true);
  });

  it('refuses a handle with plugins, even after the plain handle compiled the query', async () => {
    expect((await byQty.all(database.db, { min: 0, limit: 1 })).length).toBe(1);
    await expect(byQty.all(database.db.withPlugin(new CamelCasePlugin()), { min: 0, limit: 1 })).rejects.toThrow(/plugins/);
  });

  it('refuses a stand-in that does not become a parameter', async () => {
    const computed = prepare((db: Db, p: { id: number }) => db.selectFrom('items').select('id').where('id', '=', sql<number>`${sql.lit(1)}`).$if(String(p.id) === '', (q) => q));
    await expect(computed.all(database.db, { id: 1 })).rejects.toThrow(/id did not become a parameter/);
  });
});

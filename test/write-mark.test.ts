import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/database.js';
import { ok } from '../src/shared/result.js';

/**
 * Database.writeMark on SQLite: the catalog trusts its cached state while the mark is unchanged
 * (src/catalog/service.ts), so every commit, by this connection or another process, must move it.
 */
describe('SQLite write mark', () => {
  const dir = mkdtempSync(join(tmpdir(), 'write-mark-'));
  const file = join(dir, 'shop.db');
  const opened: Database<{ t: { n: number } }>[] = [];
  const open = () => {
    const database = openDatabase<{ t: { n: number } }>({ url: `sqlite:${file}` });
    opened.push(database);
    return database;
  };

  afterAll(async () => {
    for (const database of opened) await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves with a commit of this connection, of another connection and of another process, and only then', async () => {
    const database = open();
    await sql`create table t (n integer)`.execute(database.db);
    const mark = database.writeMark!;
    const first = mark();
    expect(mark()).toBe(first);
    await database.db.selectFrom('t').selectAll().execute();
    expect(mark(), 'a read is no change').toBe(first);

    await database.transact(async (trx) => {
      await trx.insertInto('t').values({ n: 1 }).execute();
      return ok(undefined);
    });
    const afterOwn = mark();
    expect(afterOwn).not.toBe(first);

    const other = open();
    await other.db.insertInto('t').values({ n: 2 }).execute();
    const afterOther = mark();
    expect(afterOther).not.toBe(afterOwn);

    const script = `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(file)}); db.prepare('insert into t values (3)').run(); db.close();`;
    execFileSync(process.execPath, ['-e', script], { cwd: new URL('..', import.meta.url).pathname });
    expect(mark()).not.toBe(afterOther);
    const settled = mark();
    expect(mark()).toBe(settled);
    expect((await database.db.selectFrom('t').select('n').orderBy('n').execute()).map((r) => r.n)).toEqual([1, 2, 3]);
  });

  it('falls back to a statement where there is no WAL (an in-memory database)', async () => {
    const database = openDatabase<{ t: { n: number } }>({ url: 'sqlite::memory:' });
    opened.push(database);
    await sql`create table t (n integer)`.execute(database.db);
    const before = database.writeMark!();
    expect(database.writeMark!()).toBe(before);
    await database.db.insertInto('t').values({ n: 1 }).execute();
    expect(database.writeMark!()).not.toBe(before);
  });

  it('is absent on PostgreSQL, where no check avoids a round trip', async () => {
    const database = openDatabase({ url: 'postgres://postgres@127.0.0.1:5432/test' });
    expect(database.writeMark).toBeUndefined();
    await database.close();
  });
});

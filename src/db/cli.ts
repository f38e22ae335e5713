import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { ConfigError, loadStoreConfig, redactUrl } from '../config.js';
import { openStoreDatabase } from '../store.js';
import { migrate } from './database.js';
import { generateProducts } from './generate.js';
import { storeMigrations } from './migrations.js';
import { readSeedFile, resetStore } from './seed.js';

const USAGE = `Usage:
  npm run db:reset                          empty the store and load the default catalog (SEED_FILE)
  npm run db:seed -- --file catalog.json    empty the store and load this catalog file
  npm run db:seed -- --products 1000000     empty the store and load N generated products (deterministic)
  npm run db:seed                           without an option: the same as db:reset
Works on DATABASE_URL (default sqlite:./data/store.db). Carts and orders are deleted too.`;

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ options: { file: { type: 'string' }, products: { type: 'string' }, help: { type: 'boolean' } }, allowPositionals: true });
  } catch (error) {
    // An unknown or incomplete option: say which, then how to call.
    console.error(`${(error as Error).message.split('. ')[0]}.\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || (command !== 'reset' && command !== 'seed')) {
    console.log(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const config = loadStoreConfig();
  const base = readSeedFile(values.file ?? config.seedFile);
  let products: Iterable<(typeof base.products)[number]> = base.products;
  if (values.products !== undefined) {
    const count = Number(values.products);
    if (!Number.isSafeInteger(count) || count < 1) throw new ConfigError(`--products must be a positive whole number, got '${values.products}'`);
    products = generateProducts(count, base.categories);
  }
  const database = openStoreDatabase(config);
  try {
    await migrate(database, storeMigrations, 'store_migrations');
    const started = Date.now();
    const count = await resetStore(database, base.categories, products);
    // Fresh statistics for the planner; on PostgreSQL VACUUM also sets the visibility map, without
    // which counts cannot be answered from the indexes alone.
    await (database.dialect === 'postgres' ? sql`vacuum analyze products` : sql`analyze`).execute(database.db);
    console.log(`Loaded ${base.categories.length} categories and ${count} products into ${redactUrl(config.databaseUrl)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `Configuration error: ${error.message}` : error instanceof Error ? error.message : error);
  process.exit(1);
});

import { sql } from 'kysely';
import pino, { type Logger } from 'pino';
import { CartService } from './cart/service.js';
import { CatalogRepository } from './catalog/repository.js';
import { CatalogService } from './catalog/service.js';
import { redactUrl, type StoreConfig } from './config.js';
import { openDatabase, openMigrated, type Database } from './db/database.js';
import { storeMigrations } from './db/migrations.js';
import type { StoreSchema } from './db/schema.js';
import { readSeedFile, seedIfEmpty } from './db/seed.js';
import { buildStoreApp } from './http/app.js';
import { closeGracefully, listen, serverUrl } from './http/server.js';
import { recordIdempotentAnswers, sweepIdempotencyKeys } from './http/idempotency.js';
import { loggerOptions } from './http/logger.js';
import { OrderService } from './orders/service.js';

export function openStoreDatabase(config: StoreConfig): Database<StoreSchema> {
  return openDatabase<StoreSchema>({ url: config.databaseUrl, poolSize: config.dbPoolSize, sqlite: config.sqlite });
}

/** Creates the schema and seeds an empty catalog: what a first start needs. Run once, before serving. */
export async function prepareStoreDatabase(config: StoreConfig, log: Logger): Promise<void> {
  const database = await openMigrated<StoreSchema>(
    'DATABASE_URL',
    { url: config.databaseUrl, poolSize: config.dbPoolSize, sqlite: config.sqlite },
    storeMigrations,
    'store_migrations',
  );
  try {
    if (await seedIfEmpty(database, () => readSeedFile(config.seedFile))) log.info({ seed: config.seedFile }, 'catalog seeded');
  } finally {
    await database.close();
  }
}

/**
 * The last start-up lines of the store, logged once however many workers serve it: the unsigned
 * callback warning if it applies, then the URL and the docs URL.
 */
export function announceStore(config: StoreConfig, log: Logger): void {
  if (!config.webhookSecret) log.warn('PAYMENTS_WEBHOOK_SECRET is not set: payment callbacks are accepted unsigned');
  const url = serverUrl(config.host, config.port);
  log.info(
    {
      url,
      docs: `${url}/docs`,
      database: redactUrl(config.databaseUrl),
      signed_callbacks: Boolean(config.webhookSecret),
      workers: config.workers,
    },
    `store listening on ${url} (docs: ${url}/docs)`,
  );
}

/** Starts one store process: HTTP server plus the sweeper that expires orders and idle carts. */
export async function startStore(config: StoreConfig) {
  const log = pino(loggerOptions(config.log, 'store'));
  // Transactions run for a request with an Idempotency-Key also record its answer (http/idempotency.ts).
  const database = recordIdempotentAnswers(openStoreDatabase(config));
  // Stock-sensitive paths return expired holds first (issue 8, item 3): a deadline passed is a hold released.
  const releaseExpiredHolds = (): Promise<number> => orders.expireDue();
  const carts = new CartService(database, config.cartTtlSeconds * 1000, releaseExpiredHolds);
  const orders = new OrderService(database, log, () => carts.idleSince(), config.orderTtlSeconds * 1000);
  const services = {
    catalog: new CatalogService(new CatalogRepository(database.db, database.dialect), {
      releaseExpiredHolds,
      memoryLimit: config.catalogMemoryProducts,
    }),
    carts,
    orders,
    db: database.db,
    ping: async () => {
      await sql`select 1`.execute(database.db);
    },
  };
  const app = buildStoreApp(config, services, log);

  const sweep = async () => {
    try {
      const expired = await orders.expireDue();
      const idle = await carts.sweep();
      const keys = await sweepIdempotencyKeys(database.db);
      if (expired || idle || keys) log.info({ expired_orders: expired, deleted_carts: idle, idempotency_keys: keys }, 'sweep');
    } catch (error) {
      log.error({ err: error }, 'sweep failed');
    }
  };
  let sweeping = Promise.resolve();
  const timer = setInterval(() => (sweeping = sweeping.then(sweep)), config.sweepIntervalMs);
  timer.unref();

  try {
    await listen(app, { host: config.host, port: config.port, variable: 'PORT', server: 'store' });
  } catch (error) {
    clearInterval(timer);
    await database.close();
    throw error;
  }

  return {
    app,
    log,
    async close() {
      clearInterval(timer);
      await closeGracefully(app);
      await sweeping;
      await database.close();
    },
  };
}

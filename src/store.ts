import { sql } from 'kysely';
import type { Logger } from 'pino';
import { redactUrl, type StoreConfig } from './config.js';
import { openDatabase, openMigrated, type Database } from './db/database.js';
import { storeMigrations } from './db/migrations.js';
import type { StoreSchema } from './db/schema.js';
import { readSeedFile, seedIfEmpty } from './db/seed.js';
import { buildStoreApp } from './http/app.js';
import { closeGracefully, listen, serverUrl } from './http/server.js';
import { recordIdempotentAnswers, sweepIdempotencyKeys } from './http/idempotency.js';
import { createLogger } from './http/logger.js';
import { recordEvent } from './events/recorder.js';
import { FaultBook, firedEventData } from './faults/book.js';
import { FaultRepository } from './faults/repository.js';
import { FaultService } from './faults/service.js';
import { GatewayClient } from './sandboxes/gateway-client.js';
import { SandboxService } from './sandboxes/service.js';
import { ShopFactory } from './sandboxes/shop.js';
import { deleteIdleCarts, expireDueOrders } from './sandboxes/sweep.js';
import { eventRepository } from './events/repository.js';
import { EventService } from './events/service.js';
import { HostAllowList } from './webhooks/allow-list.js';
import { WebhookSender } from './webhooks/sender.js';
import { WebhookService } from './webhooks/service.js';
import { WebhookWorker } from './webhooks/worker.js';
import { StateService } from './events/state.js';
import { RequestEvents } from './events/requests.js';
import { setRootTimeline } from './shared/timeline.js';
import { GatewayEventImporter } from './events/gateway-import.js';

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
      dashboard: config.sandboxes.adminOpen ? `${url}/dashboard` : undefined,
      database: redactUrl(config.databaseUrl),
      signed_callbacks: Boolean(config.webhookSecret),
      workers: config.workers,
    },
    `store listening on ${url} (docs: ${url}/docs)`,
  );
  const { adminApiKey, adminOpen } = config.sandboxes;
  if (!adminOpen) log.warn(`ADMIN_API_KEY is not set and HOST (${config.host}) is not a loopback address: sandbox management and /admin endpoints are disabled (404)`);
  else log.info({ admin_key: adminApiKey !== undefined }, adminApiKey ? 'sandbox management and /admin need the ADMIN_API_KEY bearer key' : 'sandbox management and /admin are open on this loopback address');
}

/** Starts one store process: HTTP server, the sweeper that expires orders and idle carts, and the webhook worker. */
export async function startStore(config: StoreConfig) {
  const log = createLogger(config.log, 'store');
  setRootTimeline(config.events.root !== 'off');
  // Transactions run for a request with an Idempotency-Key also record its answer (http/idempotency.ts).
  const database = recordIdempotentAnswers(openStoreDatabase(config));
  const faultBook = new FaultBook(database.db, new FaultRepository('sandbox'), 'store');
  const gateway = new GatewayClient(config.sandboxes.paymentsUrl, config.sandboxes.adminApiKey);
  const importer = new GatewayEventImporter(database, gateway, log);
  const shops = new ShopFactory(
    database,
    { cartTtlMs: config.cartTtlSeconds * 1000, orderTtlMs: config.orderTtlSeconds * 1000, catalogMemoryProducts: config.catalogMemoryProducts },
    log,
    importer,
    faultBook,
    // Every fired fault is an event of its sandbox (spec/sandboxes.md section 3).
    async (q, fired) => {
      await recordEvent({ q, key: fired.key }, fired.at, 'fault.fired', firedEventData(fired));
    },
  );
  const sandboxes = new SandboxService(database, shops, gateway, config.sandboxes, log, faultBook);
  const requestEvents = new RequestEvents(database, log);
  const allowList = new HostAllowList(config.webhooks.allowedHosts);
  const worker = new WebhookWorker(database, config.webhooks, allowList, new WebhookSender(config.webhooks.timeoutMs), log.child({ component: 'webhooks' }), importer);
  const webhooks = new WebhookService(database, (id) => sandboxes.find(id), config.webhooks, allowList, () => worker.wake(), log);
  sandboxes.onReset((row) => webhooks.afterReset(row));
  const services = {
    shops,
    sandboxes,
    faults: new FaultService(database, faultBook, gateway, (id) => sandboxes.find(id), config.sandboxes.maxFaultRules, log),
    events: new EventService(database, sandboxes, importer, config.events.maxPerSandbox),
    state: new StateService(shops, sandboxes, gateway),
    requestEvents,
    gateway,
    webhooks,
    ping: async () => {
      await sql`select 1`.execute(database.db);
    },
  };
  const app = buildStoreApp(config, services, log);

  // Every sandbox at once, each on its own clock (sandboxes/sweep.ts).
  const sweep = async () => {
    try {
      const expired = await expireDueOrders(shops);
      const idle = await deleteIdleCarts(shops);
      const keys = await sweepIdempotencyKeys(database.db);
      const gone = await sandboxes.sweepIdle();
      const events = await eventRepository.prune(database.db, config.events.maxPerSandbox);
      if (expired || idle || keys || gone || events) log.info({ expired_orders: expired, deleted_carts: idle, idempotency_keys: keys, idle_sandboxes: gone, pruned_events: events }, 'sweep');
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
  // Deliveries left pending by the last process (a restart) go out from here on.
  worker.start();

  return {
    app,
    log,
    async close() {
      clearInterval(timer);
      await closeGracefully(app);
      await worker.stop();
      await sweeping;
      await requestEvents.close();
      await database.close();
    },
  };
}

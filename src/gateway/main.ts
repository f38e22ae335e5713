import { isLoopback, loadGatewayConfig, loadOrExit, redactUrl } from '../config.js';
import { setRootTimeline } from '../shared/timeline.js';
import { sql } from 'kysely';
import { openMigrated } from '../db/database.js';
import { closeGracefully, listen, serverUrl } from '../http/server.js';
import { stopWithParent } from '../shared/launcher.js';
import { accessLogEnabled, createLogger } from '../http/logger.js';
import { buildGatewayApp } from './app.js';
import { CallbackWorker, HttpCallbackSender } from './callbacks.js';
import { GATEWAY_MIGRATION_TABLE, gatewayMigrations } from './migrations.js';
import type { GatewaySchema } from './repository.js';
import { GatewayService } from './service.js';
import { recordGatewayEvent } from './events.js';
import { firedEventData } from '../faults/book.js';
import { SandboxAdmin } from './sandboxes.js';
import { GatewayTimeline } from './timeline.js';
import { gatewayEvents } from './events.js';

/** How often the gateway trims its event logs to MAX_EVENTS_PER_SANDBOX. */
const EVENT_PRUNE_INTERVAL_MS = 5000;

/**
 * `npm run start:payments`: the payments gateway on HOST:PAYMENTS_PORT with its own database
 * (PAYMENTS_DATABASE_URL), plus the worker that retries callbacks the store did not take.
 */

async function main(): Promise<void> {
  const config = loadOrExit(loadGatewayConfig);
  const log = createLogger(config.log, 'payments');
  setRootTimeline(config.rootEvents);
  const database = await openMigrated<GatewaySchema>(
    'PAYMENTS_DATABASE_URL',
    { url: config.databaseUrl, sqlite: config.sqlite },
    gatewayMigrations,
    GATEWAY_MIGRATION_TABLE,
  );

  const sender = new HttpCallbackSender({ storeUrl: config.storeUrl, secret: config.webhookSecret, timeoutMs: config.callbackTimeoutMs });
  const service = new GatewayService(database, sender, log, {
    callbackMaxAttempts: config.callbackMaxAttempts,
    callbackBaseDelayMs: config.callbackBaseDelayMs,
    // Covers one attempt (its timeout) and its bookkeeping, with room to spare.
    callbackLeaseMs: config.callbackTimeoutMs * 2 + 1000,
  }, async (q, fired) => {
    // Every fired fault is an event of its sandbox (imported into the store's timeline).
    await recordGatewayEvent(q, fired.key, fired.at, 'fault.fired', firedEventData(fired));
  });
  const ping = async () => {
    await sql`select 1`.execute(database.db);
  };
  const worker = new CallbackWorker(service, log, { pollIntervalMs: config.callbackPollIntervalMs });
  // Sandbox management: with ADMIN_API_KEY behind it, without one only on a loopback address.
  const adminEnabled = config.adminApiKey !== undefined || isLoopback(config.host);
  const admin = adminEnabled
    ? {
      admin: new SandboxAdmin(database, service.sandboxes, log, () => worker.wake(), service.faultBook),
      timeline: new GatewayTimeline(database, service.sandboxes),
      adminKey: config.adminApiKey,
    }
    : undefined;
  const app = buildGatewayApp({ service, admin, logger: log, accessLog: accessLogEnabled(config.log), ping });

  try {
    await listen(app, { host: config.host, port: config.port, variable: 'PAYMENTS_PORT', server: 'payments gateway' });
  } catch (error) {
    await database.close();
    throw error;
  }
  worker.start();
  // The event logs keep the newest MAX_EVENTS_PER_SANDBOX per sandbox, pruned off the request path.
  let pruning = Promise.resolve();
  const pruner = setInterval(() => {
    pruning = pruning.then(async () => {
      try {
        const deleted = await gatewayEvents.prune(database.db, config.maxEventsPerSandbox);
        if (deleted > 0) log.info({ pruned_events: deleted }, 'event logs pruned');
      } catch (error) {
        log.error({ err: error }, 'event log pruning failed');
      }
    });
  }, EVENT_PRUNE_INTERVAL_MS);
  pruner.unref();
  if (!admin) log.warn({ host: config.host }, 'sandbox management endpoints disabled: set ADMIN_API_KEY to serve them on a non-loopback address');
  // The store warns about unsigned callbacks (it is the side that accepts them): once, not twice under npm start.
  const url = serverUrl(config.host, config.port);
  log.info(
    {
      url,
      docs: `${url}/docs`,
      store_url: config.storeUrl,
      database: redactUrl(config.databaseUrl),
      signed_callbacks: Boolean(config.webhookSecret),
      sandbox_admin: admin ? (admin.adminKey ? 'admin key required' : 'open (loopback only)') : 'disabled',
    },
    `payments gateway listening on ${url} (docs: ${url}/docs)`,
  );

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'payments gateway shutting down');
    (async () => {
      await closeGracefully(app); // requests in flight finish, with their inline callback
      await worker.stop(); // attempts in flight are recorded
      clearInterval(pruner);
      await pruning;
      await database.close();
    })().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  stopWithParent(shutdown);
}

main().catch((error: unknown) => {
  console.error('Payments gateway failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});

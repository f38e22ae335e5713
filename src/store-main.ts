import cluster from 'node:cluster';
import { loadOrExit, loadStoreConfig, type StoreConfig } from './config.js';
import { createLogger } from './http/logger.js';
import { stopWithParent } from './shared/launcher.js';
import { announceStore, prepareStoreDatabase, startStore } from './store.js';

/**
 * `npm run start:store`. With WORKERS=N the primary prepares the database once and forks N
 * workers that share the port (node:cluster); all state lives in the database, so any worker
 * (or any other instance on the same database) can serve any request.
 */

async function runWorker(config: StoreConfig): Promise<void> {
  const store = await startStore(config);
  if (cluster.isPrimary) announceStore(config, store.log);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    store.log.info({ signal }, 'store shutting down');
    store.close().then(
      () => process.exit(0),
      (error: unknown) => {
        store.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // A worker's channel is to the primary; a primary's (under npm start) is to src/main.ts.
  stopWithParent(shutdown);
}

async function runPrimary(config: StoreConfig): Promise<void> {
  const log = createLogger(config.log, 'store');
  await prepareStoreDatabase(config, log);
  if (config.workers === 1) return runWorker(config);
  log.info({ workers: config.workers }, 'starting store workers');
  let stopping = false;
  for (let i = 0; i < config.workers; i++) cluster.fork();
  cluster.once('listening', () => announceStore(config, log));
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      // The last worker gone, the primary is done: under npm start its IPC channel to src/main.ts
      // would otherwise keep it alive, and main.ts waits for it to exit.
      if (Object.values(cluster.workers ?? {}).every((w) => !w || w.isDead())) process.exit(0);
      return;
    }
    log.error({ pid: worker.process.pid, code, signal }, 'store worker died; starting a new one');
    cluster.fork();
  });
  const stop = () => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead());
    if (workers.length === 0) process.exit(0);
    for (const worker of workers) worker?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  stopWithParent(stop);
}

const config = loadOrExit(loadStoreConfig);
(cluster.isPrimary ? runPrimary(config) : runWorker(config)).catch((error: unknown) => {
  console.error('Store failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});

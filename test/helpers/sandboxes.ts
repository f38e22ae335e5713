import { afterAll, beforeAll } from 'vitest';
import { call, freePort, freshDatabaseUrl, startGateway, startStore, type ServerProcess } from './processes.js';
import { shutdown, startAll } from './shop.js';

/**
 * A store and its gateway that know each other (the store drives the gateway's management
 * endpoints at PAYMENTS_URL; the gateway calls back STORE_URL), plus extra store instances on the
 * same store database when asked.
 */
export async function startPair(options: { stores?: number; env?: Record<string, string> } = {}): Promise<{ stores: ServerProcess[]; gateway: ServerProcess }> {
  const gatewayPort = await freePort();
  const databaseUrl = freshDatabaseUrl();
  const env = { PAYMENTS_URL: `http://127.0.0.1:${gatewayPort}`, ...options.env };
  const stores = await startAll(Array.from({ length: options.stores ?? 1 }, () => () => startStore({ databaseUrl, env })));
  const gateway = await startGateway({ storeUrl: stores[0]!.url, port: gatewayPort, env: options.env ?? {} });
  return { stores, gateway };
}

/** One startPair for the enclosing describe block: started before its tests, stopped after; `store()` is its first store. */
export function usePair(options: Parameters<typeof startPair>[0] = {}) {
  let pair: Awaited<ReturnType<typeof startPair>> | undefined;
  beforeAll(async () => {
    pair = await startPair(options);
  });
  afterAll(() => shutdown(...(pair?.stores ?? []), pair?.gateway));
  const started = () => {
    if (!pair) throw new Error('the servers are not started yet');
    return pair;
  };
  return { store: () => started().stores[0]!, gateway: () => started().gateway };
}

/** Creates a sandbox (201 expected) and returns its answer: sandbox_id, store_url, payments_url, ... */
export async function createSandbox(storeUrl: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<any> {
  const res = await call('POST', `${storeUrl}/sandboxes`, body, headers);
  if (res.status !== 201) throw new Error(`POST /sandboxes answered ${res.status}: ${res.text}`);
  return res.body;
}

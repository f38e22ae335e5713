import { expect } from 'vitest';
import { call, type ServerProcess } from './processes.js';

/** Small client-side steps shared by the flow, concurrency, persistence and signature suites. */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function stockOf(storeUrl: string, productId: number): Promise<number> {
  const res = await call('GET', `${storeUrl}/products/${productId}`);
  expect(res.status).toBe(200);
  return res.body.stock as number;
}

export async function stocksOf(storeUrl: string, productIds: number[]): Promise<Map<number, number>> {
  const entries = await Promise.all(productIds.map(async (id) => [id, await stockOf(storeUrl, id)] as const));
  return new Map(entries);
}

/** A new cart holding the given [product_id, quantity] lines. */
export async function cartWith(storeUrl: string, lines: [number, number][]): Promise<string> {
  const cart = await call('POST', `${storeUrl}/cart`);
  expect(cart.status).toBe(200);
  const cartId = cart.body.cart_id as string;
  for (const [product_id, quantity] of lines) {
    const added = await call('POST', `${storeUrl}/cart/${cartId}/items`, { product_id, quantity });
    expect(added.status, added.text).toBe(200);
  }
  return cartId;
}

export interface PendingOrder {
  cart_id: string;
  order_id: string;
  total: number;
}

/** A cart with these lines, checked out: a pending_payment order. */
export async function pendingOrder(storeUrl: string, lines: [number, number][]): Promise<PendingOrder> {
  const cart_id = await cartWith(storeUrl, lines);
  const res = await call('POST', `${storeUrl}/cart/${cart_id}/checkout`);
  expect(res.status, res.text).toBe(200);
  return { cart_id, order_id: res.body.order_id, total: res.body.total };
}

export async function orderOf(storeUrl: string, orderId: string): Promise<any> {
  const res = await call('GET', `${storeUrl}/orders/${orderId}`);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** Polls `read` until `done` holds or the time is up; returns the last value read either way. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch((error: unknown) => error as T);
    if (done(value) || Date.now() >= deadline) return value;
    await sleep(stepMs);
  }
}

/** Cents-exact money arithmetic for assertions. */
export const cents = (amount: number) => Math.round(amount * 100);
export const fromCents = (value: number) => value / 100;

/**
 * Clean-up: SIGTERM each process, SIGKILL whatever has not exited after `graceMs` (a hung shutdown
 * must not hold the suite for a minute; the persistence suite tests graceful shutdown itself).
 */
export async function shutdown(...processes: (ServerProcess | undefined)[]): Promise<void> {
  const graceMs = 10_000;
  await Promise.all(
    processes.map(async (proc) => {
      if (!proc) return;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
      const result = await Promise.race([proc.stop().then(() => 'stopped' as const), timeout]);
      clearTimeout(timer);
      if (result === 'timeout') await proc.kill();
    }),
  );
}

/**
 * Starts processes one after the other (start-up is CPU-bound: several at once on a busy machine
 * only make each one slower and risk the 20 s readiness timeout). If one fails to start, those
 * already running are stopped before the error is thrown, so a failed beforeAll leaves no orphans.
 */
export async function startAll<const S extends readonly (() => Promise<ServerProcess>)[]>(starters: S): Promise<{ -readonly [K in keyof S]: ServerProcess }> {
  const started: ServerProcess[] = [];
  try {
    for (const start of starters) started.push(await start());
  } catch (error) {
    await shutdown(...started);
    throw error;
  }
  return started as { -readonly [K in keyof S]: ServerProcess };
}

import Fastify, { type FastifyInstance } from 'fastify';
import { createServer, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendKept } from '../src/http/kept-json.js';
import { KeptResponses } from '../src/http/kept-responses.js';
import type { KeptRead } from '../src/shared/kept-read.js';
import { fail, ok } from '../src/shared/result.js';
import { call, freePort, startStore, useStore, type ServerProcess } from './helpers/processes.js';
import { cartWith, shutdown, stockOf, waitFor } from './helpers/shop.js';

/**
 * Kept catalog answers sent ahead of Fastify (src/http/kept-responses.ts). The first part drives
 * the class through a real Fastify server and counts what reaches the route; the second checks a
 * real store: the answers are the route's own, byte for byte, and never older than the request.
 */

describe('KeptResponses in front of a Fastify route', () => {
  const kept = new KeptResponses({ 'access-control-allow-origin': '*', 'content-type': 'application/json; charset=utf-8' });
  let app: FastifyInstance;
  let base = '';
  /** Requests that reached the route, by URL. */
  const routed: string[] = [];
  /** What the route's answer gives, set by each test. */
  let answer: KeptRead<object>;

  beforeAll(async () => {
    app = Fastify();
    kept.install(app.server);
    app.decorateRequest('keptResponses', null);
    app.addHook('onRequest', (req, reply, done) => {
      req.keptResponses = kept;
      reply.header('access-control-allow-origin', '*');
      done();
    });
    app.get('/thing', (req, reply) => {
      routed.push(req.url);
      // What the test set last, also for requests answered ahead of the route.
      const live: KeptRead<object> = { now: () => answer.now(), current: () => answer.current(), read: () => answer.read(), keeps: (value) => answer.keeps(value) };
      return sendKept(req, reply, live);
    });
    app.post('/thing', (req) => {
      routed.push(`POST ${req.url}`);
      return { posted: true };
    });
    const port = await freePort();
    await app.listen({ host: '127.0.0.1', port });
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => app.close());

  const get = (path: string, headers: Record<string, string> = {}) => call('GET', `${base}${path}`, undefined, headers);
  /** An answer the service keeps and knows current: `value` every time. */
  const keptAs = (value: object): KeptRead<object> => ({ now: () => value, current: () => Promise.resolve(value), read: () => Promise.resolve(ok(value)), keeps: () => true });
  const routedCount = (url: string) => routed.filter((u) => u === url).length;

  it('the route answers a URL first; its repeats are the same bytes and headers, without the route', async () => {
    const value = { id: 1, name: 'kept' };
    answer = keptAs(value);
    const first = await get('/thing?a=1');
    const second = await get('/thing?a=1');
    const third = await get('/thing?a=1');
    expect(routedCount('/thing?a=1')).toBe(1);
    for (const res of [first, second, third]) {
      expect(res.status).toBe(200);
      expect(res.text).toBe('{"id":1,"name":"kept"}');
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.headers.get('content-length')).toBe(String(res.text.length));
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
    }
    // Another query string is another URL: the route answers it.
    await get('/thing?a=2');
    expect(routedCount('/thing?a=2')).toBe(1);
  });

  it('asks `current` when `now` knows nothing, and sends the kept answer it gives', async () => {
    const value = { id: 2 };
    let currentCalls = 0;
    answer = keptAs(value);
    await get('/thing?b=1');
    answer = { ...keptAs(value), now: () => undefined, current: () => (currentCalls++, Promise.resolve(value)) };
    const res = await get('/thing?b=1');
    expect(res.text).toBe('{"id":2}');
    expect(currentCalls).toBe(1);
    expect(routedCount('/thing?b=1')).toBe(1);
  });

  it('passes to the route a request without a kept answer: one for this request alone, a failure, a value never sent', async () => {
    const value = { id: 3 };
    answer = keptAs(value);
    await get('/thing?c=1');
    // Computed for one request (a fault rule): the route sends it, and does not remember the URL for it.
    const fresh = { id: 3, stock: 0 };
    answer = { now: () => undefined, current: () => Promise.resolve(undefined), read: () => Promise.resolve(ok(fresh)), keeps: () => false };
    expect((await get('/thing?c=1')).text).toBe('{"id":3,"stock":0}');
    expect(routedCount('/thing?c=1')).toBe(2);
    // A failure is the route's to answer, in its own words.
    answer = keptAs(value);
    await get('/thing?c=2');
    answer = { now: () => undefined, current: () => Promise.resolve(undefined), read: () => Promise.resolve(fail('not_found', 'Thing not found')), keeps: () => true };
    const missing = await get('/thing?c=2');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ detail: 'Thing not found' });
    expect(routedCount('/thing?c=2')).toBe(2);
    // A rejected read goes to the route too (which reads again).
    answer = keptAs(value);
    await get('/thing?c=3');
    answer = { ...keptAs(value), now: () => undefined, current: () => Promise.reject(new Error('database gone')) };
    expect((await get('/thing?c=3')).text).toBe('{"id":3}');
    expect(routedCount('/thing?c=3')).toBe(2);
    // A kept answer whose JSON was never sent (a new version's page): the route serialises it.
    answer = keptAs({ id: 3, version: 2 });
    expect((await get('/thing?c=3')).text).toBe('{"id":3,"version":2}');
    expect(routedCount('/thing?c=3')).toBe(3);
    expect((await get('/thing?c=3')).text).toBe('{"id":3,"version":2}');
    expect(routedCount('/thing?c=3')).toBe(3);
  });

  it('sends to the route whatever else could change the answer: a method, a body, X-Fault, Idempotency-Key', async () => {
    const value = { id: 4 };
    answer = keptAs(value);
    await get('/thing?d=1');
    expect(routedCount('/thing?d=1')).toBe(1);
    await get('/thing?d=1', { 'x-fault': 'latency=1' });
    await get('/thing?d=1', { 'idempotency-key': 'k1' });
    const head = await call('HEAD', `${base}/thing?d=1`);
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(routedCount('/thing?d=1')).toBe(4);
    expect((await call('POST', `${base}/thing?d=1`, { any: 1 })).body).toEqual({ posted: true });
    expect(routedCount('POST /thing?d=1')).toBe(1);
    // A GET that carries a body (fetch refuses to send one).
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(`${base}/thing?d=1`, { method: 'GET', headers: { 'content-type': 'application/json', 'content-length': '2' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end('{}');
    });
    expect(status).toBe(200);
    expect(routedCount('/thing?d=1')).toBe(5);
  });

  it('once closing, every request goes to Fastify', async () => {
    const value = { id: 5 };
    answer = keptAs(value);
    await get('/thing?e=1');
    await get('/thing?e=1');
    expect(routedCount('/thing?e=1')).toBe(1);
    kept.close();
    await get('/thing?e=1');
    await get('/thing?e=1');
    expect(routedCount('/thing?e=1')).toBe(3);
  });
});

describe('kept catalog answers of a real store', () => {
  const store = useStore();
  const get = (path: string, headers: Record<string, string> = {}) => call('GET', `${store.url()}${path}`, undefined, headers);
  const PATHS = ['/categories', '/products?search=keyboard', '/products?min_price=20&max_price=100&min_rating=4&sort_by=price&order=asc', '/products/3'];

  it('repeats of a catalog GET are the route\'s answer, byte for byte, with the same headers', async () => {
    for (const path of PATHS) {
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await get(path));
      const [first] = answers;
      expect(first!.status).toBe(200);
      for (const res of answers) {
        expect(res.status).toBe(200);
        expect(res.text).toBe(first!.text);
        for (const header of ['content-type', 'content-length', 'access-control-allow-origin']) expect(res.headers.get(header)).toBe(first!.headers.get(header));
      }
    }
  });

  it('a sale shows in the next read of a URL answered before, in the listing and the product', async () => {
    const listing = async () => (await get('/products?search=keyboard')).body.products.find((p: { id: number }) => p.id === 3).stock as number;
    for (let i = 0; i < 3; i++) await listing();
    const before = await stockOf(store.url(), 3);
    await stockOf(store.url(), 3);
    const cart = await cartWith(store.url(), [[3, 2]]);
    expect((await call('POST', `${store.url()}/cart/${cart}/checkout`)).status).toBe(200);
    expect(await stockOf(store.url(), 3)).toBe(before - 2);
    expect(await listing()).toBe(before - 2);
  });

  it('an X-Fault header and a fault rule still apply to a URL answered before', async () => {
    for (let i = 0; i < 3; i++) await get('/products/4');
    expect((await get('/products/4', { 'x-fault': 'status=503' })).status).toBe(503);
    const stock = (await get('/products/4')).body.stock as number;
    expect(stock).toBeGreaterThan(0);
    const put = await call('PUT', `${store.url()}/sandboxes/default/faults`, { rules: [{ kind: 'out_of_stock', product_id: 4 }] });
    expect(put.status, put.text).toBe(200);
    expect((await get('/products/4')).body.stock).toBe(0);
    expect((await get('/products/4')).body.stock).toBe(0);
    expect((await call('DELETE', `${store.url()}/sandboxes/default/faults`)).status).toBe(204);
    expect((await get('/products/4')).body.stock).toBe(stock);
    // A rule of the request hook (latency, error) applies to a URL answered before, as to any other.
    for (let i = 0; i < 3; i++) expect((await get('/categories')).status).toBe(200);
    const rule = await call('PUT', `${store.url()}/sandboxes/default/faults`, { rules: [{ kind: 'error', status: 503, match: { method: 'GET', path: '/categories' } }] });
    expect(rule.status, rule.text).toBe(200);
    expect((await get('/categories')).status).toBe(503);
    expect((await get('/categories')).status).toBe(503);
    expect((await call('DELETE', `${store.url()}/sandboxes/default/faults`)).status).toBe(204);
    expect((await get('/categories')).status).toBe(200);
  });
});

describe('a store that records every request answers none ahead of its hooks', () => {
  let store: ServerProcess | undefined;
  beforeAll(async () => {
    store = await startStore({ env: { ROOT_EVENTS: 'all', LOG_LEVEL: 'debug' } });
  });
  afterAll(() => shutdown(store));

  it('ROOT_EVENTS=all and access lines (LOG_LEVEL=debug) see each repeat of a catalog GET', async () => {
    for (let i = 0; i < 4; i++) expect((await call('GET', `${store!.url}/products/3?repeat=1`)).status).toBe(200);
    const events = await waitFor(
      async () => (await call('GET', `${store!.url}/sandboxes/default/events`)).body.events as { type: string; data: { path: string } }[],
      (list) => list.filter((e) => e.type === 'request' && e.data.path.startsWith('/products/3')).length >= 4,
    );
    expect(events.filter((e) => e.type === 'request' && e.data.path.startsWith('/products/3'))).toHaveLength(4);
    const accessLines = store!.output().split('\n').filter((line) => line.includes('"msg":"request"') && line.includes('/products/3?repeat=1'));
    expect(accessLines).toHaveLength(4);
  });
});

/** Whether this machine can listen on the IPv6 loopback (a container may have IPv6 switched off). */
async function ipv6Loopback(): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}

describe('HOST=localhost with two loopback addresses', async () => {
  // Fastify opens a server per address `localhost` resolves to; kept answers must not cost that.
  it.runIf(await ipv6Loopback())('the store answers on both, kept repeats included', async () => {
    const shim = new URL('./helpers/dual-localhost.mjs', import.meta.url).pathname;
    const port = await freePort();
    const store = await startStore({ port, env: { HOST: 'localhost', NODE_OPTIONS: `--import ${shim}` } });
    try {
      for (const host of ['127.0.0.1', '[::1]']) {
        for (let i = 0; i < 3; i++) {
          const res = await call('GET', `http://${host}:${port}/products/3`);
          expect(res.status, `${host}: ${res.text}`).toBe(200);
          expect(res.body.id).toBe(3);
        }
      }
    } finally {
      await shutdown(store);
    }
  });
});

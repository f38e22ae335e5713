import type { FastifyInstance } from 'fastify';
import { networkReason } from '../shared/network.js';
import type { Answer, Channel, StoreRequest } from './tools.js';

/**
 * The two ways the MCP tools reach the HTTP contract: in the store process through Fastify's
 * `inject()` (no socket, the same routes, hooks and messages), and from the stdio entry over
 * the network. Both reach the gateway over the network.
 */

/** How long a tool waits for a server over the network. */
const TIMEOUT_MS = 10_000;

const parse = (text: string): unknown => {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text };
  }
};

const withQuery = (path: string, query: Record<string, string> | undefined): string =>
  query ? `${path}?${new URLSearchParams(query).toString()}` : path;

/** fetch as an Answer; a server that cannot be reached is a 503 with `unavailable` in the server's words. */
async function fetchAnswer(url: string, method: string, body: unknown, headers: Record<string, string>, unavailable: (reason: string) => unknown): Promise<Answer> {
  try {
    const res = await fetch(url, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    return { status: res.status, body: parse(await res.text()) };
  } catch (error) {
    return { status: 503, body: unavailable(networkReason(error)) };
  }
}

/** POST to a gateway base URL (the gateway's own error shape when it is down). */
const gatewayPost = (paymentsBase: string) => (path: string, body: unknown): Promise<Answer> =>
  fetchAnswer(`${paymentsBase}${path}`, 'POST', body, {}, (reason) => ({ status: 'failed', message: `Payments gateway unavailable: ${reason}` }));

/**
 * The store process's channel for one MCP request: store calls are injected under `base` ('' for
 * the root, `/sandboxes/{id}` for a sandbox) carrying the caller's Authorization header (the admin
 * tools' routes check it again); gateway calls go to `paymentsBase` (the same sandbox's gateway).
 */
export function injectChannel(app: FastifyInstance, base: string, paymentsBase: string, authorization: string | undefined): Channel {
  return {
    async store(request: StoreRequest) {
      const res = await app.inject({
        method: request.method,
        url: withQuery(`${base}${request.path}`, request.query),
        headers: { ...request.headers, ...(authorization ? { authorization } : {}), ...(request.body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(request.body === undefined ? {} : { payload: JSON.stringify(request.body) }),
      });
      return { status: res.statusCode, body: parse(res.body) };
    },
    gateway: gatewayPost(paymentsBase),
  };
}

/** The stdio entry's channel: a store (or sandbox) base URL and its gateway's, as POST /sandboxes answers them. */
export function httpChannel(storeBase: string, paymentsBase: string, authorization?: string): Channel {
  return {
    store: (request) =>
      fetchAnswer(`${storeBase}${withQuery(request.path, request.query)}`, request.method, request.body, { ...request.headers, ...(authorization ? { authorization } : {}) }, (reason) => ({
        detail: `Store unavailable: ${reason}`,
      })),
    gateway: gatewayPost(paymentsBase),
  };
}

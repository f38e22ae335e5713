import type { FastifyReply, FastifyRequest } from 'fastify';
import { recordEvent } from './recorder.js';

/**
 * An onResponse hook recording a `request` event (spec/sandboxes.md section 3) of the request's
 * shop: `{method, path, status, ms}` with `path` relative to the sandbox's base
 * (`/sandboxes/run-7/products` is `/products`) and `query` (the raw query string) when there is
 * one. It runs after the answer is sent, in a transaction of its own, so the handler never waits
 * for it; a failure is logged and the answer stands.
 */
export async function recordRequestEvent(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const shop = req.shop as FastifyRequest['shop'] | null;
  if (!shop) return; // an unknown sandbox: answered 404 before any shop was resolved
  const base = shop.sandbox.key === 0 ? '' : `/sandboxes/${shop.sandbox.id}`;
  const url = req.url.startsWith(base) ? req.url.slice(base.length) : req.url;
  const mark = url.indexOf('?');
  const data = {
    method: req.method,
    path: (mark < 0 ? url : url.slice(0, mark)) || '/',
    ...(mark < 0 ? {} : { query: url.slice(mark + 1) }),
    status: reply.statusCode,
    ms: Math.round(reply.elapsedTime * 100) / 100,
  };
  try {
    await shop.transact(async ({ db }) => {
      await recordEvent(db, shop.clock.now(), 'request', data);
      return { ok: true, value: undefined };
    });
  } catch (error) {
    req.log.warn({ err: error, ...data }, 'request event not recorded');
  }
}

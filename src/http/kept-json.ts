import type { FastifyReply } from 'fastify';

const kept = new WeakMap<object, Buffer>();

/**
 * Sends `value` as the route's JSON answer, serialised (by the route's own response schema) only
 * the first time this very object is sent: services hand the same object out again while it is
 * current (a catalog page or product of one catalog version), so a repeat costs no serialisation.
 * The bytes live as long as the object: when the service drops it, they go too.
 */
export function sendKeptJson(reply: FastifyReply, value: object): FastifyReply {
  let body = kept.get(value);
  if (!body) {
    body = Buffer.from(reply.serialize(value) as string);
    kept.set(value, body);
  }
  return reply.type('application/json; charset=utf-8').send(body);
}

/**
 * A handler's answer when a service may hold it ready: `kept` is sent at once (no promise, the
 * hot path of a catalog read); without it, `later()` does the work and sends. Use it from a
 * handler that is not async, and return what it returns.
 */
export function sendKeptOr(reply: FastifyReply, kept: object | undefined, later: () => Promise<unknown>): Promise<unknown> | undefined {
  if (kept === undefined) return later();
  sendKeptJson(reply, kept);
  return undefined;
}

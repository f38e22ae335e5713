import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Result } from '../shared/result.js';
import { send } from './problem.js';

const kept = new WeakMap<object, Buffer>();

/** The JSON of `value` as sendKeptJson sent it, when it has been sent; else undefined. */
export const keptBytes = (value: object): Buffer | undefined => kept.get(value);

/**
 * Sends `value` as the route's JSON answer, serialised (by the route's own response schema) only
 * the first time this very object is sent: services hand the same object out again while it is
 * current (a catalog page or product of one catalog version), so a repeat costs no serialisation.
 * The bytes live as long as the object: when the service drops it, they go too.
 */
export function sendKeptJson(reply: FastifyReply, value: object): FastifyReply {
  let body = kept.get(value);
  if (!body) {
    // Bytes, not text: sent again and again, a text body would be encoded to UTF-8 each time.
    body = Buffer.from(reply.serialize(value) as string);
    kept.set(value, body);
  }
  return reply.type('application/json; charset=utf-8').send(body);
}

/**
 * A GET's answer that a service may keep (CatalogService): none of the three may hold the request.
 * - `now`: the kept answer when the service knows it current without waiting; else undefined.
 * - `later`: the current answer, read as the route would (a failure is sent as the route's error).
 * - `keeps`: whether a value `later` gave is one the service keeps (not one computed for this
 *   request alone, e.g. under a fault rule), so that `now` or `later` will hand it out again.
 */
export interface KeptAnswer {
  now(): object | undefined;
  later(): Promise<Result<object>>;
  keeps(value: object): boolean;
}

/**
 * A catalog GET's handler: sends `answer` (at once when it is kept and current, without a
 * promise), and where the request's scope keeps responses (`req.keptResponses`, the root) and the
 * answer is a kept one, remembers the request's URL with it (kept-responses.ts). Use it from a
 * handler that is not async, and return what it returns.
 */
export function sendKept(req: FastifyRequest, reply: FastifyReply, answer: KeptAnswer): Promise<unknown> | undefined {
  const value = answer.now();
  if (value !== undefined) {
    sendKeptJson(reply, value);
    req.keptResponses?.remember(req.url, answer);
    return undefined;
  }
  return answer.later().then((result) => {
    if (!result.ok) return send(reply, result);
    if (answer.keeps(result.value)) req.keptResponses?.remember(req.url, answer);
    return sendKeptJson(reply, result.value);
  });
}

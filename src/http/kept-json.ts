import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KeptRead } from '../shared/kept-read.js';
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
 * A catalog GET's handler: sends `answer` (at once when it is kept and current, without a
 * promise), and where the request's scope keeps responses (`req.keptResponses`, the root) and the
 * answer is a kept one, remembers the request's URL with it (kept-responses.ts). Use it from a
 * handler that is not async, and return what it returns.
 */
export function sendKept<T extends object>(req: FastifyRequest, reply: FastifyReply, answer: KeptRead<T>): Promise<unknown> | undefined {
  const value = answer.now();
  if (value !== undefined) {
    sendKeptJson(reply, value);
    req.keptResponses?.remember(req.url, answer);
    return undefined;
  }
  return answer.read().then((result) => {
    if (!result.ok) return send(reply, result);
    if (answer.keeps(result.value)) req.keptResponses?.remember(req.url, answer);
    return sendKeptJson(reply, result.value);
  });
}

import type { FastifyReply } from 'fastify';
import type { FailureKind, Result } from '../shared/result.js';

const STATUS: Record<FailureKind, number> = { not_found: 404, rejected: 400, conflict: 422, invalid: 422, unauthorized: 401, exists: 409, unavailable: 503 };

/** Sends a service result: the value as-is, or `{"detail": message}` with the failure's status code. */
export function send<T>(reply: FastifyReply, result: Result<T>): T | FastifyReply {
  if (result.ok) return result.value;
  return reply.code(STATUS[result.kind]).send({ detail: result.message });
}

/** Like `send`, with the success answered `status` (201 Created with the value, 204 No Content without a body). */
export function sendAs<T>(reply: FastifyReply, result: Result<T>, status: 201 | 204): FastifyReply {
  if (!result.ok) return send(reply, result) as FastifyReply;
  return reply.code(status).send(status === 204 ? null : result.value);
}

import type { FastifyReply } from 'fastify';
import type { FailureKind, Result } from '../shared/result.js';

const STATUS: Record<FailureKind, number> = { not_found: 404, rejected: 400, conflict: 422, unauthorized: 401 };

/** Sends a service result: the value as-is, or `{"detail": message}` with the failure's status code. */
export function send<T>(reply: FastifyReply, result: Result<T>): T | FastifyReply {
  if (result.ok) return result.value;
  return reply.code(STATUS[result.kind]).send({ detail: result.message });
}

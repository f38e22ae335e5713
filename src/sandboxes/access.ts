import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxConfig } from '../config.js';
import { ADMIN_KEY_MESSAGE } from '../http/schemas.js';
import { bearerMatches } from '../shared/bearer.js';

/**
 * The access rule of management and admin endpoints (spec/sandboxes.md section 5): with
 * ADMIN_API_KEY set, `Authorization: Bearer <key>` or 401; without it, served only while the
 * store listens on a loopback address, and 404 (as if absent) anywhere else.
 */
export function adminAccess(config: Pick<SandboxConfig, 'adminApiKey' | 'adminOpen'>) {
  const key = config.adminApiKey;
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (!config.adminOpen) return reply.code(404).send({ detail: 'Not Found' });
    if (key !== undefined && !bearerMatches(req.headers.authorization, key)) return reply.code(401).send({ detail: ADMIN_KEY_MESSAGE });
  };
}

import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxConfig } from '../config.js';
import { ADMIN_KEY_MESSAGE } from '../http/schemas.js';

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * The access rule of management and admin endpoints (spec/sandboxes.md section 5): with
 * ADMIN_API_KEY set, `Authorization: Bearer <key>` or 401; without it, served only while the
 * store listens on a loopback address, and 404 (as if absent) anywhere else.
 */
export function adminAccess(config: Pick<SandboxConfig, 'adminApiKey' | 'adminOpen'>) {
  const expected = config.adminApiKey === undefined ? undefined : `Bearer ${config.adminApiKey}`;
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (!config.adminOpen) return reply.code(404).send({ detail: 'Not Found' });
    if (expected === undefined) return;
    const given = req.headers.authorization;
    if (typeof given !== 'string' || !same(given, expected)) return reply.code(401).send({ detail: ADMIN_KEY_MESSAGE });
  };
}

import type { FastifyInstance, FastifyReply } from 'fastify';
import { bearerMatches } from '../shared/bearer.js';
import type { Answer } from './requests.js';
import type { SandboxAdmin } from './sandboxes.js';
import type { GatewayTimeline } from './timeline.js';

/**
 * The management endpoints the store calls (issue-9 interface), under /admin/sandboxes. Not part
 * of the public shop API, so hidden from the OpenAPI document. Access: with ADMIN_API_KEY set,
 * `Authorization: Bearer <key>` (401 otherwise); without it they exist only while the gateway
 * listens on a loopback address (main.ts does not register them otherwise: 404).
 */
export interface AdminRoutesOptions {
  admin: SandboxAdmin;
  /** The sandbox's gateway events and canonical state, for the store's timeline and state hash (issue 10). */
  timeline: GatewayTimeline;
  adminKey: string | undefined;
}

export const MISSING_ADMIN_KEY = 'Missing or invalid admin key';

const send = (reply: FastifyReply, answer: Answer) => (answer.status === 204 ? reply.code(204).send() : reply.code(answer.status).send(answer.body));

type Params = { id: string; name: string };

export async function adminRoutes(app: FastifyInstance, { admin, timeline, adminKey }: AdminRoutesOptions): Promise<void> {
  if (adminKey !== undefined) {
    app.addHook('onRequest', async (req, reply) => {
      if (!bearerMatches(req.headers.authorization, adminKey)) return reply.code(401).send({ status: 'failed', message: MISSING_ADMIN_KEY });
    });
  }
  const hidden = { schema: { hide: true } };
  app.post('/admin/sandboxes', hidden, async (req, reply) => send(reply, await admin.create(req.body)));
  app.get('/admin/sandboxes/:id', hidden, async (req, reply) => send(reply, await admin.get((req.params as Params).id)));
  app.get('/admin/sandboxes/:id/events', hidden, async (req, reply) => send(reply, await timeline.events((req.params as Params).id, req.query as Record<string, unknown>)));
  app.get('/admin/sandboxes/:id/state', hidden, async (req, reply) => send(reply, await timeline.state((req.params as Params).id)));
  app.delete('/admin/sandboxes/:id', hidden, async (req, reply) => send(reply, await admin.remove((req.params as Params).id)));
  app.post('/admin/sandboxes/:id/reset', hidden, async (req, reply) => send(reply, await admin.reset((req.params as Params).id, req.body)));
  app.put('/admin/sandboxes/:id/faults', hidden, async (req, reply) => send(reply, await admin.setFaults((req.params as Params).id, req.body)));
  app.get('/admin/sandboxes/:id/faults', hidden, async (req, reply) => send(reply, await admin.faultCounts((req.params as Params).id)));
  app.put('/admin/sandboxes/:id/clock', hidden, async (req, reply) => send(reply, await admin.setClock((req.params as Params).id, req.body)));
  app.put('/admin/sandboxes/:id/snapshots/:name', hidden, async (req, reply) => {
    const { id, name } = req.params as Params;
    return send(reply, await admin.snapshot(id, name));
  });
  app.post('/admin/sandboxes/:id/snapshots/:name/restore', hidden, async (req, reply) => {
    const { id, name } = req.params as Params;
    return send(reply, await admin.restore(id, name, req.body));
  });
  app.delete('/admin/sandboxes/:id/snapshots/:name', hidden, async (req, reply) => {
    const { id, name } = req.params as Params;
    return send(reply, await admin.deleteSnapshot(id, name));
  });
}

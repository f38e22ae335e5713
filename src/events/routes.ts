import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { send } from '../http/problem.js';
import { integerIssue, responses, StringEnum } from '../http/schemas.js';
import { EVENT_TYPES } from './recorder.js';
import { MAX_EVENTS_PER_READ, type EventService } from './service.js';

const EventSchema = Type.Object(
  {
    seq: Type.Integer({ minimum: 1, description: 'Gapless and increasing within the sandbox (reset keeps counting upward)' }),
    at: Type.String({ format: 'date-time', description: 'The sandbox clock when it happened, ISO 8601 UTC' }),
    source: StringEnum(['store', 'gateway'] as const),
    type: StringEnum(EVENT_TYPES),
    data: Type.Record(Type.String(), Type.Unknown(), { description: 'Ids and amounts of the change; request events: method, path, status, ms' }),
  },
  { $id: 'Event' },
);

const EXAMPLE = {
  events: [
    { seq: 1, at: '2026-01-01T12:00:00.000Z', source: 'store', type: 'cart.created', data: { cart_id: '6f1c0a9e2b7d4c3a8e5f1b2c' } },
    { seq: 2, at: '2026-01-01T12:00:00.000Z', source: 'store', type: 'request', data: { method: 'POST', path: '/cart', status: 201, ms: 3 } },
  ],
};

/** Path of the events route; with EventsQuery also the input of the MCP admin tool get_events. */
export const EventsParams = Type.Object({ sandbox_id: Type.String() });
/** GET /sandboxes/{id}/events query. */
export const EventsQuery = Type.Object({
  after: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0, description: 'Only events after this seq' }),
  limit: Type.Integer({ minimum: 1, maximum: MAX_EVENTS_PER_READ, default: MAX_EVENTS_PER_READ }),
});

/** The event timeline of a sandbox (spec/sandboxes.md section 3), behind the admin access rule. */
export const eventRoutes: FastifyPluginAsyncTypebox<{ events: EventService }> = async (app, { events }) => {
  app.addSchema(EventSchema);
  app.get('/sandboxes/:sandbox_id/events', {
    schema: {
      operationId: 'listSandboxEvents', tags: ['sandboxes'],
      summary: 'What happened in a sandbox: store and gateway events in one ordered timeline',
      description: `Events with seq > \`after\`, oldest first, at most \`limit\` (${MAX_EVENTS_PER_READ}); page on with \`after\` = the last seq received. ` +
        'At most MAX_EVENTS_PER_SANDBOX (10000) are kept, oldest dropped first. `default` works too (its request events only with ROOT_REQUEST_EVENTS=true).',
      params: EventsParams,
      querystring: EventsQuery,
      response: responses(Type.Object({ events: Type.Array(Type.Ref('Event')) }), EXAMPLE, {
        admin: true, 404: ['Sandbox not found'], 422: integerIssue('query', 'after'),
      }),
    },
  }, async (req, reply) => send(reply, await events.list(req.params.sandbox_id, req.query.after, req.query.limit)));
};

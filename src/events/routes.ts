import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { send } from '../http/problem.js';
import { integerIssue, responses, StringEnum } from '../http/schemas.js';
import { EVENT_TYPES } from './recorder.js';
import { MAX_EVENTS_PER_READ, type EventService } from './service.js';
import { EventStreams } from './sse.js';
import type { StateService } from './state.js';

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

/** Path of the events and state routes: also the input of the MCP admin tools get_events (with EventsQuery) and get_state. */
export const EventsParams = Type.Object({ sandbox_id: Type.String() });
/** GET /sandboxes/{id}/events query. */
export const EventsQuery = Type.Object({
  after: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0, description: 'Only events after this seq' }),
  limit: Type.Integer({ minimum: 1, maximum: MAX_EVENTS_PER_READ, default: MAX_EVENTS_PER_READ }),
});

const StateSchema = Type.Object({
  state: Type.Object({
    catalog: Type.Object({ categories: Type.Array(Type.Record(Type.String(), Type.Unknown())), products: Type.Array(Type.Record(Type.String(), Type.Unknown())) }),
    carts: Type.Array(Type.Record(Type.String(), Type.Unknown())),
    orders: Type.Array(Type.Record(Type.String(), Type.Unknown())),
    gateway: Type.Object({
      balance: Type.String({ description: 'Fixed-decimal, e.g. "50000.00"' }),
      ledger: Type.Array(Type.Record(Type.String(), Type.Unknown())),
      payments: Type.Array(Type.Record(Type.String(), Type.Unknown())),
    }),
  }),
  hash: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'sha256 (hex) of the JSON text of `state`' }),
});

const STATE_EXAMPLE = {
  state: {
    catalog: {
      categories: [{ id: 1, name: 'Electronics', slug: 'electronics' }],
      products: [{ id: 1, name: 'Wireless Bluetooth Headphones', price: '59.99', category_id: 1, brand: 'SoundMax', rating: 4.5, stock: 48, description: 'Over-ear headphones' }],
    },
    carts: [],
    orders: [{
      order_id: '0d6f3c1e9a7b4e2f8c5a1b3d7e9f0a2c', cart_id: '6f1c0a9e2b7d4c3a8e5f1b2c', status: 'paid', total: '119.98',
      created_at: '2026-01-01T12:00:00.000Z', updated_at: '2026-01-01T12:00:00.000Z', expires_at: '2026-01-01T12:15:00.000Z',
      payment_id: 'pay_3f2a1b0c9d8e7f6a5b4c3d2e', paid_at: '2026-01-01T12:00:00.000Z', reason: null,
      items: [{ product_id: 1, name: 'Wireless Bluetooth Headphones', price: '59.99', quantity: 2 }],
    }],
    gateway: {
      balance: '49880.02',
      ledger: [{ type: 'payment', recipient: null, order_id: '0d6f3c1e9a7b4e2f8c5a1b3d7e9f0a2c', payment_id: 'pay_3f2a1b0c9d8e7f6a5b4c3d2e', amount: '119.98', balance_after: '49880.02', created_at: '2026-01-01T12:00:00.000Z' }],
      payments: [{ payment_id: 'pay_3f2a1b0c9d8e7f6a5b4c3d2e', order_id: '0d6f3c1e9a7b4e2f8c5a1b3d7e9f0a2c', amount: '119.98', status: 'succeeded', reason: null, card_last4: null, created_at: '2026-01-01T12:00:00.000Z', refunded_at: null }],
    },
  },
  hash: '5d41402abc4b2a76b9719d911017c592a2e1f1d0c1b3e5f7a9c2d4e6f8a0b1c3',
};

const wantsStream = (accept: string | undefined) => accept !== undefined && /\btext\/event-stream\b/i.test(accept);

/** The event timeline of a sandbox (spec/sandboxes.md section 3), behind the admin access rule. */
export const eventRoutes: FastifyPluginAsyncTypebox<{ events: EventService; state: StateService }> = async (app, { events, state }) => {
  app.addSchema(EventSchema);
  const streams = new EventStreams(events);
  // Open streams end first, so closing the server never waits for them.
  app.addHook('preClose', (done) => {
    streams.closeAll();
    done();
  });
  app.get('/sandboxes/:sandbox_id/events', {
    schema: {
      operationId: 'listSandboxEvents', tags: ['sandboxes'],
      summary: 'What happened in a sandbox: store and gateway events in one ordered timeline',
      description: `Events with seq > \`after\`, oldest first, at most \`limit\` (${MAX_EVENTS_PER_READ}); page on with \`after\` = the last seq received. ` +
        'At most MAX_EVENTS_PER_SANDBOX (10000) are kept, oldest dropped first. `default` works too, but records nothing unless the store runs with ROOT_EVENTS=changes or all. ' +
        'With `Accept: text/event-stream` the answer is a live Server-Sent-Events stream instead: each event as `id: <seq>`, `event: <type>`, `data: <the event as JSON>`, ' +
        'starting after `after` or the `Last-Event-ID` header (resume), with a heartbeat comment every 15 s while idle.',
      params: EventsParams,
      querystring: EventsQuery,
      response: responses(Type.Object({ events: Type.Array(Type.Ref('Event')) }), EXAMPLE, {
        admin: true, 404: ['Sandbox not found'], 422: integerIssue('query', 'after'),
      }),
    },
  }, async (req, reply) => {
    if (!wantsStream(req.headers.accept)) return send(reply, await events.list(req.params.sandbox_id, req.query.after, req.query.limit));
    const ref = await events.resolve(req.params.sandbox_id);
    if (!ref) return reply.code(404).send({ detail: 'Sandbox not found' });
    return streams.stream(req, reply, ref, EventStreams.startAfter(req.query.after, req.headers['last-event-id']));
  });

  app.get('/sandboxes/:sandbox_id/state', {
    schema: {
      operationId: 'getSandboxState', tags: ['sandboxes'],
      summary: 'The whole state of a sandbox in canonical form and its sha256: compare hashes, or diff states, to grade a run',
      description: 'catalog (categories, products with stock), carts with items, orders with items and statuses, and the gateway\'s balance, ledger and payments; ' +
        'keys in a fixed order, rows by id (gateway rows in the order they happened), money as fixed-decimal text, times ISO 8601. ' +
        'The sandbox id and clock are not part of it. Equal states give equal hashes on any instance and database; ' +
        'two runs of one script give equal hashes when their sandboxes have the same `seed` and `now` (ids and times then agree).',
      params: EventsParams,
      response: responses(StateSchema, STATE_EXAMPLE, { admin: true, 404: ['Sandbox not found'], 503: ['Payments gateway unavailable: ECONNREFUSED'] }),
    },
  }, async (req, reply) => send(reply, await state.get(req.params.sandbox_id)));
};

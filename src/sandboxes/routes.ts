import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { send, sendAs } from '../http/problem.js';
import { noContent, responses, type ErrorAnswers } from '../http/schemas.js';
import { CATALOG_BODY_LIMIT } from '../catalog/admin-routes.js';
import type { SandboxService } from './service.js';

const SandboxIdSchema = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,63}$', description: "Lower-case letters, digits, '_' and '-'; 'default' is the root shop" });
/** Path of one sandbox's routes; the input schemas here are also the MCP admin tools' (src/mcp/admin-tools.ts). */
export const Params = Type.Object({ sandbox_id: Type.String() });
/** Path of one snapshot. */
export const SnapshotParams = Type.Object({ sandbox_id: Type.String(), name: Type.String() });
const Time = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' });
/** An instant in a request: parsed by the service (a clear 400 names a bad one). */
const TimeInput = Type.String({ maxLength: 64, description: 'ISO 8601, e.g. 2026-01-01T12:00:00Z' });

const Created = Type.Object({
  sandbox_id: Type.String(),
  store_url: Type.String({ description: 'Base URL of this sandbox\'s store API: every store path works under it' }),
  payments_url: Type.String({ description: 'Base URL of this sandbox\'s payments gateway' }),
  created_at: Time,
  expires_at: Type.Union([Time, Type.Null()], { description: 'Deleted when idle until then (SANDBOX_TTL_SECONDS after the last use); null for default' }),
});

const Info = Type.Object(
  {
    ...Created.properties,
    last_used_at: Time,
    seed: Type.Union([Type.Integer(), Type.Null()]),
    clock: Type.Object({ now: Time, frozen: Type.Boolean({ description: 'true: time moves only when advanced (created with `now`)' }) }),
    counts: Type.Object({
      products: Type.Integer(),
      carts: Type.Integer(),
      orders: Type.Integer(),
      payments: Type.Union([Type.Integer(), Type.Null()], { description: 'From the gateway; null in the list, or when the gateway does not answer' }),
    }),
    faults: Type.Array(Type.Ref('FaultRuleView'), { description: 'Its fault rules with how often each fired, as GET /sandboxes/{sandbox_id}/faults lists them (in the list, gateway rules show fired null)' }),
  },
  { $id: 'Sandbox' },
);

/** POST /sandboxes body: every field optional. */
export const CreateBody = Type.Object(
  {
    sandbox_id: Type.Optional(SandboxIdSchema),
    catalog: Type.Optional(Type.Object({ categories: Type.Array(Type.Unknown()), products: Type.Array(Type.Unknown()) })),
    seed: Type.Optional(Type.Integer({ minimum: -(2 ** 53) + 1, maximum: 2 ** 53 - 1 })),
    from: Type.Optional(Type.Object({ sandbox_id: Type.String(), snapshot: Type.String() }, { additionalProperties: false })),
    now: Type.Optional(TimeInput),
  },
  { additionalProperties: false },
);
/** POST /sandboxes/{id}/snapshots body. */
export const SnapshotBody = Type.Object({ name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' }) }, { additionalProperties: false });
/** POST /sandboxes/{id}/clock body: one of the two. */
export const ClockBody = Type.Object(
  { advance_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 * 365 * 86400 })), now: Type.Optional(TimeInput) },
  { additionalProperties: false },
);

const Snapshot = Type.Object({ name: Type.String(), created_at: Time });
const Clock = Type.Object({ now: Time });

const ID = 'run-7';
const CREATED = {
  sandbox_id: ID, store_url: 'http://127.0.0.1:8000/sandboxes/run-7', payments_url: 'http://127.0.0.1:5000/sandboxes/run-7',
  created_at: '2026-01-01T12:00:00.000Z', expires_at: '2026-01-02T12:00:00.000Z',
};
const INFO = {
  ...CREATED, last_used_at: '2026-01-01T12:00:00.000Z', seed: 42, clock: { now: '2026-01-01T12:00:00.000Z', frozen: true },
  counts: { products: 25, carts: 0, orders: 0, payments: 0 }, faults: [],
};
const UNAVAILABLE = ['Payments gateway unavailable: ECONNREFUSED'];
const NOT_FOUND = ['Sandbox not found'];
const base: ErrorAnswers = { admin: true, 503: UNAVAILABLE };

/**
 * Sandbox management (spec/sandboxes.md section 1), behind the admin access rule. The shop API
 * of each sandbox is the store's own routes under `/sandboxes/{sandbox_id}` (not repeated in
 * this document: every store path works there unchanged).
 */
export const sandboxRoutes: FastifyPluginAsyncTypebox<{ sandboxes: SandboxService }> = async (app, { sandboxes }) => {
  app.addSchema(Info);
  const tags = ['sandboxes'];
  // As under the shop prefix: an unknown sandbox is 404 before its body is validated (a 422 would
  // suggest that fixing the body could help). The services look the row up again in their transaction.
  app.addHook('preValidation', async (req, reply) => {
    const id = (req.params as { sandbox_id?: string }).sandbox_id;
    if (id !== undefined && req.body !== undefined && !(await sandboxes.find(id))) return reply.code(404).send({ detail: 'Sandbox not found' });
  });

  app.post('/sandboxes', {
    bodyLimit: CATALOG_BODY_LIMIT,
    // Every field is optional, so is the body: `curl -X POST .../sandboxes` creates one.
    preValidation: async (req) => {
      req.body ??= {};
    },
    schema: {
      operationId: 'createSandbox', tags, summary: 'Create a sandbox: a private shop with its own catalog, stock, carts, orders, account and clock',
      description: 'Its shop API is every store path under `store_url`, its gateway every gateway path under `payments_url`. ' +
        '`catalog` (catalog.json shape, at most MAX_CATALOG_PRODUCTS products) or `from` (a snapshot of another sandbox), not both; default: the seed catalog. ' +
        '`seed`: deterministic cart, order and payment ids. `now`: the sandbox clock starts frozen at this instant and moves only when advanced.',
      body: CreateBody,
      response: responses(Created, CREATED, {
        ...base, created: true, body: true, 404: ['Sandbox not found', 'Snapshot not found'],
        409: ['Sandbox already exists', 'Sandbox limit reached (MAX_SANDBOXES=1000): delete one first'],
        400: ['Give either catalog or from, not both'],
        invalid: ['catalog.products[3].price must be a number from 0 to 21474836.47 with at most two decimals, got -1'],
        422: { type: 'string_pattern_mismatch', loc: ['body', 'sandbox_id'], msg: "String should match pattern '^[a-z0-9][a-z0-9_-]{0,63}$'", input: 'Run 7' },
      }),
    },
  }, async (req, reply) => sendAs(reply, await sandboxes.create(req.body), 201));

  app.get('/sandboxes', {
    schema: { operationId: 'listSandboxes', tags, summary: 'Every live sandbox, default first', response: responses(Type.Array(Type.Ref('Sandbox')), [INFO], { admin: true }) },
  }, () => sandboxes.list());

  app.get('/sandboxes/:sandbox_id', {
    schema: { operationId: 'getSandbox', tags, summary: 'One sandbox', params: Params, response: responses(Type.Ref('Sandbox'), INFO, { admin: true, 404: NOT_FOUND }) },
  }, async (req, reply) => send(reply, await sandboxes.get(req.params.sandbox_id)));

  app.delete('/sandboxes/:sandbox_id', {
    schema: {
      operationId: 'deleteSandbox', tags, summary: 'Delete a sandbox and its snapshots, on both servers',
      params: Params, response: noContent({ ...base, bodyLimit: true, 404: NOT_FOUND, 409: ['The default sandbox cannot be deleted'] }),
    },
  }, async (req, reply) => sendAs(reply, await sandboxes.delete(req.params.sandbox_id), 204));

  app.post('/sandboxes/:sandbox_id/reset', {
    schema: {
      operationId: 'resetSandbox', tags, summary: 'Back to the state at creation: its catalog and stock, no carts, orders or payments, balance 50000.0, clock at its start',
      params: Params, response: responses(Type.Ref('Sandbox'), INFO, { ...base, bodyLimit: true, 404: NOT_FOUND }),
    },
  }, async (req, reply) => send(reply, await sandboxes.reset(req.params.sandbox_id)));

  app.post('/sandboxes/:sandbox_id/snapshots', {
    schema: {
      operationId: 'saveSnapshot', tags, summary: 'Save the store and gateway state together under a name (replaces a snapshot of that name)',
      params: Params,
      body: SnapshotBody,
      response: responses(Snapshot, { name: 'after-checkout', created_at: '2026-01-01T12:00:00.000Z' }, {
        ...base, created: true, body: true, 404: NOT_FOUND,
        422: { type: 'missing', loc: ['body', 'name'], msg: 'Field required', input: {} },
      }),
    },
  }, async (req, reply) => sendAs(reply, await sandboxes.saveSnapshot(req.params.sandbox_id, req.body.name), 201));

  app.get('/sandboxes/:sandbox_id/snapshots', {
    schema: {
      operationId: 'listSnapshots', tags, summary: 'The snapshots of a sandbox, by name',
      params: Params, response: responses(Type.Array(Snapshot), [{ name: 'after-checkout', created_at: '2026-01-01T12:00:00.000Z' }], { admin: true, 404: NOT_FOUND }),
    },
  }, async (req, reply) => send(reply, await sandboxes.snapshots(req.params.sandbox_id)));

  app.post('/sandboxes/:sandbox_id/snapshots/:name/restore', {
    schema: {
      operationId: 'restoreSnapshot', tags, summary: 'Bring a snapshot back exactly (store and gateway, clock and id counter included)',
      params: SnapshotParams, response: responses(Type.Ref('Sandbox'), INFO, { ...base, bodyLimit: true, 404: ['Sandbox not found', 'Snapshot not found'] }),
    },
  }, async (req, reply) => send(reply, await sandboxes.restore(req.params.sandbox_id, req.params.name)));

  app.delete('/sandboxes/:sandbox_id/snapshots/:name', {
    schema: {
      operationId: 'deleteSnapshot', tags, summary: 'Delete a snapshot',
      params: SnapshotParams, response: noContent({ ...base, bodyLimit: true, 404: ['Sandbox not found', 'Snapshot not found'] }),
    },
  }, async (req, reply) => sendAs(reply, await sandboxes.deleteSnapshot(req.params.sandbox_id, req.params.name), 204));

  app.get('/sandboxes/:sandbox_id/clock', {
    schema: { operationId: 'getSandboxClock', tags, summary: 'The sandbox\'s own time', params: Params, response: responses(Clock, { now: '2026-01-01T12:00:00.000Z' }, { admin: true, 404: NOT_FOUND }) },
  }, async (req, reply) => send(reply, await sandboxes.clock(req.params.sandbox_id)));

  app.post('/sandboxes/:sandbox_id/clock', {
    schema: {
      operationId: 'setSandboxClock', tags,
      summary: 'Move the sandbox clock forward (never back): orders past their deadline expire and return their stock at once, carts past their TTL answer 404',
      params: Params,
      body: ClockBody,
      response: responses(Clock, { now: '2026-01-01T12:20:00.000Z' }, {
        ...base, body: true, 404: NOT_FOUND, 409: ['The clock of the default sandbox follows real time'],
        400: ['Give either advance_seconds or now', 'The clock never goes backwards (it is 2026-01-01T12:20:00.000Z)'],
        422: { type: 'greater_than_equal', loc: ['body', 'advance_seconds'], msg: 'Input should be greater than or equal to 0', input: -5, ctx: { ge: 0 } },
      }),
    },
  }, async (req, reply) => send(reply, await sandboxes.setClock(req.params.sandbox_id, req.body ?? {})));
};

import { randomUUID } from 'node:crypto';
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { ACP_API_VERSION } from '../checkout-sessions/model.js';
import { CancelBody, CompleteBody, CreateBody, ReadHeaders, SessionParams, UpdateBody, WriteHeaders } from '../checkout-sessions/schemas.js';
import { failure, type OperationSpec, type Tool } from './tools.js';

/**
 * The checkout-session tools (spec/sandboxes.md section 4) with the arguments of the Agentic
 * Commerce Protocol's MCP binding (docs/mcp-binding.md of the protocol's repository): `meta`
 * (the protocol's HTTP headers, `api-version` as `api_version`, ...), `id` (the session id of the
 * path) and `payload` (the request body, the route's own schema). Each calls the REST endpoint of
 * the same shop, so the sessions, messages and errors are exactly the REST ones.
 */

/** The binding's `meta`: the route's header schema with `-` written `_`; unknown fields are accepted and ignored, as the binding asks. */
function metaOf(headers: TObject): TObject {
  const properties: Record<string, TSchema> = headers.properties;
  return Type.Partial(
    Type.Object(Object.fromEntries(Object.entries(properties).map(([name, schema]) => [name.replace(/-/g, '_'), schema]))),
    { additionalProperties: true, description: `Protocol metadata, the REST headers: api_version (${ACP_API_VERSION}), idempotency_key, request_id` },
  );
}

const READ_META = metaOf(ReadHeaders);
const WRITE_META = metaOf(WriteHeaders);
const SessionId = Type.Unsafe<string>({ ...SessionParams.properties.checkout_session_id, description: 'The checkout session id (from create_checkout_session)' });

/** An ACP tool: its name and words, the REST operation (`:id` is the `id` argument), and its body as `payload`. */
type AcpSpec = Pick<OperationSpec, 'name' | 'title' | 'description' | 'access' | 'method' | 'path'> & {
  payload?: { schema: TSchema; required: boolean };
};

/** HTTP headers from `meta`; a write without idempotency_key gets a fresh one (the binding makes it optional, the REST API requires it). */
function headersOf(meta: Record<string, unknown> | undefined, write: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of Object.keys((write ? WriteHeaders : ReadHeaders).properties)) {
    const value = meta?.[name.replace(/-/g, '_')];
    if (typeof value === 'string') headers[name] = value;
  }
  if (write) headers['idempotency-key'] ??= `mcp-${randomUUID()}`;
  return headers;
}

const session = (v: Record<string, unknown>) => {
  const messages = (v.messages as { type: string; code?: string; content: string }[] | undefined) ?? [];
  const errors = messages.filter((m) => m.type === 'error').map((m) => `${m.code}: ${m.content}`);
  return `Session ${String(v.id)} is ${String(v.status)}.${errors.length ? ` ${errors.join(' ')}` : ''}`;
};

function acpTool(spec: AcpSpec): Tool {
  const write = spec.method !== 'GET';
  const withId = spec.path.includes(':id');
  const input = Type.Object(
    {
      meta: Type.Optional(write ? WRITE_META : READ_META),
      ...(withId ? { id: SessionId } : {}),
      ...(spec.payload ? { payload: spec.payload.required ? spec.payload.schema : Type.Optional(spec.payload.schema) } : {}),
    },
    { additionalProperties: false },
  );
  return {
    name: spec.name,
    title: spec.title,
    description: spec.description,
    access: spec.access,
    input,
    async run(args, channel) {
      const answer = await channel.store({
        method: spec.method,
        path: spec.path.replace(':id', encodeURIComponent(String(args.id))),
        headers: headersOf(args.meta as Record<string, unknown> | undefined, write),
        ...(spec.payload ? { body: args.payload ?? {} } : {}),
      });
      if (answer.status >= 400) return failure(answer);
      const value = answer.body as Record<string, unknown>;
      return { ok: true, value, text: session(value) };
    },
  };
}

const AMOUNTS = 'Amounts are integer minor units (cents); business problems are messages[] ({type, code, param (JSONPath), content, resolution}) in a valid session, not errors.';

/** The five checkout-session tools, in the binding's order. */
export const checkoutSessionTools: Tool[] = [
  acpTool({
    name: 'create_checkout_session', title: 'Create a checkout session', access: 'write', method: 'POST', path: '/checkout_sessions',
    payload: { schema: CreateBody, required: true },
    description:
      'Agentic Commerce Protocol checkout: payload.items [{id: product id as a string, quantity}] become a session holding their stock. ' +
      `status ready_for_payment → complete_checkout_session; not_ready_for_payment → read messages (out_of_stock with param $.line_items[i]) and update_checkout_session. ${AMOUNTS}`,
  }),
  acpTool({
    name: 'get_checkout_session', title: 'Get a checkout session', access: 'read', method: 'GET', path: '/checkout_sessions/:id',
    description: `The current state of a checkout session; a completed one names its order (order.id, readable with get_order). ${AMOUNTS}`,
  }),
  acpTool({
    name: 'update_checkout_session', title: 'Update a checkout session', access: 'write', method: 'POST', path: '/checkout_sessions/:id',
    payload: { schema: UpdateBody, required: true },
    description: 'Replaces the items (payload.items) or buyer/fulfillment details and prices the session again; the old hold is released.',
  }),
  acpTool({
    name: 'complete_checkout_session', title: 'Complete a checkout session', access: 'write', method: 'POST', path: '/checkout_sessions/:id/complete',
    payload: { schema: CompleteBody, required: true },
    description:
      'Pays a ready_for_payment session through the payments gateway: payload.payment_data.token is a test card number ' +
      '(4242424242424242 pays, 4000000000000002 is declined: a payment_declined message, complete again with another card). Completed: order.id names the paid order.',
  }),
  acpTool({
    name: 'cancel_checkout_session', title: 'Cancel a checkout session', access: 'write', method: 'POST', path: '/checkout_sessions/:id/cancel',
    payload: { schema: CancelBody, required: false },
    description: 'Cancels a session and returns its held stock; payload.intent_trace (optional) says why.',
  }),
];

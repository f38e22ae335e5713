import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { MAX_INT32, StringEnum, documented } from '../http/schemas.js';
import type { AcpError } from './errors.js';
import { ACP_API_VERSION, type CheckoutSessionView } from './model.js';

/**
 * The checkout-session schemas: they validate requests and document every answer in
 * /openapi.json (and, through them, the MCP tools' inputs). Field names are the protocol's
 * (API version 2026-01-16); where ours differ, the README's deviation table says how.
 */

const Text = (description?: string) => Type.String({ maxLength: 200, ...(description ? { description } : {}) });

const Address = Type.Object({
  name: Text(),
  line_one: Text(),
  line_two: Type.Optional(Text()),
  city: Text(),
  state: Text(),
  country: Text('ISO 3166-1 alpha-2'),
  postal_code: Text(),
});

const Buyer = Type.Object({ first_name: Text(), last_name: Text(), email: Text(), phone_number: Type.Optional(Text()) }, { description: 'Kept and shown back; the store needs none of it' });

const FulfillmentDetails = Type.Object(
  { name: Type.Optional(Text()), phone_number: Type.Optional(Text()), email: Type.Optional(Text()), address: Type.Optional(Address) },
  { description: 'Kept and shown back; the store has no shipping, so there are no fulfillment options' },
);

const Item = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64, description: 'A product id, as a string ("3" for GET /products/3)' }),
    quantity: Type.Integer({ minimum: 1, maximum: MAX_INT32 }),
  },
  { additionalProperties: false },
);

const Items = Type.Array(Item, { minItems: 1, maxItems: 100, description: 'Each product once (1 to 100 items); the order is kept: line_items[i] is items[i]' });

export const CreateBody = Type.Object(
  { items: Items, buyer: Type.Optional(Buyer), fulfillment_details: Type.Optional(FulfillmentDetails) },
  { description: 'Unknown fields (affiliate_attribution, ...) are accepted and ignored' },
);

export const UpdateBody = Type.Object(
  { items: Type.Optional(Items), buyer: Type.Optional(Buyer), fulfillment_details: Type.Optional(FulfillmentDetails) },
  { description: 'items replaces every item; without it the same items are priced again. Unknown fields are accepted and ignored' },
);

export const CompleteBody = Type.Object({
  buyer: Type.Optional(Buyer),
  payment_data: Type.Object({
    token: Type.String({
      pattern: '^[0-9][0-9 ]{0,39}$',
      description: 'A test card number: 4242424242424242 pays; 4000000000000002 is declined (card_declined), 4000000000009995 too (insufficient_funds)',
    }),
    provider: Type.Optional(Type.String({ maxLength: 64, description: 'Accepted and ignored (the gateway is the provider)' })),
    billing_address: Type.Optional(Address),
  }),
});

const CancelRequest = Type.Object({
  intent_trace: Type.Optional(Type.Object({ reason_code: Type.String({ maxLength: 64 }), trace_summary: Type.Optional(Type.String({ maxLength: 500 })) })),
});

/**
 * The optional body of cancel (CancelSessionRequest): why the agent gives up, accepted and
 * ignored. Without `type`, so that no body at all is valid too (an object body is checked).
 */
export const CancelBody = Type.Unsafe<Static<typeof CancelRequest> | undefined>({
  properties: CancelRequest.properties,
  description: 'Optional; why the agent gives up (accepted and ignored)',
});

export const SessionParams = Type.Object({ checkout_session_id: Type.String() });

const COMMON_HEADERS = {
  'api-version': Type.Optional(Type.String({ description: `Protocol version: ${ACP_API_VERSION}, the only one served. May be left out; another value is 400 unsupported_api_version` })),
  'request-id': Type.Optional(Type.String({ maxLength: 255, description: 'Echoed in the answer' })),
};

export const ReadHeaders = Type.Object(COMMON_HEADERS);
export const WriteHeaders = Type.Object({
  ...COMMON_HEADERS,
  'idempotency-key': Type.String({
    minLength: 1,
    maxLength: 255,
    description: 'Required. The same key and body again (within 24 h) replays the first answer without acting twice; the same key with another body is 422 idempotency_conflict. Keys are per path',
  }),
});

const Message = Type.Object({
  type: StringEnum(['error', 'info']),
  code: Type.Optional(StringEnum(['missing', 'invalid', 'out_of_stock', 'payment_declined'], { description: 'Errors only' })),
  param: Type.Optional(Type.String({ description: 'RFC 9535 JSONPath of what it is about, e.g. $.line_items[0]' })),
  content_type: StringEnum(['plain']),
  content: Type.String(),
  resolution: Type.Optional(StringEnum(['recoverable', 'requires_buyer_input', 'requires_buyer_review'], { description: 'Who can fix it: recoverable means the agent, through the API' })),
});

const Amount = (description: string) => Type.Integer({ description: `${description}, in cents` });

const LineItem = Type.Object({
  id: Type.String(),
  item: Type.Object({ id: Type.String(), quantity: Type.Integer() }),
  name: Type.Optional(Type.String({ description: 'Absent when the item names no product' })),
  unit_amount: Amount('Price of one unit'),
  base_amount: Amount('unit_amount × quantity'),
  discount: Amount('Always 0'),
  subtotal: Amount('base_amount − discount'),
  tax: Amount('Always 0'),
  total: Amount('subtotal + tax'),
});

export const CheckoutSessionSchema = Type.Object(
  {
    id: Type.String(),
    status: StringEnum(['not_ready_for_payment', 'ready_for_payment', 'in_progress', 'completed', 'canceled', 'expired'], {
      description: 'not_ready_for_payment (messages say why) → update; ready_for_payment (stock held) → complete; in_progress: paid, confirmation pending; completed, canceled and expired are final',
    }),
    currency: Type.String({ description: 'ISO 4217, lower case' }),
    buyer: Type.Optional(Buyer),
    line_items: Type.Array(LineItem),
    fulfillment_details: Type.Optional(FulfillmentDetails),
    fulfillment_options: Type.Array(Type.Object({ type: Type.String(), id: Type.String(), title: Type.String() }), { description: 'Always empty: the store does not ship' }),
    totals: Type.Array(Type.Object({ type: StringEnum(['items_base_amount', 'subtotal', 'tax', 'total']), display_text: Type.String(), amount: Amount('Amount') })),
    messages: Type.Array(Message),
    links: Type.Array(Type.Object({ type: Type.String(), url: Type.String() })),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    expires_at: Type.String({ format: 'date-time', description: "Unpaid past this instant (the sandbox's clock), the session is expired and its stock released" }),
    order: Type.Optional(
      Type.Object(
        {
          id: Type.String({ description: 'The store order: GET /orders/{id}' }),
          checkout_session_id: Type.String(),
          permalink_url: Type.String({ description: 'GET it for the order' }),
        },
        { description: 'Completed sessions only' },
      ),
    ),
  },
  { $id: 'CheckoutSession' },
);

export const AcpErrorSchema = Type.Object(
  {
    type: StringEnum(['invalid_request', 'processing_error', 'service_unavailable']),
    code: Type.String(),
    message: Type.String(),
    param: Type.Optional(Type.String({ description: 'RFC 9535 JSONPath of the request field at fault' })),
    supported_versions: Type.Optional(Type.Array(Type.String())),
  },
  { $id: 'AcpError', description: 'The Agentic Commerce Protocol error shape' },
);

export const DiscoverySchema = Type.Object({
  protocol: Type.Object({ name: Type.Literal('acp'), version: Type.String(), supported_versions: Type.Array(Type.String()), documentation_url: Type.String() }),
  api_base_url: Type.String({ description: 'Append the endpoint paths to it' }),
  transports: Type.Array(Type.String()),
  capabilities: Type.Object({ services: Type.Array(Type.String()), supported_currencies: Type.Array(Type.String()), supported_locales: Type.Array(Type.String()) }),
  endpoints: Type.Record(Type.String(), Type.String(), { description: 'Each operation (its MCP tool name) with its method and path' }),
  test_payment_tokens: Type.Record(Type.String(), Type.String(), { description: 'payment_data.token values and what they do' }),
});

// --- Examples (checked against real answers by the tests' schema validation) ---

const SESSION_ID = 'cs_5f0c2a9e41b7d3c8a6e1f024';
const SESSION: CheckoutSessionView = {
  id: SESSION_ID,
  status: 'ready_for_payment',
  currency: 'usd',
  line_items: [{ id: 'line_item_1', item: { id: '3', quantity: 2 }, name: 'Wireless Bluetooth Headphones', unit_amount: 7999, base_amount: 15998, discount: 0, subtotal: 15998, tax: 0, total: 15998 }],
  fulfillment_options: [],
  totals: [
    { type: 'items_base_amount', display_text: 'Item(s) total', amount: 15998 },
    { type: 'subtotal', display_text: 'Subtotal', amount: 15998 },
    { type: 'tax', display_text: 'Tax', amount: 0 },
    { type: 'total', display_text: 'Total', amount: 15998 },
  ],
  messages: [],
  links: [],
  created_at: '2026-01-01T12:00:00.000Z',
  updated_at: '2026-01-01T12:00:00.000Z',
  expires_at: '2026-01-01T12:15:00.000Z',
};

export const EXAMPLES = {
  ready: SESSION,
  notReady: {
    ...SESSION,
    status: 'not_ready_for_payment',
    messages: [{ type: 'error', code: 'out_of_stock', param: '$.line_items[0]', content_type: 'plain', content: "Only 1 of 'Wireless Bluetooth Headphones' left (requested 2): lower the quantity or remove the item.", resolution: 'recoverable' }],
  },
  completed: {
    ...SESSION,
    status: 'completed',
    order: { id: '3f2a9c0d5b7e41f6a8c2d9e0b1f4a7c3', checkout_session_id: SESSION_ID, permalink_url: 'http://127.0.0.1:8000/orders/3f2a9c0d5b7e41f6a8c2d9e0b1f4a7c3' },
  },
  declined: {
    ...SESSION,
    messages: [{ type: 'error', code: 'payment_declined', param: '$.payment_data', content_type: 'plain', content: 'The payment was declined (card_declined: Card declined). Complete the session again with another payment method.', resolution: 'requires_buyer_input' }],
  },
  canceled: { ...SESSION, status: 'canceled', messages: [{ type: 'info', content_type: 'plain', content: 'Checkout session has been canceled.' }] },
} satisfies Record<string, CheckoutSessionView>;

const error = (code: string, message: string, param?: string): AcpError => ({ type: 'invalid_request', code, message, ...(param ? { param } : {}) });

export const ERRORS = {
  missingKey: error('idempotency_key_required', 'Idempotency-Key header is required on all POST requests'),
  validation: error('invalid', '$.items[0].quantity must be >= 1', '$.items[0].quantity'),
  version: { ...error('unsupported_api_version', 'API-Version 2025-09-29 is not supported; send 2026-01-16'), supported_versions: [ACP_API_VERSION] },
  notFound: error('session_not_found', 'Checkout session not found'),
  inFlight: error('idempotency_in_flight', 'A request with this Idempotency-Key is currently being processed'),
  conflict: error('idempotency_conflict', 'Idempotency-Key has already been used with a different request body'),
  tooLarge: error('request_too_large', 'Request body too large (limit 1048576 bytes)'),
  mediaType: error('unsupported_media_type', 'Unsupported Media Type: text/plain; send application/json'),
  expired: error('session_expired', 'Checkout session is expired: it cannot be completed'),
  unavailable: { type: 'service_unavailable', code: 'payment_gateway_unavailable', message: 'Payments gateway unavailable: ECONNREFUSED' },
} satisfies Record<string, AcpError>;

const problem = (description: string, examples: AcpError[]) => documented(Type.Ref('AcpError'), description, examples);

/**
 * The documented answers of an operation: its success (with Idempotent-Replayed on writes) and
 * every error it can answer, each with real examples.
 */
export function acpResponses(success: { status: 200 | 201; example: unknown; schema?: TSchema }, errors: Record<number, [string, AcpError[]]>) {
  const map: Record<number, TSchema> = {
    [success.status]: {
      ...documented(success.schema ?? Type.Ref('CheckoutSession'), undefined, [success.example]),
      headers: { 'idempotent-replayed': Type.String({ enum: ['true'], description: 'On a repeat with the same Idempotency-Key and body: the first answer, replayed' }) },
    },
  };
  for (const [status, [description, examples]] of Object.entries(errors)) map[Number(status)] = problem(description, examples);
  return map;
}

/** The errors every write (POST) can answer. */
export const WRITE_ERRORS: Record<number, [string, AcpError[]]> = {
  400: ['Missing Idempotency-Key, invalid body or header, unsupported API-Version', [ERRORS.missingKey, ERRORS.validation, ERRORS.version]],
  409: ['The first request with this Idempotency-Key is still running (Retry-After)', [ERRORS.inFlight]],
  413: ['Request body too large', [ERRORS.tooLarge]],
  415: ['Request body is not JSON', [ERRORS.mediaType]],
  422: ['This Idempotency-Key was used with another body', [ERRORS.conflict]],
};

import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IdempotencyOptions } from '../http/idempotency.js';
import { documented, responses } from '../http/schemas.js';
import type { Shop } from '../sandboxes/shop.js';
import { ACP_ERROR_STYLE, ACP_REFUSALS, acpErrorHandler, sendAcp } from './errors.js';
import { ACP_API_VERSION, CURRENCY } from './model.js';
import {
  AcpErrorSchema,
  CancelBody,
  CheckoutSessionSchema,
  CompleteBody,
  CreateBody,
  DiscoverySchema,
  ERRORS,
  EXAMPLES,
  ReadHeaders,
  SessionParams,
  UpdateBody,
  WRITE_ERRORS,
  WriteHeaders,
  acpResponses,
} from './schemas.js';
import { CheckoutSessionService, type OrderPayer } from './service.js';

export interface CheckoutSessionRouteOptions {
  /** Pays orders at the gateway of the request's sandbox. */
  payer: OrderPayer;
  /** The public base URL of a shop's API: its sandbox's `store_url`. */
  storeUrl(shop: Shop): string;
}

const TAG = 'checkout_sessions';

/** The five operations with their MCP tool names (the protocol's MCP binding), for discovery and the docs. */
export const ACP_OPERATIONS = {
  create_checkout_session: 'POST /checkout_sessions',
  get_checkout_session: 'GET /checkout_sessions/{checkout_session_id}',
  update_checkout_session: 'POST /checkout_sessions/{checkout_session_id}',
  complete_checkout_session: 'POST /checkout_sessions/{checkout_session_id}/complete',
  cancel_checkout_session: 'POST /checkout_sessions/{checkout_session_id}/cancel',
} as const;

/** The Idempotency-Key rules of the protocol (RFC agentic_checkout section 6): required, per path, its error codes. */
const writeConfig = (successStatus: 200 | 201): { idempotent: IdempotencyOptions; errors: typeof ACP_ERROR_STYLE } => ({
  idempotent: { required: true, perPath: true, successStatus, refusals: ACP_REFUSALS },
  errors: ACP_ERROR_STYLE,
});

/** A request naming another protocol version than ours is refused before anything else (RFC section 2.1). */
async function checkApiVersion(req: FastifyRequest, reply: FastifyReply) {
  const version = req.headers['api-version'];
  if (version === undefined || version === ACP_API_VERSION) return;
  return reply.code(400).send({ ...ERRORS.version, message: `API-Version ${String(version)} is not supported; send ${ACP_API_VERSION}` });
}

/** Idempotency-Key is echoed on POST answers, Request-Id on every answer that had one (RFC section 3.1). */
async function echoHeaders(req: FastifyRequest, reply: FastifyReply, payload: unknown) {
  const key = req.headers['idempotency-key'];
  if (req.method === 'POST' && typeof key === 'string') reply.header('idempotency-key', key);
  const requestId = req.headers['request-id'];
  if (typeof requestId === 'string') reply.header('request-id', requestId);
  return payload;
}

/**
 * The Agentic Commerce Protocol's checkout-session endpoints (spec/sandboxes.md section 4),
 * against the request's shop. Thin: each parses, calls CheckoutSessionService, answers.
 */
export const checkoutSessionRoutes: FastifyPluginAsyncTypebox<CheckoutSessionRouteOptions> = async (app, { payer, storeUrl }) => {
  app.addSchema(CheckoutSessionSchema);
  app.addSchema(AcpErrorSchema);
  app.setErrorHandler(acpErrorHandler);
  app.addHook('onRequest', checkApiVersion);
  app.addHook('onSend', echoHeaders);
  const sessions = (req: FastifyRequest) => new CheckoutSessionService(req.shop, payer, storeUrl(req.shop), req.log);
  const notFound: [string, typeof ERRORS.notFound[]] = ['No checkout session has this id', [ERRORS.notFound]];
  const final = (operation: string): [string, typeof ERRORS.expired[]] => [
    `The session is completed, canceled or expired${operation === 'updated' ? ', or its payment is in progress' : ''}: it cannot be ${operation}`,
    [{ ...ERRORS.expired, message: `Checkout session is expired: it cannot be ${operation}` }],
  ];

  app.post('/checkout_sessions', {
    config: writeConfig(201),
    schema: {
      operationId: 'createCheckoutSession',
      tags: [TAG],
      summary: 'Create a checkout session from items',
      description:
        'Puts the items in a cart; when every item can be sold the cart is checked out into a pending order holding the stock (ready_for_payment). ' +
        'Otherwise status is not_ready_for_payment and messages[] name each problem (out_of_stock, invalid) with param $.line_items[i]: not an HTTP error.',
      headers: WriteHeaders,
      body: CreateBody,
      response: acpResponses({ status: 201, example: EXAMPLES.ready }, WRITE_ERRORS),
    },
  }, async (req, reply) => sendAcp(reply, await sessions(req).create(req.body), 201));

  app.get('/checkout_sessions/:checkout_session_id', {
    config: { errors: ACP_ERROR_STYLE },
    schema: {
      operationId: 'getCheckoutSession',
      tags: [TAG],
      summary: 'The current state of a checkout session',
      headers: ReadHeaders,
      params: SessionParams,
      response: {
        200: documented(Type.Ref('CheckoutSession'), undefined, [EXAMPLES.completed]),
        400: documented(Type.Ref('AcpError'), 'Unsupported API-Version', [ERRORS.version]),
        404: documented(Type.Ref('AcpError'), notFound[0], notFound[1]),
      },
    },
  }, async (req, reply) => sendAcp(reply, await sessions(req).get(req.params.checkout_session_id)));

  app.post('/checkout_sessions/:checkout_session_id', {
    config: writeConfig(200),
    schema: {
      operationId: 'updateCheckoutSession',
      tags: [TAG],
      summary: 'Replace the items (or buyer, fulfillment details) and price the session again',
      description: 'The pending order of the last pricing is cancelled (its stock returns) and the items are priced into a new one, as at creation.',
      headers: WriteHeaders,
      params: SessionParams,
      body: UpdateBody,
      response: acpResponses({ status: 200, example: EXAMPLES.notReady }, { ...WRITE_ERRORS, 404: notFound, 405: final('updated') }),
    },
  }, async (req, reply) => sendAcp(reply, await sessions(req).update(req.params.checkout_session_id, req.body)));

  app.post('/checkout_sessions/:checkout_session_id/complete', {
    config: writeConfig(200),
    schema: {
      operationId: 'completeCheckoutSession',
      tags: [TAG],
      summary: 'Pay the session through the payments gateway; completed with its order',
      description:
        'Pays the pending order at the gateway of the same sandbox with payment_data.token as the card number. Paid: status completed and order {id, permalink_url} (GET /orders/{id} reads paid). ' +
        'Declined: a payment_declined message, the items priced again (complete again with another card). Not confirmed by the gateway within 3 s: in_progress (GET the session). ' +
        'A session that is not ready is answered as it is, its messages saying what to change.',
      headers: WriteHeaders,
      params: SessionParams,
      body: CompleteBody,
      response: acpResponses({ status: 200, example: EXAMPLES.completed }, {
        ...WRITE_ERRORS,
        404: notFound,
        405: final('completed'),
        502: ['The gateway refused the payment request', [{ type: 'processing_error', code: 'payment_error', message: 'Payments gateway refused the payment: Sandbox not found' }]],
        503: ['The payments gateway does not answer: nothing changed, retry', [ERRORS.unavailable]],
      }),
    },
  }, async (req, reply) => sendAcp(reply, await sessions(req).complete(req.params.checkout_session_id, req.body)));

  app.post('/checkout_sessions/:checkout_session_id/cancel', {
    config: writeConfig(200),
    schema: {
      operationId: 'cancelCheckoutSession',
      tags: [TAG],
      summary: 'Cancel a checkout session, releasing its stock',
      description: 'Its pending order is cancelled and the stock returned. The body is optional ({intent_trace}: accepted and ignored).',
      headers: WriteHeaders,
      params: SessionParams,
      body: CancelBody,
      response: acpResponses({ status: 200, example: EXAMPLES.canceled }, { ...WRITE_ERRORS, 404: notFound, 405: final('canceled') }),
    },
  }, async (req, reply) => sendAcp(reply, await sessions(req).cancel(req.params.checkout_session_id)));
};

const DISCOVERY_EXAMPLE = discovery('http://127.0.0.1:8000');

/** The discovery document of a shop whose API is at `baseUrl` (the protocol's discovery RFC, unreleased after 2026-01-16). */
function discovery(baseUrl: string) {
  return {
    protocol: { name: 'acp' as const, version: ACP_API_VERSION, supported_versions: [ACP_API_VERSION], documentation_url: `${baseUrl}/docs` },
    api_base_url: baseUrl,
    // The same operations are MCP tools at <api_base_url>/mcp (the protocol's MCP binding; src/mcp/acp-tools.ts).
    transports: ['rest', 'mcp'],
    capabilities: { services: ['checkout'], supported_currencies: [CURRENCY], supported_locales: ['en-US'] },
    endpoints: { ...ACP_OPERATIONS },
    test_payment_tokens: {
      '4242424242424242': 'pays',
      '4000000000000002': 'declined: card_declined (payment_declined message)',
      '4000000000009995': 'declined: insufficient_funds (payment_declined message)',
    },
  };
}

/** `GET /.well-known/acp.json`: which protocol version and operations this shop serves, and where. */
export const acpDiscoveryRoutes: FastifyPluginAsyncTypebox<Pick<CheckoutSessionRouteOptions, 'storeUrl'>> = async (app, { storeUrl }) => {
  app.get('/.well-known/acp.json', {
    schema: {
      operationId: 'getAcpDiscovery',
      tags: [TAG],
      summary: 'Agentic Commerce Protocol discovery: version, base URL, operations',
      response: responses(DiscoverySchema, DISCOVERY_EXAMPLE),
    },
  }, async (req, reply) => {
    reply.header('cache-control', 'public, max-age=3600');
    return discovery(storeUrl(req.shop));
  });
};

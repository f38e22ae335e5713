import cors from '@fastify/cors';
import { Ajv } from 'ajv';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify';
import { BODY_LIMIT, createFastify } from './server.js';
import type { ErrorStyle } from './routing.js';
import { UNSTORABLE_TEXT_MESSAGE } from './text.js';
import { cartRoutes } from '../cart/routes.js';
import { acpDiscoveryRoutes, checkoutSessionRoutes } from '../checkout-sessions/routes.js';
import { catalogAdminRoutes } from '../catalog/admin-routes.js';
import { dashboardRoutes } from '../dashboard/routes.js';
import { CategorySchema, ProductSchema, catalogRoutes } from '../catalog/routes.js';
import type { StoreConfig } from '../config.js';
import { EVENT_TYPES } from '../events/recorder.js';
import { orderRoutes } from '../orders/routes.js';
import { paymentRoutes } from '../payments/routes.js';
import { adminAccess } from '../sandboxes/access.js';
import { sandboxRoutes } from '../sandboxes/routes.js';
import { llmsTxtRoute } from '../mcp/llms-txt.js';
import { mcpAdminRoutes, mcpRoutes } from '../mcp/routes.js';
import { faultHook } from '../faults/hook.js';
import { FaultRuleView, faultRoutes } from '../faults/routes.js';
import type { FaultService } from '../faults/service.js';
import { eventRoutes } from '../events/routes.js';
import type { EventService } from '../events/service.js';
import type { GatewayClient } from '../sandboxes/gateway-client.js';
import type { StateService } from '../events/state.js';
import type { RequestEvents } from '../events/requests.js';
import type { SandboxService } from '../sandboxes/service.js';
import type { Shop, ShopFactory } from '../sandboxes/shop.js';
import { webhookRoutes } from '../webhooks/routes.js';
import type { WebhookService } from '../webhooks/service.js';
import { registerIdempotency } from './idempotency.js';
import { KeptResponses } from './kept-responses.js';
import { accessLogEnabled } from './logger.js';
import { ErrorDetail, ValidationError, documented, responses } from './schemas.js';
import { documentEnums } from './openapi.js';
import { JsonBodyError, UnsupportedMediaType, jsonInvalidIssue, toValidationIssues } from './validation.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body exactly as received, for signature checks. */
    rawBody?: string;
    /** The shop (root or sandbox) this request runs against, resolved once in onRequest. */
    shop: Shop;
    /** Where a kept answer of this request's URL may be remembered (the root's shop paths; see kept-responses.ts); else null. */
    keptResponses: KeptResponses | null;
  }
}

export interface StoreServices {
  /** Builds the per-request shop handles. */
  shops: ShopFactory;
  sandboxes: SandboxService;
  /** Fault rules per sandbox (spec/sandboxes.md section 2). */
  faults: FaultService;
  /** Sandbox timelines and canonical states (issue 10). */
  events: EventService;
  /** The gateway, for the payments checkout sessions make (and the sandbox management calls). */
  gateway: GatewayClient;
  webhooks: WebhookService;
  state: StateService;
  /** Queues `request` events after each answer (events/requests.ts). */
  requestEvents: RequestEvents;
  /** Throws if the database does not answer. */
  ping(): Promise<void>;
}

/** FastAPI's words: `{"detail": message}`, and a 422 issue list for text no database can store. */
const storeErrors: ErrorStyle = {
  message: (_status, message) => ({ detail: message }),
  unstorableText: (loc, input) => ({ status: 422, body: { detail: [{ type: 'string_unicode', loc, msg: UNSTORABLE_TEXT_MESSAGE, input }] } }),
};

/** The answer to `GET /`: where the documentation is. */
const STORE_WELCOME = 'Store API: interactive docs at /docs, OpenAPI document at /openapi.json';

/**
 * The query string as the client sent it, for `input` in 422 answers: Ajv coerces request.query
 * in place (`page_size=101` becomes 101, `1e309` Infinity), while FastAPI echoes the text. A name
 * given twice counts with its last value, as FastAPI reads a single-valued parameter.
 */
function rawQuery(url: string): Record<string, string> {
  const mark = url.indexOf('?');
  return mark < 0 ? {} : Object.fromEntries(new URLSearchParams(url.slice(mark + 1)));
}

/**
 * Kept answers sent ahead of Fastify (kept-responses.ts), where every request of a URL is answered
 * alike: not with access lines or request events at the root (each request must pass the hooks
 * that record it), nor with a list of CORS origins (the answer varies by Origin).
 */
function keptResponsesFor(config: StoreConfig, accessLog: boolean): KeptResponses | null {
  if (accessLog || config.events.root === 'all' || Array.isArray(config.corsOrigins)) return null;
  const json = { 'content-type': 'application/json; charset=utf-8' };
  return new KeptResponses(config.corsOrigins === '*' ? { 'access-control-allow-origin': '*', ...json } : json);
}

export function buildStoreApp(config: StoreConfig, services: StoreServices, logger: FastifyBaseLogger): FastifyInstance {
  // Query strings, paths and headers are text, so numbers and booleans are coerced from it. JSON
  // bodies carry real types: coercing them would turn `null` into 0 and silently remove a cart line.
  const validators = {
    text: new Ajv({ allErrors: true, coerceTypes: 'array', useDefaults: true, strict: false }),
    json: new Ajv({ allErrors: true, coerceTypes: false, useDefaults: true, strict: false }),
  };
  const accessLog = accessLogEnabled(config.log);
  const keptResponses = keptResponsesFor(config, accessLog);
  const app = createFastify({
    logger,
    accessLog,
    errors: storeErrors,
    validatorCompiler: ({ schema, httpPart }) => (httpPart === 'body' ? validators.json : validators.text).compile(schema),
  }).withTypeProvider<TypeBoxTypeProvider>();

  // JSON bodies only (routing.ts reads a body without a content type, or as application/<x>+json,
  // as JSON). Another content type is answered 415 by routes that take a body; the others ignore
  // the body, whatever its type. An empty JSON body is "no body" (POST /cart), not an error.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, _body, done) => {
    done(req.routeOptions.schema?.body ? new UnsupportedMediaType() : null, undefined);
  });
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    req.rawBody = text;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(new JsonBodyError(jsonInvalidIssue(error as Error, text)), undefined);
    }
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const context = error.validationContext ?? 'body';
      const source = { querystring: rawQuery(request.url), body: request.body, params: request.params, headers: request.headers }[context];
      return reply.code(422).send({ detail: toValidationIssues(error.validation, context, source) });
    }
    if (error instanceof JsonBodyError) return reply.code(422).send({ detail: [error.issue] });
    const status = error.statusCode ?? 500;
    if (status === 413) return reply.code(413).send({ detail: `Request body too large (limit ${request.routeOptions.bodyLimit ?? BODY_LIMIT} bytes)` });
    if (status === 415) {
      return reply.code(415).send({ detail: `Unsupported Media Type: ${request.headers['content-type'] ?? 'none'}; send application/json` });
    }
    if (status >= 400 && status < 500) return reply.code(status).send({ detail: error.message });
    request.log.error({ err: error, method: request.method, url: request.url }, 'request failed');
    return reply.code(500).send({ detail: 'Internal Server Error' });
  });

  if (config.corsOrigins !== false) {
    app.register(cors, { origin: config.corsOrigins === '*' ? '*' : config.corsOrigins, methods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'] });
  }

  app.addSchema(ErrorDetail);
  app.addSchema(ValidationError);
  app.addSchema(FaultRuleView);
  app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Store API',
        version: '1.0.0',
        description:
          'Catalog, carts, checkout, orders and the payment callback. Errors are `{"detail": ...}`; validation errors are 422 with FastAPI\'s list form. Money is shown with at most two decimals.',
      },
      // Relative: the document describes the server that serves it, wherever that is.
      servers: [{ url: '/', description: 'This server' }],
      // No authentication; the payment callback is authenticated by its own signature header.
      security: [],
      tags: [
        { name: 'catalog', description: 'Categories, products, brands' },
        { name: 'cart', description: 'Shopping carts' },
        { name: 'orders', description: 'Checkout and orders' },
        { name: 'payments', description: 'Callback from the payments gateway' },
        {
          name: 'checkout_sessions',
          description:
            'Agentic Commerce Protocol checkout sessions (API version 2026-01-16) over the carts, orders and gateway above. ' +
            'POSTs need an Idempotency-Key; errors are {type, code, message, param}; business problems are messages[] inside the session',
        },
        {
          name: 'sandboxes',
          description: 'Private, resettable shops: every store path above also works under /sandboxes/{sandbox_id}. Needs Authorization: Bearer ADMIN_API_KEY when that is set. ' +
            'GET /dashboard is a web page (HTML, not part of this API) that watches them live through these endpoints',
        },
        { name: 'admin', description: 'Catalog administration, also under /sandboxes/{sandbox_id}/admin/... Needs Authorization: Bearer ADMIN_API_KEY when that is set' },
        { name: 'agents', description: 'For AI agents: MCP servers (Model Context Protocol) and /llms.txt' },
        { name: 'ops', description: 'Health' },
      ],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transformObject: (document) => documentEnums('openapiObject' in document ? document.openapiObject : document.swaggerObject),
  });
  app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  // A request's shop: declared up front (a stable request shape), assigned in each scope's onRequest.
  app.decorateRequest('shop', null as unknown as Shop);
  app.decorateRequest('keptResponses', null);
  if (keptResponses) {
    keptResponses.install(app.server);
    app.addHook('preClose', (done) => {
      keptResponses.close();
      done();
    });
  }
  registerIdempotency(app);
  // Injected faults: the X-Fault header on any request, the sandbox's rules on its shop paths.
  app.addHook('preHandler', faultHook({
    faultsOf: (req) => (req.routeOptions.config.shopTransport ? null : (req.shop as Shop | null)?.faults ?? null),
    body: (_status, message) => ({ detail: message }),
  }));
  const { shops, sandboxes, gateway, faults } = services;
  const storeUrl = (shop: Shop) => sandboxes.urls(shop.sandbox.id).store_url;
  const guard = adminAccess(config.sandboxes);
  const maxCatalogProducts = config.sandboxes.maxCatalogProducts;
  // The MCP tools call this app's own routes (inject) and the gateway the store is configured with.
  const mcp = { app: app as unknown as FastifyInstance, paymentsUrl: config.sandboxes.paymentsUrl };

  /** Every shop path, registered twice: at the root (the default sandbox) and under /sandboxes/:sandbox_id. */
  const shopRoutes = async (scope: FastifyInstance) => {
    scope.addSchema(CategorySchema);
    scope.addSchema(ProductSchema);
    await scope.register(catalogRoutes);
    await scope.register(cartRoutes);
    await scope.register(orderRoutes);
    await scope.register(paymentRoutes, { webhookSecret: config.webhookSecret });
    await scope.register(checkoutSessionRoutes, { payer: gateway, storeUrl });
    await scope.register(acpDiscoveryRoutes, { storeUrl });
    await scope.register(mcpRoutes, mcp);
    await scope.register(async (admin) => {
      admin.addHook('onRequest', guard);
      await admin.register(catalogAdminRoutes, { maxCatalogProducts });
    });
  };

  app.register(async (scope) => {
    // The root pays no lookup: its shop is built once at start-up.
    scope.addHook('onRequest', (req, _reply, done) => {
      req.shop = shops.root;
      req.keptResponses = keptResponses;
      done();
    });
    // Off by default at the root (ROOT_EVENTS): the hot path of the plain store API pays nothing for the timeline.
    if (config.events.root === 'all') scope.addHook('onResponse', services.requestEvents.hook);
    await scope.register(shopRoutes);
  });

  app.register(async (scope) => {
    // Resolved before body validation, so an unknown sandbox is a 404, never a 422.
    scope.addHook('onRequest', async (req, reply) => {
      const row = await sandboxes.find((req.params as { sandbox_id: string }).sandbox_id);
      if (!row) return reply.code(404).send({ detail: 'Sandbox not found' });
      sandboxes.touch(row);
      req.shop = shops.forRow(row);
    });
    // Inside sandboxes every request is part of the record (spec/sandboxes.md section 3).
    scope.addHook('onResponse', services.requestEvents.hook);
    // The copies are the root's operations again: the document describes them once (see the sandboxes tag).
    scope.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, hide: true };
    });
    await scope.register(shopRoutes);
  }, { prefix: '/sandboxes/:sandbox_id' });

  app.register(async (scope) => {
    scope.addHook('onRequest', guard);
    await scope.register(sandboxRoutes, { sandboxes });
    await scope.register(faultRoutes, { faults });
    await scope.register(eventRoutes, { events: services.events, state: services.state });
    await scope.register(webhookRoutes, { webhooks: services.webhooks, eventTypes: EVENT_TYPES });
    await scope.register(mcpAdminRoutes, mcp);
  });
  // Where the admin endpoints are disabled, the page is absent too (404), like them.
  if (config.sandboxes.adminOpen) app.register(dashboardRoutes, { keyRequired: config.sandboxes.adminApiKey !== undefined });

  app.register(llmsTxtRoute);

  app.register(async (scope) => {
    scope.get('/', {
      schema: {
        operationId: 'getRoot',
        tags: ['ops'],
        summary: 'Where the documentation is',
        response: responses(
          Type.Object({ message: Type.Literal(STORE_WELCOME), docs: Type.Literal('/docs'), openapi: Type.Literal('/openapi.json') }),
          { message: STORE_WELCOME, docs: '/docs', openapi: '/openapi.json' },
        ),
      },
    }, () => ({ message: STORE_WELCOME, docs: '/docs' as const, openapi: '/openapi.json' as const }));
    scope.get('/healthz', {
      schema: {
        operationId: 'getHealth',
        tags: ['ops'],
        summary: 'Liveness and database check',
        response: {
          ...responses(Type.Object({ status: Type.Literal('ok') }), { status: 'ok' }),
          503: documented(Type.Ref('ErrorDetail'), 'The database does not answer', [{ detail: 'Database unavailable' }]),
        },
      },
    }, async (_req, reply) => {
      try {
        await services.ping();
        return { status: 'ok' as const };
      } catch (error) {
        reply.log.error({ err: error }, 'health check failed');
        return reply.code(503).send({ detail: 'Database unavailable' });
      }
    });
  });

  return app;
}

import cors from '@fastify/cors';
import { Ajv } from 'ajv';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { faultHook } from '../faults/hook.js';
import { JSON_MEDIA_TYPE, type ErrorStyle } from '../http/routing.js';
import { BODY_LIMIT, createFastify } from '../http/server.js';
import { NOT_JSON } from './requests.js';
import { adminRoutes, type AdminRoutesOptions } from './admin-routes.js';
import { SANDBOX_MESSAGES } from './sandboxes.js';
import { GATEWAY_WELCOME, routeSchemas, sharedSchemas } from './schemas.js';
import type { Answer, GatewayService, PaymentsScope } from './service.js';

/** Route schemas document the gateway; they do not validate (see below). */
const acceptAll = new Ajv().compile(true);


export interface GatewayDeps {
  service: GatewayService;
  /** The management endpoints; absent when they are disabled (no ADMIN_API_KEY, non-loopback address). */
  admin?: AdminRoutesOptions | undefined;
  logger: FastifyBaseLogger;
  /** One debug line per request (LOG_LEVEL=debug or trace). */
  accessLog: boolean;
  /** Throws if the database does not answer (GET /healthz). */
  ping(): Promise<void>;
}

const send = (reply: FastifyReply, answer: Answer) => reply.code(answer.status).send(answer.body);
const failure = (message: string) => ({ status: 'failed', message });
const SANDBOX_NOT_FOUND = SANDBOX_MESSAGES.notFound;

/** The old gateway's words, `{"status": "failed", "message": ...}`; unstorable text is a 400 naming the field. */
const gatewayErrors: ErrorStyle = {
  message: (_status, message) => failure(message),
  unstorableText: (loc) => ({
    status: 400,
    body: failure(`'${String(loc.length > 1 ? loc.at(-1) : loc[0])}' must be text without NUL characters or unpaired surrogates`),
  }),
};

/**
 * The payments gateway's HTTP layer: the old Flask gateway's paths, messages and status codes,
 * `{"status": "failed", "message": ...}` for every error (never a stack trace), docs at /docs.
 */
export function buildGatewayApp({ service, admin, logger, accessLog, ping }: GatewayDeps): FastifyInstance {
  const app = createFastify({ logger, accessLog, errors: gatewayErrors, validatorCompiler: () => acceptAll });

  // Route schemas document; the handlers check bodies themselves (the old messages, in the old
  // order) and responses are written exactly as built, key order included, ending with a newline
  // as Flask's jsonify does (so `curl` output ends its line, as users of the old gateway saw).
  app.setSerializerCompiler(() => (data) => `${JSON.stringify(data)}\n`);

  // Every body reaches the handler: a JSON document parsed (routing.ts has already read a body
  // without a content type as JSON), anything else (malformed JSON, another content type, an
  // unparseable Content-Type header) as NOT_JSON, which the handler answers with "Request body
  // must be JSON" like Flask's get_json(silent=True).
  app.addHook('onRequest', async (req) => {
    const contentType = req.raw.headers['content-type'];
    if (contentType !== undefined && !JSON_MEDIA_TYPE.test(contentType)) req.raw.headers['content-type'] = 'application/octet-stream';
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(null, NOT_JSON);
    }
  });
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, _body, done) => done(null, NOT_JSON));

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status === 413) return reply.code(413).send(failure(`Request body too large (limit ${BODY_LIMIT} bytes)`));
    if (status >= 400 && status < 500) return reply.code(status).send(failure(error.message));
    request.log.error({ err: error, method: request.method, url: request.url }, 'request failed');
    return reply.code(500).send(failure('Internal server error'));
  });

  app.register(cors, { origin: true, methods: ['GET', 'POST', 'OPTIONS'] });

  for (const schema of sharedSchemas) app.addSchema(schema);
  app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Payments gateway',
        version: '1.0.0',
        description:
          'One simulated account (ACC-001, John Doe, starting balance 50000). Bodies are JSON; errors are `{"status": "failed", "message": ...}`. ' +
          'Order payments are made at most once per order and reported to the store (`POST {STORE_URL}/payments/confirm`), with retries. ' +
          'Every path is also served under `/sandboxes/{sandbox_id}` against that sandbox\'s own account, ledger and payments (404 `Sandbox not found` for an unknown one); ' +
          'its callbacks go to `{STORE_URL}/sandboxes/{sandbox_id}/payments/confirm`.',
      },
      // Relative: the document describes the server that serves it, wherever that is.
      servers: [{ url: '/', description: 'This server' }],
      // One simulated account, no authentication (the callbacks it sends are signed instead).
      security: [],
      tags: [
        { name: 'ops', description: 'Docs pointer and health' },
        { name: 'account', description: 'Balance, payments to a recipient, movements, reset' },
        { name: 'orders', description: 'Order payments, their callbacks to the store, refunds' },
      ],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  app.register(async (scope) => {
    scope.get('/', { schema: routeSchemas.root }, async () => ({ status: 'success', message: GATEWAY_WELCOME, docs: '/docs', openapi: '/openapi.json' }));
    scope.get('/healthz', { schema: routeSchemas.healthz }, async (req, reply) => {
      try {
        await ping();
        return { status: 'ok' };
      } catch (error) {
        req.log.error({ err: error }, 'health check failed');
        return reply.code(503).send(failure('Database unavailable'));
      }
    });
  });

  // The shop paths, twice: at the root for `default` (its scope made once, no lookup), and under
  // /sandboxes/{sandbox_id} with that sandbox's scope, resolved once per request before the body
  // is read. Not wrapped in fastify-plugin: each registration keeps its own hook and prefix.
  app.decorateRequest('paymentsScope', null);
  // Injected faults: the X-Fault header on any request, the sandbox's gateway rules on its shop paths.
  app.addHook('preHandler', faultHook({ faultsOf: (req) => req.paymentsScope?.ctx.faults ?? null, body: (_status, message) => failure(message) }));
  app.register(shopRoutes, { root: service.root });
  app.register(shopRoutes, { prefix: '/sandboxes/:sandbox_id', lookup: (sandboxId: string) => service.forId(sandboxId) });
  if (admin) app.register(adminRoutes, admin);

  return app;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The sandbox this request acts on (set by shopRoutes' onRequest hook). */
    paymentsScope: PaymentsScope | null;
  }
}

/** The request's scope: the root's, or a lookup by the path's sandbox id (undefined if unknown). */
type ShopRoutesOptions = { root: PaymentsScope } | { lookup: (sandboxId: string) => Promise<PaymentsScope | undefined> };

const scopeOf = (req: FastifyRequest): PaymentsScope => req.paymentsScope!;

/** Every account and order path of the old gateway, against the request's sandbox. */
async function shopRoutes(scope: FastifyInstance, options: ShopRoutesOptions): Promise<void> {
  if ('root' in options) {
    // Synchronous: the root's hot path awaits nothing more than before sandboxes.
    scope.addHook('onRequest', (req, _reply, done) => {
      req.paymentsScope = options.root;
      done();
    });
  } else {
    const { lookup } = options;
    scope.addHook('onRequest', async (req, reply) => {
      const found = await lookup((req.params as { sandbox_id: string }).sandbox_id);
      if (!found) return reply.code(404).send(failure(SANDBOX_NOT_FOUND));
      req.paymentsScope = found;
    });
  }
  // The copies under /sandboxes/{sandbox_id} are the same operations: the document describes them
  // once (see its description), so it keeps one operationId per operation.
  scope.addHook('onRoute', (route) => {
    if (route.prefix !== '') route.schema = { ...route.schema, hide: true };
  });

  scope.get('/balance', { schema: routeSchemas.balance }, async (req, reply) => send(reply, await scopeOf(req).balance()));
  scope.post('/pay', { schema: routeSchemas.pay }, async (req, reply) => send(reply, await scopeOf(req).pay(req.body)));
  const payOrder = async (req: FastifyRequest, reply: FastifyReply) => send(reply, await scopeOf(req).payOrder(req.body));
  scope.post('/payments/orders', { schema: routeSchemas.payOrder }, payOrder);
  scope.post('/pay/order', { schema: { ...routeSchemas.payOrder, operationId: 'payOrderAlias', summary: 'Alias of POST /payments/orders' } }, payOrder);
  scope.get('/transactions', { schema: routeSchemas.transactions }, async (req, reply) => send(reply, await scopeOf(req).transactions()));
  scope.post('/reset', { schema: routeSchemas.reset }, async (req, reply) => send(reply, await scopeOf(req).reset()));
  scope.get('/payments', { schema: routeSchemas.payments }, async (req, reply) => {
    const query = req.query as Record<string, string | string[] | undefined>;
    const orderId = Array.isArray(query.order_id) ? query.order_id[0] : query.order_id;
    return send(reply, await scopeOf(req).payments(orderId === '' ? undefined : orderId));
  });
  scope.get('/payments/:payment_id', { schema: routeSchemas.payment }, async (req, reply) =>
    send(reply, await scopeOf(req).payment((req.params as { payment_id: string }).payment_id)),
  );
  scope.post('/payments/:payment_id/refund', { schema: routeSchemas.refund }, async (req, reply) =>
    send(reply, await scopeOf(req).refund((req.params as { payment_id: string }).payment_id)),
  );
}

import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { installRouting, MAX_PARAM_LENGTH, routerErrorHandler, type ErrorStyle } from './routing.js';

type ValidatorFactory = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']>;
/** Compiles one request schema of a route (`httpPart`: body, querystring, params or headers) to an Ajv validate function. */
export type ValidatorCompiler = ReturnType<ValidatorFactory>;

/**
 * A route's request validator, compiled when it first validates: Fastify compiles every route's
 * schemas at start-up, and both servers register each route more than once (the store under
 * /sandboxes/{id} too) while a process may never serve most of them. Ajv's `errors` are copied
 * onto the wrapper, where Fastify reads them.
 */
function validateOnFirstUse(compile: () => ReturnType<ValidatorCompiler>): ReturnType<ValidatorCompiler> {
  let validate: ReturnType<ValidatorCompiler> | undefined;
  const onFirstUse = ((data: unknown) => {
    validate ??= compile();
    const result = validate(data);
    onFirstUse.errors = validate.errors;
    return result;
  }) as ReturnType<ValidatorCompiler>;
  return onFirstUse;
}

/**
 * Fastify's default response serializers (fast-json-stringify, with the app's shared schemas),
 * each compiled when its route first answers with that status: compiling them all was the largest
 * part of a store's start-up CPU (about 0.55 of 2.3 s, most of it routes a process never serves).
 */
const serializeOnFirstUse: NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildSerializer'] = (externalSchemas, options) => {
  const compile = SerializerSelector()(externalSchemas, options);
  return (route: Parameters<typeof compile>[0]) => {
    let serialize: ReturnType<typeof compile> | undefined;
    return (data: unknown) => (serialize ??= compile(route))(data);
  };
};

/** Requests larger than this are answered 413 by both servers. */
export const BODY_LIMIT = 1024 * 1024;

/**
 * The Fastify set-up both servers share: logger, access lines at debug, body limit, 503 while
 * closing, and the drop-in behaviour of routing.ts worded in the server's error style.
 */
export function createFastify(options: {
  logger: FastifyBaseLogger;
  accessLog: boolean;
  errors: ErrorStyle;
  /**
   * Compiles the request schemas of every route. Given here, not with setValidatorCompiler: a
   * plugin that adds a schema gets a new schema controller, and that one would fall back to
   * Fastify's default validator.
   */
  validatorCompiler: ValidatorCompiler;
}): FastifyInstance {
  const app = Fastify({
    schemaController: {
      compilersFactory: { buildValidator: () => (route) => validateOnFirstUse(() => options.validatorCompiler(route)), buildSerializer: serializeOnFirstUse },
    },
    loggerInstance: options.logger,
    // Fastify's own request lines are at info; ours (below) are at debug, and only when enabled.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: routerErrorHandler(options.errors),
  });
  if (options.accessLog) {
    app.addHook('onResponse', async (req, reply) => {
      req.log.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request');
    });
  }
  installRouting(app, options.errors);
  return app;
}

/** A start-up failure whose message is all the user needs (no stack trace). */
export class StartupError extends Error {
  override name = 'StartupError';
}

/**
 * Listens on host:port; a port in use or not allowed fails with a message naming the variable
 * that moves it (PORT for the store, PAYMENTS_PORT for the gateway).
 */
export async function listen(app: FastifyInstance, target: { host: string; port: number; variable: string; server: string }): Promise<void> {
  try {
    await app.listen({ host: target.host, port: target.port });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE') {
      throw new StartupError(`Port ${target.port} on ${target.host} is already in use: stop what holds it, or set ${target.variable} to start the ${target.server} on another port`);
    }
    if (code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new StartupError(`Cannot listen on ${target.host}:${target.port} (${code}): set ${target.variable} (and HOST) to an address this machine can use`);
    }
    throw error;
  }
}

/** `http://host:port` for log lines; a wildcard host is shown as localhost, where a browser can reach it. */
export const serverUrl = (host: string, port: number): string =>
  `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host}:${port}`;

/**
 * Stops accepting connections and waits for requests in flight. A keep-alive connection that was
 * busy when closing began becomes idle only later, and Node does not reap it then: without the
 * sweep below, close() would wait for its 72-second keep-alive timeout. After `graceMs`, whatever
 * is still open is cut.
 */
export async function closeGracefully(app: FastifyInstance, graceMs = 10_000): Promise<void> {
  const started = Date.now();
  const reaper = setInterval(() => {
    if (Date.now() - started > graceMs) app.server.closeAllConnections();
    else app.server.closeIdleConnections();
  }, 50);
  try {
    await app.close();
  } finally {
    clearInterval(reaper);
  }
}

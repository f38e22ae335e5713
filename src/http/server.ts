import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';

/** Requests larger than this are answered 413 by both servers. */
export const BODY_LIMIT = 1024 * 1024;

/** The Fastify set-up both servers share: logger, access lines at debug, body limit, 503 while closing. */
export function createFastify(options: { logger: FastifyBaseLogger; accessLog: boolean }): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    // Fastify's own request lines are at info; ours (below) are at debug, and only when enabled.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
  });
  if (options.accessLog) {
    app.addHook('onResponse', async (req, reply) => {
      req.log.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request');
    });
  }
  return app;
}

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

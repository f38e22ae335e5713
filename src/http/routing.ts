import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findUnstorableText } from './text.js';

/**
 * What both servers do the same way before a route runs, so that clients of the old FastAPI and
 * Flask servers keep working: trailing-slash redirects, 405 with Allow, bodies without (or with a
 * foreign) content type, and one rule for text that no database can store.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's own error words for the checks below, where they differ from its server's (ACP checkout sessions). */
    errors?: ErrorStyle;
  }
}

/** How a server words its errors: the store `{"detail": ...}`, the gateway `{"status": "failed", ...}`. */
export interface ErrorStyle {
  /** The body of an error with this status and message. */
  message(status: number, message: string): unknown;
  /** Status and body for unstorable text (see text.ts) at `loc`, e.g. `['query', 'search']`. */
  unstorableText(loc: (string | number)[], input: unknown): { status: number; body: unknown };
}

/** Flask's `request.is_json`: application/json or application/<anything>+json. */
export const JSON_MEDIA_TYPE = /^\s*application\/(?:[\w!#$%&'*+.^`|~-]+\+)?json\s*(?:;.*)?$/i;

/** The routes a server has, by path pattern, for 405 and for trailing-slash redirects. */
class RouteTable {
  private readonly routes: { pattern: RegExp; method: string }[] = [];

  add(url: string, method: string): void {
    // The CORS plugin's OPTIONS catch-all matches every path: it says nothing about which exist.
    if (url === '*' || url === '/*') return;
    const source = url
      .split('/')
      .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    this.routes.push({ pattern: new RegExp(`^${source}$`), method });
  }

  /** The methods registered for this concrete path, in registration order (empty: unknown path). */
  methodsFor(path: string): string[] {
    const methods = this.routes.filter((r) => r.pattern.test(path)).map((r) => r.method);
    return [...new Set(methods)];
  }
}

const pathOf = (url: string): string => {
  const end = url.indexOf('?');
  return end === -1 ? url : url.slice(0, end);
};

/** Installs the shared behaviour on a new server, before any route is registered. */
export function installRouting(app: FastifyInstance, style: ErrorStyle): void {
  const table = new RouteTable();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) table.add(route.url ?? route.path, method);
  });

  // Callback style: every request passes these two, and a promise each would cost it measurably.
  app.addHook('onRequest', (req, reply, done) => {
    // FastAPI's redirect_slashes: `/products/` → 307 to `/products` (query kept) when that path exists.
    const path = pathOf(req.url);
    if (path.length > 1 && path.endsWith('/') && !path.startsWith('/docs')) {
      const bare = path.replace(/\/+$/, '') || '/';
      if (table.methodsFor(bare).length > 0) {
        reply.code(307).header('location', bare + req.url.slice(path.length)).send();
        return;
      }
    }
    normaliseContentType(req);
    done();
  });

  // Text no database can store is refused before any service (and the Idempotency-Key store) sees it.
  app.addHook('preHandler', (req, reply, done) => {
    const parts: [string, unknown][] = [
      ['path', req.params],
      ['query', req.query],
      ['header', { 'idempotency-key': req.headers['idempotency-key'] }],
      // A route without a body schema ignores whatever body it was sent.
      ['body', req.routeOptions.schema?.body ? req.body : undefined],
    ];
    for (const [where, value] of parts) {
      const loc = findUnstorableText(value);
      if (!loc) continue;
      const { status, body } = (req.routeOptions.config.errors ?? style).unstorableText([where, ...loc], valueAt(value, loc));
      reply.code(status).send(body);
      return;
    }
    done();
  });

  app.setNotFoundHandler((req, reply) => {
    const allowed = table.methodsFor(pathOf(req.url));
    if (allowed.length === 0) return reply.code(404).send(style.message(404, 'Not Found'));
    return reply.code(405).header('allow', allowed.join(', ')).send(style.message(405, 'Method Not Allowed'));
  });
}

function valueAt(value: unknown, loc: (string | number)[]): unknown {
  let current = value;
  for (const key of loc) current = (current as Record<string | number, unknown>)[key];
  // A bad object key: show the key itself.
  return current === undefined ? loc.at(-1) : current;
}

/** Whether a request carries a body: a chunked one, or a Content-Length other than 0. */
export const hasBody = (headers: IncomingHttpHeaders): boolean =>
  headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');

/**
 * A body-less request (Content-Length 0 or none, no chunked body) has no content type to honour:
 * `curl -X POST -d ''` sends form-urlencoded. A body without a content type, or sent as
 * `application/<x>+json`, is read as JSON.
 */
function normaliseContentType(req: FastifyRequest): void {
  const headers = req.raw.headers;
  if (!hasBody(headers)) {
    delete headers['content-type'];
    return;
  }
  const type = headers['content-type'];
  if (type === undefined || JSON_MEDIA_TYPE.test(type)) headers['content-type'] = 'application/json';
}

/**
 * Fastify's router errors in the server's own words: a path that is not valid percent-encoded
 * UTF-8 (`%ED%A0%80`) is unstorable text; a path segment over the router's length limit is 414.
 */
export function routerErrorHandler(style: ErrorStyle) {
  return (error: Error & { code?: string }, req: FastifyRequest, reply: FastifyReply) => {
    if (error.code === 'FST_ERR_BAD_URL') {
      const { status, body } = style.unstorableText(['path'], req.raw.url ?? '');
      return reply.code(status).send(body);
    }
    return reply.code(414).send(style.message(414, `URI Too Long: a path segment is longer than ${MAX_PARAM_LENGTH} characters`));
  };
}

/** Longest path parameter the router accepts (ids are far shorter). */
export const MAX_PARAM_LENGTH = 200;

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { KeptRead } from '../shared/kept-read.js';
import { keptBytes } from './kept-json.js';
import { hasBody } from './routing.js';

/** Remembered URLs per server; past this the map starts again (hot URLs come back at their next request). */
const URL_LIMIT = 1000;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Repeated catalog GETs at the root, answered before Fastify sees them (issue 12).
 *
 * A catalog route that sent a kept answer (kept-json.ts) remembers the exact request URL with its
 * KeptRead. The next GET of the URL asks it for the kept answer (`now` without waiting: SQLite,
 * nothing written since and no fault rule; else `current`, which reads the catalog state and the
 * fault rules as the route and its hooks would) and writes its kept bytes without routing, hooks,
 * validation or a request logger, which cost more than the rest of such a request. The same URL
 * always parses, validates and routes the same way, so the answer is the one the route would give.
 * Anything else goes to Fastify as before: another method, a body, an `X-Fault` or
 * `Idempotency-Key` header, no kept answer (a fault rule, a new version not yet sent, a failure),
 * or a server that is closing.
 *
 * Only a server that answers every such request alike uses it: no access lines, no request events
 * at the root, and CORS either off or `*` (a list of origins varies the answer by Origin).
 */
export class KeptResponses {
  private readonly byUrl = new Map<string, KeptRead<object>>();
  private closing = false;

  /** `headers`: what the route's own reply sends ahead of Content-Length (CORS, then Content-Type), in that order. */
  constructor(private readonly headers: Readonly<Record<string, string>>) {}

  /** Answers GET `url` with `answer` from the next request on, while it is a kept one. */
  remember(url: string, answer: KeptRead<object>): void {
    if (this.closing) return;
    if (this.byUrl.size >= URL_LIMIT && !this.byUrl.has(url)) this.byUrl.clear();
    this.byUrl.set(url, answer);
  }

  /** From now on every request goes to Fastify (which answers 503 while it closes). */
  close(): void {
    this.closing = true;
    this.byUrl.clear();
  }

  /**
   * Puts this in front of the request listener of Fastify's own server (`app.server`, which
   * exists as soon as the instance does). Not a `serverFactory`: Fastify then skips the extra
   * servers it opens when HOST (such as `localhost`) resolves to several addresses. Those extra
   * servers answer every request through Fastify.
   */
  install(server: Server): void {
    const [fastify] = server.listeners('request') as Handler[];
    if (fastify === undefined) throw new Error('the server has no request listener to put kept answers in front of');
    server.removeListener('request', fastify);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res, fastify));
  }

  private handle(req: IncomingMessage, res: ServerResponse, fastify: Handler): void {
    const answer = this.answerFor(req);
    if (answer === undefined) return fastify(req, res);
    const value = answer.now();
    if (value !== undefined && this.write(res, value)) return;
    answer
      .current()
      // Fastify reads it again, and answers a failure as the route does.
      .catch(() => undefined)
      .then((current) => {
        if (current === undefined || !this.write(res, current)) fastify(req, res);
      })
      // Neither writing nor Fastify's handler throws in practice; should one, the connection goes, not the process.
      .catch((error: unknown) => res.destroy(error as Error));
  }

  /** The remembered answer for `req`, when nothing but its URL can change what it gets. */
  private answerFor(req: IncomingMessage): KeptRead<object> | undefined {
    if (req.method !== 'GET' || this.byUrl.size === 0) return undefined;
    const answer = this.byUrl.get(req.url ?? '');
    if (answer === undefined) return undefined;
    const headers = req.headers;
    if (headers['x-fault'] !== undefined || headers['idempotency-key'] !== undefined) return undefined;
    return hasBody(headers) ? undefined : answer;
  }

  /** Sends `value`'s kept JSON and returns true; false (nothing sent) when it has none or the server began closing. */
  private write(res: ServerResponse, value: object): boolean {
    const body = keptBytes(value);
    if (body === undefined || this.closing) return false;
    res.writeHead(200, { ...this.headers, 'content-length': body.length });
    res.end(body);
    return true;
  }
}

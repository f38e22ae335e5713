import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxFaults } from './book.js';
import { INJECTED_MESSAGE, injectedHeaders, parseFaultHeader, relativeUrl, sleep } from './rules.js';

export interface FaultHookOptions {
  /** The faults of the sandbox the request runs in; null for a path outside any shop (management, docs). */
  faultsOf(req: FastifyRequest): SandboxFaults | null;
  /** The server's error body for this status and message. */
  body(status: number, message: string): unknown;
}

/**
 * The request hook of both servers (a preHandler: after the route and its shop are known, before
 * any work): an `X-Fault` header (any request) and the sandbox's latency and error rules (shop
 * paths). An injected error answers before the handler, so nothing is done and no
 * Idempotency-Key is spent. Costs nothing when there is no header and no rule (book.ts).
 */
export function faultHook(options: FaultHookOptions) {
  /** Applies the header and the rules; true if it answered the request. */
  const apply = async (req: FastifyRequest, reply: FastifyReply, faults: SandboxFaults | null): Promise<boolean> => {
    const header = parseFaultHeader(req.headers['x-fault']);
    if (header && !header.ok) {
      reply.code(400).send(options.body(400, header.message));
      return true;
    }
    let latencyMs = header?.value.latencyMs ?? 0;
    let status = header?.value.status;
    if (faults) {
      const url = relativeUrl(req.url, faults.sandbox.id);
      if (header) await faults.headerFired({ method: req.method, path: url, source: 'X-Fault', latency_ms: header.value.latencyMs, status: header.value.status });
      const ruled = await faults.forRequest(req.method, url);
      latencyMs += ruled.latencyMs;
      status ??= ruled.status;
    }
    if (latencyMs > 0) await sleep(latencyMs);
    if (status === undefined) return false;
    reply.code(status).headers(injectedHeaders(status)).send(options.body(status, INJECTED_MESSAGE));
    return true;
  };
  // Callback style, so that the common case (no header, no rule) adds no promise to the request.
  return (req: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    const faults = options.faultsOf(req);
    if (req.headers['x-fault'] === undefined && (faults === null || faults.knownNone())) return done();
    apply(req, reply, faults).then((answered) => {
      if (!answered) done();
    }, done);
  };
}

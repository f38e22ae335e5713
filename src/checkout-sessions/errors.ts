import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import type { IdempotencyRefusals } from '../http/idempotency.js';
import type { ErrorStyle } from '../http/routing.js';
import { BODY_LIMIT } from '../http/server.js';
import { UNSTORABLE_TEXT_MESSAGE } from '../http/text.js';
import { JsonBodyError } from '../http/validation.js';
import { fail, type Failure, type FailureKind, type Result } from '../shared/result.js';

/**
 * The HTTP errors of the checkout-session endpoints in the Agentic Commerce Protocol's flat shape
 * (RFC agentic_checkout section 3.1): `{type, code, message, param?}`, not the store's `detail`.
 * Business problems (stock, declines) are not errors: they are `messages[]` of a valid session.
 */
export type AcpErrorType = 'invalid_request' | 'processing_error' | 'service_unavailable';

export interface AcpError {
  type: AcpErrorType;
  /** Implementation-defined; the idempotency codes are the RFC's (section 6.4). */
  code: string;
  message: string;
  /** RFC 9535 JSONPath of the offending request field, e.g. `$.items[0].quantity`. */
  param?: string;
  /** With code unsupported_api_version: every version this server accepts (RFC section 2.1). */
  supported_versions?: string[];
}

/** A service failure that carries its HTTP status and ACP error body. */
export interface AcpFailure extends Failure {
  acp: { status: number; error: AcpError };
}

const KIND_OF: Record<number, FailureKind> = { 404: 'not_found', 503: 'unavailable' };

/** A failure answered `status` with this ACP error; other statuses than 404 and 503 count as `rejected`. */
export function acpFail(status: number, code: string, message: string, param?: string, type: AcpErrorType = 'invalid_request'): AcpFailure {
  return { ...fail(KIND_OF[status] ?? 'rejected', message), acp: { status, error: { type, code, message, ...(param === undefined ? {} : { param }) } } };
}

const isAcpFailure = (failure: Failure): failure is AcpFailure => 'acp' in failure;

/** The idempotency layer's refusals in the RFC's words and codes (section 6.4). */
export const ACP_REFUSALS: IdempotencyRefusals = {
  missing: () => ({ type: 'invalid_request', code: 'idempotency_key_required', message: 'Idempotency-Key header is required on all POST requests' }),
  conflict: () => ({ type: 'invalid_request', code: 'idempotency_conflict', message: 'Idempotency-Key has already been used with a different request body' }),
  inProgress: () => ({ type: 'invalid_request', code: 'idempotency_in_flight', message: 'A request with this Idempotency-Key is currently being processed' }),
};

/**
 * A failure's answer: its own ACP error, or one derived from a shared failure kind (a request whose
 * idempotency claim was taken over is told to retry; a gateway that did not answer is 503).
 */
function errorOf(failure: Failure): { status: number; error: AcpError } {
  if (isAcpFailure(failure)) return failure.acp;
  switch (failure.kind) {
    case 'conflict':
      return { status: 409, error: { ...(ACP_REFUSALS.inProgress() as AcpError), message: failure.message } };
    case 'unavailable':
      return { status: 503, error: { type: 'service_unavailable', code: 'payment_gateway_unavailable', message: failure.message } };
    case 'not_found':
      return { status: 404, error: { type: 'invalid_request', code: 'not_found', message: failure.message } };
    default:
      return { status: 400, error: { type: 'invalid_request', code: 'invalid', message: failure.message } };
  }
}

/** Sends a service result: the value with `status` (200 or 201), or the failure's ACP error. */
export function sendAcp<T>(reply: FastifyReply, result: Result<T>, status = 200): FastifyReply {
  if (result.ok) return reply.code(status).send(result.value);
  const { status: code, error } = errorOf(result);
  return reply.code(code).send(error);
}

/** `['items', 0, 'id']` → `$.items[0].id` (RFC 9535 normalized path, member names in dot form). */
export function jsonPath(path: (string | number)[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' || /^\d+$/.test(part) ? `${out}[${part}]` : `${out}.${part}`), '$');
}

const HEADER_NAMES: Record<string, string> = { 'idempotency-key': 'Idempotency-Key', 'api-version': 'API-Version', 'request-id': 'Request-Id' };

/** The first schema violation as one ACP error: a JSONPath `param` for body fields, the name otherwise. */
function validationError(error: FastifySchemaValidationError, context: string): AcpError {
  const params = error.params as Record<string, unknown>;
  const path: (string | number)[] = (error.instancePath ?? '').split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required') path.push(String(params.missingProperty));
  if (error.keyword === 'additionalProperties') path.push(String(params.additionalProperty));
  const code = error.keyword === 'required' ? 'missing' : 'invalid';
  if (context !== 'body') {
    const name = HEADER_NAMES[String(path[0])] ?? String(path[0] ?? context);
    return { type: 'invalid_request', code, message: `${name} ${error.keyword === 'required' ? 'is required' : error.message}` };
  }
  const param = jsonPath(path);
  const what = error.keyword === 'required' ? 'is required' : error.keyword === 'additionalProperties' ? 'is not a known field' : error.message;
  return { type: 'invalid_request', code, message: `${param} ${what}`, param };
}

/**
 * The error handler of the checkout-session routes: schema violations and bad JSON are 400
 * `invalid_request` (the RFC's example), a body too large 413, another media type 415, and
 * anything unexpected a 500 `processing_error` without details.
 */
export function acpErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error.validation?.[0]) return reply.code(400).send(validationError(error.validation[0], error.validationContext ?? 'body'));
  if (error instanceof JsonBodyError) {
    const reason = String(error.issue.ctx?.error ?? 'JSON decode error');
    return reply.code(400).send({ type: 'invalid_request', code: 'invalid_json', message: `Request body is not valid JSON: ${reason}` });
  }
  const status = error.statusCode ?? 500;
  if (status === 413) return reply.code(413).send({ type: 'invalid_request', code: 'request_too_large', message: `Request body too large (limit ${BODY_LIMIT} bytes)` });
  if (status === 415) {
    return reply.code(415).send({ type: 'invalid_request', code: 'unsupported_media_type', message: `Unsupported Media Type: ${request.headers['content-type'] ?? 'none'}; send application/json` });
  }
  if (status >= 400 && status < 500) return reply.code(status).send({ type: 'invalid_request', code: 'invalid', message: error.message });
  request.log.error({ err: error, method: request.method, url: request.url }, 'request failed');
  return reply.code(500).send({ type: 'processing_error', code: 'internal_error', message: 'Internal Server Error' });
}

/** routing.ts's shared checks (unstorable text) in ACP words, for the routes' `config.errors`. */
export const ACP_ERROR_STYLE: ErrorStyle = {
  message: (_status, message) => ({ type: 'invalid_request', code: 'invalid', message }),
  unstorableText: (loc) => {
    const [where, ...path] = loc;
    const param = where === 'body' ? jsonPath(path) : undefined;
    const name = where === 'header' ? HEADER_NAMES[String(path[0])] ?? String(path[0]) : where;
    return { status: 400, body: { type: 'invalid_request', code: 'invalid', message: `${param ?? name}: ${UNSTORABLE_TEXT_MESSAGE}`, ...(param ? { param } : {}) } };
  },
};

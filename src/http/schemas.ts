import { Type, type TSchema } from '@sinclair/typebox';
import type { ValidationIssue } from './validation.js';

/**
 * Bounds of numeric inputs, checked where they are parsed (422 naming the bound) so that no number
 * reaches SQL that a column cannot hold: prices and quantities are 32-bit integer columns on
 * PostgreSQL (src/db/migrations.ts), and `1e309` parses to Infinity.
 */
export const MAX_INT32 = 2147483647;
/** The largest price in money: 2^31 - 1 cents. */
export const MAX_AMOUNT = 21474836.47;

/** `{"detail": "..."}`, the store's error body (FastAPI's shape). */
export const ErrorDetail = Type.Object(
  { detail: Type.String({ example: 'Cart not found' }) },
  { $id: 'ErrorDetail', description: 'Error with a human-readable message' },
);

/** FastAPI's 422 body: a list of validation issues. */
const ValidationIssue = Type.Object({
  type: Type.String({ example: 'int_parsing' }),
  loc: Type.Array(Type.Union([Type.String(), Type.Integer()]), { example: ['query', 'page'] }),
  msg: Type.String({ example: 'Input should be a valid integer, unable to parse string as an integer' }),
  input: Type.Unknown(),
  ctx: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

/** FastAPI's 422 body: a list of validation issues (or, for a reused Idempotency-Key, a message). */
export const ValidationError = Type.Object(
  { detail: Type.Union([Type.Array(ValidationIssue), Type.String()]) },
  { $id: 'ValidationError', description: 'Request validation failed (FastAPI format)' },
);

/** One 422 issue as the store writes it, for examples. */
export type IssueExample = ValidationIssue;

/** The 422 example of a route whose only inputs are text ids in its path. */
export const textIdIssue = (name: string): IssueExample => ({
  type: 'string_unicode',
  loc: ['path', name],
  msg: 'Input should be text without NUL characters or unpaired surrogates',
  input: 'ab\u0000',
});

/** The 422 example of a route with an integer input. */
export const integerIssue = (where: string, name: string): IssueExample => ({
  type: 'int_parsing',
  loc: [where, name],
  msg: 'Input should be a valid integer, unable to parse string as an integer',
  input: 'abc',
});

/**
 * A response schema with its description and examples. @fastify/swagger drops the siblings of a
 * bare `$ref`, so a reference is wrapped in a one-element `allOf` that carries them.
 */
export function documented(schema: TSchema, description: string | undefined, examples: unknown[]): TSchema {
  const notes = { ...(description ? { description } : {}), examples };
  return '$ref' in schema ? Type.Unsafe({ allOf: [schema], ...notes }) : { ...schema, ...notes };
}

/** A documented error answer: `{"detail": message}` with each message it can carry as an example. */
const detail = (description: string, messages: string[]) =>
  documented(Type.Ref('ErrorDetail'), description, messages.map((message) => ({ detail: message })));

/** What a route can answer besides its success, for `responses()`. Messages are the exact `detail` texts. */
export interface ErrorAnswers {
  400?: string[];
  401?: string[];
  404?: string[];
  /** Example issue of the route's 422; omit for a route without inputs (no 422). */
  422?: IssueExample;
  /** The route reads a JSON body: 413 and 415. */
  body?: boolean;
  /** The route takes no body but its method carries one (POST, PATCH, DELETE): a body too large is still 413. */
  bodyLimit?: boolean;
  /** The route honours Idempotency-Key: 409 while the first request runs, Idempotent-Replayed on a replay. */
  idempotent?: boolean;
  409?: string[];
  503?: string[];
  /** The success is 201 Created (default 200). */
  created?: boolean;
  /** A 422 whose detail is a message (a catalog's field), as examples. */
  invalid?: string[];
  /** The route needs the admin key (401 when ADMIN_API_KEY is set and it is missing or wrong). */
  admin?: boolean;
}

const TOO_LARGE = 'Request body too large (limit 1048576 bytes)';

/** The 401 of the management and admin endpoints. */
export const ADMIN_KEY_MESSAGE = 'Missing or invalid admin key';

/** The responses of a route whose success is 204 No Content, with its errors as in `responses()`. */
export function noContent(errors: ErrorAnswers) {
  const { 200: _success, ...map } = responses(Type.Null(), null, errors);
  return { 204: Type.Null({ description: 'Done; no content' }), ...map };
}

/**
 * Response map for a route: its success schema and example, plus every status it can answer
 * with, each with its real messages as examples (the document is checked against real answers in
 * test/openapi-responses.test.ts).
 */
export function responses(success: TSchema, example: unknown, errors: ErrorAnswers = {}) {
  const map: Record<number, TSchema> = {
    [errors.created ? 201 : 200]: {
      ...documented(success, undefined, [example]),
      ...(errors.idempotent
        ? {
          headers: {
            'idempotent-replayed': Type.String({ enum: ['true'], description: 'Present on a repeat with the same Idempotency-Key: this is the first answer, replayed' }),
          },
        }
        : {}),
    },
  };
  if (errors.body || errors.bodyLimit) map[413] = detail('Request body too large (over 1 MiB)', [TOO_LARGE]);
  if (errors.body) map[415] = detail('Request body is not JSON', ['Unsupported Media Type: text/plain; send application/json']);
  if (errors[400]) map[400] = detail(errors[400].join(' | '), errors[400]);
  const unauthorized = [...(errors[401] ?? []), ...(errors.admin ? [ADMIN_KEY_MESSAGE] : [])];
  if (unauthorized.length) map[401] = detail(unauthorized.join(' | '), unauthorized);
  if (errors[404]) map[404] = detail(errors[404].join(' | '), errors[404]);
  if (errors[409]) map[409] = detail(errors[409].join(' | '), errors[409]);
  if (errors[503]) map[503] = detail(errors[503].join(' | '), errors[503]);
  if (errors.idempotent) map[409] = detail('A request with the same Idempotency-Key is still running', ['A request with this Idempotency-Key is still in progress']);
  if (errors.invalid) map[422] = documented(Type.Ref('ValidationError'), 'Validation error', [...(errors[422] ? [{ detail: [errors[422]] }] : []), ...errors.invalid.map((m) => ({ detail: m }))]);
  else if (errors[422]) {
    map[422] = documented(
      Type.Ref('ValidationError'),
      'Validation error (FastAPI format)' + (errors.idempotent ? '; or the Idempotency-Key was used with another request' : ''),
      [{ detail: [errors[422]] }, ...(errors.idempotent ? [{ detail: 'Idempotency-Key was already used with a different request' }] : [])],
    );
  }
  return map;
}

/** A string limited to `values`, as a plain JSON-Schema enum (one 422 entry naming every allowed value). */
export const StringEnum = <const T extends string>(values: readonly T[], options: Record<string, unknown> = {}) =>
  Type.Unsafe<T>({ type: 'string', enum: values, ...options });

import { Type, type TSchema } from '@sinclair/typebox';

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
  { detail: Type.String({ examples: ['Cart not found'] }) },
  { $id: 'ErrorDetail', description: 'Error with a human-readable message' },
);

/** FastAPI's 422 body: a list of validation issues. */
const ValidationIssue = Type.Object({
  type: Type.String({ examples: ['int_parsing'] }),
  loc: Type.Array(Type.Union([Type.String(), Type.Integer()]), { examples: [['query', 'page']] }),
  msg: Type.String({ examples: ['Input should be a valid integer, unable to parse string as an integer'] }),
  input: Type.Unknown(),
  ctx: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

/** FastAPI's 422 body: a list of validation issues (or, for a reused Idempotency-Key, a message). */
export const ValidationError = Type.Object(
  { detail: Type.Union([Type.Array(ValidationIssue), Type.String()]) },
  { $id: 'ValidationError', description: 'Request validation failed (FastAPI format)' },
);

/** Response map for a route: its success schema plus the error statuses it can answer with. */
export function responses(
  success: TSchema,
  errors: { 400?: string; 401?: string; 404?: string; 422?: boolean; body?: boolean } = {},
) {
  const map: Record<number, TSchema> = { 200: success };
  if (errors.body) {
    map[413] = Type.Ref('ErrorDetail', { description: 'Request body too large (over 1 MiB)' });
    map[415] = Type.Ref('ErrorDetail', { description: 'Request body is not application/json' });
  }
  if (errors[400]) map[400] = Type.Ref('ErrorDetail', { description: errors[400] });
  if (errors[401]) map[401] = Type.Ref('ErrorDetail', { description: errors[401] });
  if (errors[404]) map[404] = Type.Ref('ErrorDetail', { description: errors[404] });
  if (errors[422] !== false) map[422] = Type.Ref('ValidationError', { description: 'Validation error' });
  return map;
}

/** A string limited to `values`, as a plain JSON-Schema enum (one 422 entry naming every allowed value). */
export const StringEnum = <const T extends string>(values: readonly T[], options: Record<string, unknown> = {}) =>
  Type.Unsafe<T>({ type: 'string', enum: values, ...options });

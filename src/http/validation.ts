import type { FastifySchemaValidationError } from 'fastify';

/** One entry of FastAPI's 422 list: `{"detail": [{type, loc, msg, input, ctx?}]}`. */
export interface ValidationIssue {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

const LOCATION: Record<string, string> = { querystring: 'query', body: 'body', params: 'path', headers: 'header' };

function describeEnum(values: readonly unknown[]): string {
  const quoted = values.map((v) => `'${String(v)}'`);
  return quoted.length <= 1 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
}

function typeIssue(expected: string, input: unknown): Pick<ValidationIssue, 'type' | 'msg'> {
  const fromString = typeof input === 'string';
  switch (expected) {
    case 'integer':
      if (typeof input === 'number') return { type: 'int_from_float', msg: 'Input should be a valid integer, got a number with a fractional part' };
      return fromString
        ? { type: 'int_parsing', msg: 'Input should be a valid integer, unable to parse string as an integer' }
        : { type: 'int_type', msg: 'Input should be a valid integer' };
    case 'number':
      return fromString
        ? { type: 'float_parsing', msg: 'Input should be a valid number, unable to parse string as a number' }
        : { type: 'float_type', msg: 'Input should be a valid number' };
    case 'boolean':
      return fromString
        ? { type: 'bool_parsing', msg: 'Input should be a valid boolean, unable to interpret input' }
        : { type: 'bool_type', msg: 'Input should be a valid boolean' };
    case 'string':
      return { type: 'string_type', msg: 'Input should be a valid string' };
    case 'object':
      return { type: 'model_attributes_type', msg: 'Input should be a valid dictionary or object to extract fields from' };
    default:
      return { type: `${expected}_type`, msg: `Input should be a valid ${expected}` };
  }
}

function valueAt(root: unknown, path: string[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Translates Ajv's errors into FastAPI's (pydantic v2) wording so old clients parse them unchanged. */
export function toValidationIssues(
  errors: FastifySchemaValidationError[],
  context: string,
  source: unknown,
): ValidationIssue[] {
  const where = LOCATION[context] ?? context;
  return errors.map((error) => {
    const path = (error.instancePath ?? '').split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const params = error.params as Record<string, unknown>;
    // No body at all where one is required: FastAPI says the body itself is missing.
    if (where === 'body' && source === undefined && path.length === 0) {
      return { type: 'missing', loc: ['body'], msg: 'Field required', input: null };
    }
    if (error.keyword === 'required') {
      const field = String(params.missingProperty);
      return { type: 'missing', loc: [where, ...path, field], msg: 'Field required', input: valueAt(source, path) ?? null };
    }
    const input = valueAt(source, path) ?? null;
    const loc = [where, ...path.map((p) => (/^\d+$/.test(p) ? Number(p) : p))];
    switch (error.keyword) {
      case 'type':
        return { ...typeIssue(String(params.type), input), loc, input };
      case 'minimum':
        return { type: 'greater_than_equal', loc, msg: `Input should be greater than or equal to ${params.limit}`, input, ctx: { ge: params.limit } };
      case 'maximum':
        return { type: 'less_than_equal', loc, msg: `Input should be less than or equal to ${params.limit}`, input, ctx: { le: params.limit } };
      case 'exclusiveMinimum':
        return { type: 'greater_than', loc, msg: `Input should be greater than ${params.limit}`, input, ctx: { gt: params.limit } };
      case 'enum': {
        const expected = describeEnum(params.allowedValues as unknown[]);
        return { type: 'literal_error', loc, msg: `Input should be ${expected}`, input, ctx: { expected } };
      }
      case 'maxLength':
        return { type: 'string_too_long', loc, msg: `String should have at most ${params.limit} characters`, input, ctx: { max_length: params.limit } };
      case 'minLength':
        return { type: 'string_too_short', loc, msg: `String should have at least ${params.limit} characters`, input, ctx: { min_length: params.limit } };
      default:
        return { type: 'value_error', loc, msg: error.message ?? 'Invalid value', input };
    }
  });
}

/** FastAPI's answer to a body that is not valid JSON. */
export function jsonInvalidIssue(error: Error, raw: string): ValidationIssue {
  const position = /position (\d+)/.exec(error.message);
  return {
    type: 'json_invalid',
    loc: ['body', position ? Number(position[1]) : raw.length],
    msg: 'JSON decode error',
    input: {},
    ctx: { error: error.message },
  };
}

/** A request body that is not valid JSON (thrown by the store's JSON parser; each error handler words it). */
export class JsonBodyError extends Error {
  readonly statusCode = 422;
  constructor(readonly issue: ValidationIssue) {
    super('JSON decode error');
  }
}

/** A body sent to a route that reads JSON, in another media type (415). */
export class UnsupportedMediaType extends Error {
  readonly statusCode = 415;
}

import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FastifySchemaValidationError } from 'fastify';
import { toValidationIssues } from '../http/validation.js';

/**
 * The MCP tool table's building blocks (spec/sandboxes.md section 4). A tool is an operation of
 * the HTTP contract: its input schema is made of the very TypeBox schemas that validate the
 * route's path, query and body, and it runs by sending that HTTP request, in-process or over the
 * network (a `Channel`), so its answers and error messages are exactly the contract's.
 */

/** One answer of the HTTP contract: status code and parsed JSON body (undefined when empty). */
export interface Answer {
  status: number;
  body: unknown;
}

/** A store request; `path` is relative to the shop's base (the root, or `/sandboxes/{id}`). */
export interface StoreRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** Protocol headers of the route (the checkout sessions' Idempotency-Key, API-Version, Request-Id). */
  headers?: Record<string, string>;
}

/** How tools reach the contract: `app.inject()` in the store process, `fetch` from the stdio server. */
export interface Channel {
  store(request: StoreRequest): Promise<Answer>;
  /** POST to the gateway of the same sandbox; `path` is relative to its base (e.g. `/payments/orders`). */
  gateway(path: string, body: unknown): Promise<Answer>;
}

/** What a tool did: a JSON object for `structuredContent` and a line for the text, or the contract's error message. */
export type Outcome =
  | { ok: true; value: Record<string, unknown>; text: string }
  | { ok: false; message: string; value?: Record<string, unknown> };

/** read: changes nothing (served by `?tools=read`); write: a shop change; admin: only at /mcp/admin. */
export type Access = 'read' | 'write' | 'admin';

export interface Tool {
  name: string;
  title: string;
  /** For the agent: what it does, units, limits, what to call next. */
  description: string;
  access: Access;
  /** JSON Schema of the arguments (an object schema). */
  input: TObject;
  /** What the arguments are checked against before the call, when not `input` (see OperationSpec.bodyCheckedByRoute). */
  check?: TObject;
  /** Runs with arguments that `input` accepted. */
  run(args: Record<string, unknown>, channel: Channel): Promise<Outcome>;
}

/** A tool that is one HTTP operation of the contract. */
export interface OperationSpec {
  name: string;
  title: string;
  description: string;
  access: Access;
  method: StoreRequest['method'];
  /** Fastify-style path template, e.g. `/cart/:cart_id/items`; each `:name` comes from `params`. */
  path: string;
  /** The route's own schemas: the tool's arguments are their properties, together. */
  params?: TObject;
  query?: TObject;
  body?: TObject;
  /**
   * The route checks its body itself, with messages naming the field (its schema only documents):
   * the tool then checks only the body's top-level fields and passes on the route's 422 message.
   */
  bodyCheckedByRoute?: boolean;
  /** A JSON array answer is returned as `{ [wrap]: array }` (structuredContent must be an object). */
  wrap?: string;
  /** The text line of a success: what happened and what to call next. */
  next(value: Record<string, unknown>): string;
}

const pick = (args: Record<string, unknown>, schema: TObject | undefined): Record<string, unknown> | undefined => {
  if (!schema) return undefined;
  return Object.fromEntries(Object.keys(schema.properties).filter((key) => args[key] !== undefined).map((key) => [key, args[key]]));
};

/** Fills `:name` segments from the arguments, encoded, so that no argument can reach another path. */
export const fillPath = (template: string, args: Record<string, unknown>): string =>
  template.replace(/:([a-z_]+)/g, (_match, name: string) => encodeURIComponent(String(args[name])));

/**
 * The arguments of the route's schemas together; an unknown argument is refused. A property with
 * a `default` is optional for the tool, as the route fills it in.
 */
export function inputOf(...schemas: (TObject | undefined)[]): TObject {
  const input = Type.Composite(schemas.filter((schema): schema is TObject => schema !== undefined), { additionalProperties: false });
  const properties: Record<string, TSchema> = input.properties;
  const required = (input.required ?? []).filter((name) => properties[name]?.default === undefined);
  if (required.length) input.required = required;
  else delete input.required;
  return input;
}

/** An object schema with the same fields, each any JSON value (required ones still required). */
function topLevel(schema: TObject): TObject {
  const required = new Set(schema.required ?? []);
  return Type.Object(Object.fromEntries(Object.keys(schema.properties).map((key) => [key, required.has(key) ? Type.Unknown() : Type.Optional(Type.Unknown())])));
}

/** Builds the tool of one HTTP operation. */
export function operation(spec: OperationSpec): Tool {
  return {
    name: spec.name,
    title: spec.title,
    description: spec.description,
    access: spec.access,
    input: inputOf(spec.params, spec.query, spec.body),
    ...(spec.body && spec.bodyCheckedByRoute ? { check: inputOf(spec.params, spec.query, topLevel(spec.body)) } : {}),
    async run(args, channel) {
      const query = pick(args, spec.query);
      const answer = await channel.store({
        method: spec.method,
        path: fillPath(spec.path, args),
        ...(query && Object.keys(query).length ? { query: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])) } : {}),
        ...(spec.body ? { body: pick(args, spec.body) } : {}),
      });
      if (answer.status >= 400) return failure(answer);
      const value = spec.wrap ? { [spec.wrap]: answer.body } : ((answer.body ?? {}) as Record<string, unknown>);
      return { ok: true, value, text: spec.next(value) };
    },
  };
}

/**
 * The contract's error message of a 4xx/5xx answer: the store's `detail` (a 422 issue list as
 * `field: message` lines), the gateway's `message`, else the status.
 */
export function errorMessage(answer: Answer): string {
  const body = answer.body as { detail?: unknown; message?: unknown } | undefined;
  if (typeof body?.detail === 'string') return body.detail;
  if (Array.isArray(body?.detail)) {
    return (body.detail as { loc: (string | number)[]; msg: string }[]).map((issue) => `${issue.loc.slice(1).join('.') || issue.loc.join('.')}: ${issue.msg}`).join('; ');
  }
  if (typeof body?.message === 'string') return body.message;
  return `HTTP ${answer.status}`;
}

/** A failed answer as an outcome, keeping its body for structuredContent. */
export const failure = (answer: Answer): Outcome => ({
  ok: false,
  message: errorMessage(answer),
  value: { http_status: answer.status, ...(answer.body && typeof answer.body === 'object' && !Array.isArray(answer.body) ? answer.body : {}) },
});

/** JSON arguments carry real types, as JSON bodies do (src/http/app.ts): nothing is coerced. */
const ajv = new Ajv({ allErrors: true, coerceTypes: false, strict: false, validateFormats: false });
const validators = new WeakMap<Tool, ValidateFunction>();

/**
 * Checks a tool's arguments against its input schema; undefined when they fit, else one message
 * naming each bad field in the store's 422 wording (`quantity: Input should be a valid integer`).
 */
export function argumentProblems(tool: Tool, args: Record<string, unknown>): string | undefined {
  let validate = validators.get(tool);
  if (!validate) validators.set(tool, (validate = ajv.compile(tool.check ?? tool.input)));
  if (validate(args)) return undefined;
  const errors = validate.errors ?? [];
  const unknown = errors.filter((e) => e.keyword === 'additionalProperties').map((e: ErrorObject) => `${String(e.params.additionalProperty)}: Unknown argument`);
  const issues = toValidationIssues(errors.filter((e) => e.keyword !== 'additionalProperties') as FastifySchemaValidationError[], 'arguments', args);
  const known = Object.keys(tool.input.properties);
  const lines = [...unknown, ...issues.map((issue) => `${issue.loc.slice(1).join('.')}: ${issue.msg}`)];
  return `Invalid arguments for ${tool.name}: ${lines.join('; ')}${unknown.length ? ` (arguments: ${known.join(', ') || 'none'})` : ''}`;
}

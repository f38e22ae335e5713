import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import { MAX_AMOUNT } from '../http/schemas.js';
import { parseMoney } from '../shared/money.js';
import { fail, ok, type Result } from '../shared/result.js';

/**
 * Fault rules (spec/sandboxes.md section 2), shared by the store and the gateway: their schemas
 * (one per kind, discriminated by `kind`; /openapi.json documents them), validation with one
 * clear message, which server applies a rule, request matching, seeded draws and the X-Fault header.
 */

/** Rules per sandbox at most (MAX_FAULT_RULES). */
export const DEFAULT_MAX_FAULT_RULES = 100;
/** The longest injected wait, in milliseconds (latency rules, X-Fault latency, callback delay). */
export const MAX_FAULT_MS = 60_000;
/** Retry-After (seconds) of an injected 429 or 503. */
export const RETRY_AFTER_SECONDS = 1;
export const INJECTED_MESSAGE = 'Injected fault';

const Method = Type.Unsafe<string>({ type: 'string', enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], description: 'HTTP method (any when absent)' });
const Match = Type.Object(
  {
    method: Type.Optional(Method),
    path: Type.Optional(Type.String({
      pattern: '^/', maxLength: 500,
      description: "Relative to the sandbox's base: `/products*` matches `/sandboxes/x/products?search=a`; `*` matches any rest. Without `*`, the path must be equal (query ignored)",
    })),
    server: Type.Optional(Type.Unsafe<'store' | 'gateway'>({ type: 'string', enum: ['store', 'gateway'], description: 'Which server applies the rule (default store)' })),
  },
  { additionalProperties: false, description: 'Which requests the rule applies to; absent: every request of its server' },
);

/** What every rule may carry. */
const common = {
  probability: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Chance to fire (default 1); drawn from the sandbox seed when it has one' })),
  times: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000, description: 'Fire at most this many times (default: unlimited)' })),
};

const rule = <K extends string, P extends Record<string, TSchema>>(kind: K, properties: P, description: string) =>
  Type.Object({ kind: Type.Literal(kind), ...properties, ...common }, { additionalProperties: false, description, title: `FaultRule_${kind}` });

export const LatencyRule = rule('latency', { ms: Type.Integer({ minimum: 0, maximum: MAX_FAULT_MS }), match: Type.Optional(Match) }, 'Matching requests wait `ms` before they are handled');
export const ErrorRule = rule(
  'error',
  { status: Type.Integer({ minimum: 400, maximum: 599 }), match: Type.Optional(Match) },
  'Matching requests are answered `status` without doing the work (store: `{"detail":"Injected fault"}`; gateway: `{"status":"failed","message":"Injected fault"}`); 429 and 503 carry Retry-After',
);
export const OutOfStockRule = rule('out_of_stock', { product_id: Type.Integer({ minimum: 1 }) }, 'The product reads stock 0; adds and checkouts get the not-enough-stock 400 (each refusal is a firing)');
export const PriceChangeRule = rule(
  'price_change',
  { product_id: Type.Integer({ minimum: 1 }), price: Type.Number({ minimum: 0.01, maximum: MAX_AMOUNT }) },
  "At a checkout holding the product, its order line takes this price (the cart still shows the catalog's)",
);
export const DECLINE_REASONS = ['card_declined', 'insufficient_funds', 'processing_error'] as const;
export const PaymentDeclineRule = rule(
  'payment_decline',
  { reason: Type.Unsafe<(typeof DECLINE_REASONS)[number]>({ type: 'string', enum: [...DECLINE_REASONS] }) },
  'Gateway: order payments fail with this reason, exactly as the test cards fail',
);
export const CALLBACK_MODES = ['delay', 'duplicate', 'drop_first', 'reorder'] as const;
export const CallbackRule = rule(
  'callback',
  {
    mode: Type.Unsafe<(typeof CALLBACK_MODES)[number]>({ type: 'string', enum: [...CALLBACK_MODES] }),
    ms: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_FAULT_MS, description: 'delay only (required there): on the sandbox clock' })),
  },
  "Gateway to store, for a new order payment's callback: `delay` (sent `ms` later by the worker), `duplicate` (sent twice), `drop_first` (the first attempt is lost; the retry delivers it), `reorder` (a `failed` first, then the `success`)",
);

const KINDS = { latency: LatencyRule, error: ErrorRule, out_of_stock: OutOfStockRule, price_change: PriceChangeRule, payment_decline: PaymentDeclineRule, callback: CallbackRule } as const;
export type FaultKind = keyof typeof KINDS;

export const FaultRuleSchema = Type.Union(Object.values(KINDS), { description: 'A fault rule, by `kind`' });
export type FaultRule =
  | Static<typeof LatencyRule>
  | Static<typeof ErrorRule>
  | Static<typeof OutOfStockRule>
  | Static<typeof PriceChangeRule>
  | Static<typeof PaymentDeclineRule>
  | Static<typeof CallbackRule>;
/** The schemas of every kind, for the OpenAPI document. */
export const faultRuleSchemas: TSchema[] = Object.values(KINDS);

const ajv = new Ajv({ allErrors: false, strict: false });
const validators = Object.fromEntries(Object.entries(KINDS).map(([kind, schema]) => [kind, ajv.compile(schema)])) as Record<FaultKind, ValidateFunction>;

/** The first problem of a validator run, as `rules[2].ms must be <= 60000`. */
function firstProblem(where: string, validate: ValidateFunction): string {
  const error = validate.errors![0]!;
  const at = `${where}${error.instancePath.replace(/\/(\w+)/g, '.$1')}`;
  if (error.keyword === 'additionalProperties') return `${at}: unknown field '${String(error.params.additionalProperty)}'`;
  if (error.keyword === 'enum') return `${at} must be one of ${(error.params.allowedValues as string[]).join(', ')}`;
  return `${at} ${error.message ?? 'is invalid'}`;
}

/**
 * Checks a `PUT .../faults` body: `{rules: [...]}`, at most `max` rules, each valid for its kind.
 * An `invalid` failure (422) carries one message naming the rule and the field.
 */
export function parseFaultRules(body: unknown, max: number): Result<FaultRule[]> {
  const rules = (body as { rules?: unknown } | null | undefined)?.rules;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !Array.isArray(rules)) return fail('invalid', 'Body must be {"rules": [...]}');
  const extra = Object.keys(body).find((k) => k !== 'rules');
  if (extra !== undefined) return fail('invalid', `unknown field '${extra}'`);
  if (rules.length > max) return fail('invalid', `At most ${max} fault rules per sandbox (MAX_FAULT_RULES), got ${rules.length}`);
  for (const [i, candidate] of rules.entries()) {
    const where = `rules[${i}]`;
    const kind = (candidate as { kind?: unknown } | null)?.kind;
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) return fail('invalid', `${where} must be an object`);
    if (typeof kind !== 'string' || !Object.hasOwn(KINDS, kind)) return fail('invalid', `${where}.kind must be one of ${Object.keys(KINDS).join(', ')}`);
    const validate = validators[kind as FaultKind];
    if (!validate(candidate)) return fail('invalid', firstProblem(where, validate));
    const parsed = candidate as FaultRule;
    if (parsed.kind === 'price_change') {
      const money = parseMoney(parsed.price);
      if (!money.ok) return fail('invalid', `${where}.price: ${money.message}`);
    }
    if (parsed.kind === 'callback' && (parsed.mode === 'delay') !== (parsed.ms !== undefined)) {
      return fail('invalid', `${where}.ms is required with mode 'delay' and only there`);
    }
  }
  return ok(rules as FaultRule[]);
}

/** Which server applies a rule: latency and error by `match.server` (default store); declines and callbacks the gateway. */
export function serverOf(rule: FaultRule): 'store' | 'gateway' {
  if (rule.kind === 'latency' || rule.kind === 'error') return rule.match?.server ?? 'store';
  return rule.kind === 'payment_decline' || rule.kind === 'callback' ? 'gateway' : 'store';
}

/** A stored rule as a server applies it. */
export interface ActiveRule {
  /** Its position in the sandbox's list (0-based): its name in counts and events. */
  index: number;
  /** The faults version the list was saved under: a firing only counts against that list. */
  setVersion: number;
  rule: FaultRule;
  /** For latency and error rules: does a request (method, path relative to the sandbox base, query included) match? */
  matches(method: string, url: string): boolean;
}

/** `*` matches any rest (query string included); a pattern without `*` compares the path alone. */
function pathMatcher(pattern: string | undefined): (url: string) => boolean {
  if (pattern === undefined) return () => true;
  if (!pattern.includes('*')) return (url) => url.split('?', 1)[0] === pattern;
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  const regex = new RegExp(`^${source}$`);
  return (url) => regex.test(url);
}

export function activeRule(index: number, setVersion: number, rule: FaultRule): ActiveRule {
  const match = rule.kind === 'latency' || rule.kind === 'error' ? rule.match : undefined;
  const path = pathMatcher(match?.path);
  const method = match?.method;
  return { index, setVersion, rule, matches: (m, url) => (method === undefined || method === m) && path(url) };
}

/** The request's path relative to its sandbox's base: `/sandboxes/x/products?a=1` -> `/products?a=1`. */
export function relativeUrl(url: string, sandboxId: string): string {
  const prefix = `/sandboxes/${sandboxId}`;
  const rest = url.startsWith(prefix) ? url.slice(prefix.length) : undefined;
  // `default` is served at the root and under its prefix alike.
  if (rest === undefined || (rest !== '' && rest[0] !== '/' && rest[0] !== '?')) return url;
  return rest === '' || rest.startsWith('?') ? `/${rest}` : rest;
}

/**
 * A draw in [0, 1): from the sandbox's seed and its fault draw counter (deterministic: the same
 * script on a sandbox with the same seed draws the same sequence), or random without a seed.
 */
export function drawFrom(seedHex: string | undefined): number {
  return seedHex === undefined ? Math.random() : parseInt(seedHex, 16) / 2 ** 52;
}
/** Hex digits of a seeded draw (52 bits: exact in a double). */
export const DRAW_HEX = 13;

/** What an `X-Fault` header asks for this request. */
export interface HeaderFault {
  latencyMs?: number;
  status?: number;
}

export const X_FAULT_FORMAT = 'X-Fault must be latency=<ms 0..60000> and/or status=<400..599>, comma-separated (e.g. latency=300, status=503)';

/** Parses `X-Fault: latency=300` / `status=503` (both, comma-separated, are allowed); undefined when absent. */
export function parseFaultHeader(value: string | string[] | undefined): Result<HeaderFault> | undefined {
  if (value === undefined) return undefined;
  const fault: HeaderFault = {};
  for (const part of [value].flat().join(',').split(/[,;]/)) {
    const item = part.trim();
    if (item === '') continue;
    const found = /^(latency|status)\s*=\s*(\d{1,6})$/i.exec(item);
    if (!found) return fail('rejected', X_FAULT_FORMAT);
    const n = Number(found[2]);
    if (found[1]!.toLowerCase() === 'latency') {
      if (n > MAX_FAULT_MS) return fail('rejected', X_FAULT_FORMAT);
      fault.latencyMs = n;
    } else {
      if (n < 400 || n > 599) return fail('rejected', X_FAULT_FORMAT);
      fault.status = n;
    }
  }
  return ok(fault);
}

/** Headers of an injected error: Retry-After for 429 and 503. */
export const injectedHeaders = (status: number): Record<string, string> => (status === 429 || status === 503 ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : {});

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

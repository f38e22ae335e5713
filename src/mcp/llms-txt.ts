import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';

/**
 * `GET /llms.txt` (spec/sandboxes.md section 4): how an agent uses this store, in Markdown,
 * generated from the app's own OpenAPI document when first asked (the document is fixed once the
 * app is ready), so that the endpoint list and the error list cannot drift from the API. Only the
 * prose around them (what the store is, what to do about each kind of error) is written here.
 */

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  responses?: Record<string, { content?: Record<string, { example?: unknown; examples?: Record<string, { value: unknown }> }> }>;
}

/** The parts of an OpenAPI 3 document this page reads. */
export interface OpenApiDocument {
  info: { title: string; description?: string };
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** The purchase flow of the guide, step by step; each step names its operation, rendered from the document. */
const FLOW: [string | undefined, string][] = [
  ['listProducts', 'find products (`?search=keyboard`, `category_id`, `min_price`, `max_price` in dollars, `in_stock=true`, `sort_by`, `page`); note `id`, `price`, `stock`.'],
  ['createCart', 'create a cart; keep `cart_id`.'],
  ['addCartItem', 'add `{"product_id": 3, "quantity": 2}`; quantities accumulate on one line.'],
  ['getCart', 'check the lines and `total`.'],
  ['checkoutCart', 'turn the cart into an order: `order_id` and `total`, status `pending_payment`, stock reserved (released if unpaid after ORDER_TTL_SECONDS, default 15 minutes).'],
  [undefined, 'pay at the payments gateway: `POST {payments_url}/payments/orders` with `{"order_id": ..., "amount": <total>}` (optional `card_number`: 4242424242424242 pays, 4000000000000002 is declined). The gateway answers 200 `{"status": "success"}` or 402 `{"status": "failed", "message", "reason"}`, and calls this store back (POST /payments/confirm).'],
  ['getOrder', 'read the order: `paid` once the callback arrived (or `payment_failed`, `expired`, `cancelled`).'],
];

/** What to do about an error, by its message (first match), else by its status. */
const ADVICE: [RegExp, string][] = [
  [/^Cart not found/, 'the cart id is wrong or the cart expired: create a new cart (POST /cart) and add the items again.'],
  [/^Product not found|no longer exists/, 'use a product id from GET /products.'],
  [/^Order not found/, 'use the order_id that checkout answered.'],
  [/^Item not in cart/, 'the product is not in this cart: add it with POST /cart/{cart_id}/items.'],
  [/^Not enough stock/, 'lower the quantity to at most `available`, or choose another product (GET /products/{id} shows `stock`).'],
  [/^Quantity must be at least/, 'send a quantity of at least that number.'],
  [/^Cart is empty/, 'add items before checkout.'],
  [/^Order already processed/, 'the order is final; check it out again from a cart for a new order.'],
  [/^Sandbox not found/, 'create the sandbox first (POST /sandboxes), or check its id; idle sandboxes are deleted after SANDBOX_TTL_SECONDS.'],
  [/Idempotency-Key is (still in progress|currently being processed)/, 'the first request with this key is still running: retry in a moment.'],
  [/Idempotency-Key was already used/, 'use a new Idempotency-Key for a different request.'],
  [/^Missing or invalid admin key/, 'send `Authorization: Bearer <ADMIN_API_KEY>`.'],
  [/^Payments gateway unavailable/, 'the gateway did not answer: retry later.'],
  [/X-Payment-Signature/, 'only the payments gateway calls this endpoint, signed with PAYMENTS_WEBHOOK_SECRET.'],
  [/^Checkout session not found/, 'use the id that POST /checkout_sessions answered (per sandbox).'],
  [/^Checkout session is (expired|completed|canceled)/, 'the session is final: create a new one.'],
  [/^Idempotency-Key header is required/, 'send a fresh Idempotency-Key on every new POST (the same one only to retry).'],
  [/^Idempotency-Key has already been used/, 'the same key with another body: use a new key for a new request.'],
  [/^API-Version .* is not supported/, 'send API-Version 2026-01-16, or leave it out.'],
];

const BY_STATUS: Record<string, string> = {
  '400': 'the request is understood but refused by a business rule: read the message.',
  '401': 'credentials are missing or wrong.',
  '404': 'the thing named in the path does not exist.',
  '406': 'send `Accept: application/json, text/event-stream` (an MCP client does).',
  '409': 'it conflicts with what exists: read the message.',
  '413': 'send a body under 1 MiB.',
  '415': 'send `Content-Type: application/json`.',
  '422': 'a field is invalid: each issue\'s `loc` names it (e.g. `["query", "page_size"]`) and `msg` says why; fix that field.',
  '503': 'a server this one needs is down: retry later.',
};

const operations = (document: OpenApiDocument) =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ path, method: method.toUpperCase(), operation: item[method]! })));

/** The message an error example carries: the store's `detail`, the gateway's or JSON-RPC's `message`; issue lists are 422's. */
function messageOf(example: unknown): string | undefined {
  const body = example as { detail?: unknown; message?: unknown; error?: { message?: unknown } } | undefined;
  if (typeof body?.detail === 'string') return body.detail;
  if (typeof body?.message === 'string') return body.message;
  if (typeof body?.error?.message === 'string') return body.error.message;
  return undefined;
}

/** Every documented error: status → message → the operations that answer it. */
function documentedErrors(document: OpenApiDocument): Map<string, Map<string, string[]>> {
  const errors = new Map<string, Map<string, string[]>>();
  for (const { path, method, operation } of operations(document)) {
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      if (Number(status) < 400) continue;
      const media = response.content?.['application/json'];
      const examples = [...(media?.example !== undefined ? [media.example] : []), ...Object.values(media?.examples ?? {}).map((e) => e.value)];
      for (const message of examples.map(messageOf)) {
        if (message === undefined) continue;
        const messages = errors.get(status) ?? new Map<string, string[]>();
        errors.set(status, messages.set(message, [...(messages.get(message) ?? []), `${method} ${path}`]));
      }
    }
  }
  return new Map([...errors].sort(([a], [b]) => Number(a) - Number(b)));
}

/** The llms.txt text of a document. Throws if a step of the flow names an operation the document lacks. */
export function llmsText(document: OpenApiDocument): string {
  const all = operations(document);
  const byId = new Map(all.map((op) => [op.operation.operationId, op]));
  const step = ([id, text]: [string | undefined, string], i: number) => {
    if (id === undefined) return `${i + 1}. ${text}`;
    const op = byId.get(id);
    if (!op) throw new Error(`llms.txt: the flow names ${id}, which the OpenAPI document lacks`);
    return `${i + 1}. \`${op.method} ${op.path}\`: ${text}`;
  };

  const lines = [
    `# ${document.info.title}`,
    '',
    '> An e-commerce store API (catalog, carts, checkout, orders) with a bundled payments gateway, built for testing clients and AI agents: ' +
      'every store path also works under `/sandboxes/{sandbox_id}`, a private, resettable copy of the shop (POST /sandboxes). ' +
      'JSON in and out; prices and totals are dollars with at most 2 decimals; errors are `{"detail": ...}`.',
    '',
    document.info.description ?? '',
    '',
    '## Purchase flow',
    '',
    ...FLOW.map(step),
    '',
    '## Tools for agents',
    '',
    '- MCP (Model Context Protocol, Streamable HTTP): `POST /mcp` (shop tools; `?tools=read` for the read-only ones), `POST /sandboxes/{sandbox_id}/mcp` for a sandbox, `POST /mcp/admin` for sandbox administration. Over stdio: `npm run -s mcp -- --store <store_url>`.',
    ...(document.paths['/checkout_sessions']
      ? ['- Agentic Commerce Protocol checkout sessions: `POST /checkout_sessions` with `{"items": [{"id": "3", "quantity": 1}]}` and an `Idempotency-Key`, then `POST /checkout_sessions/{id}/complete` with `{"payment_data": {"token": "4242424242424242"}}`; amounts in cents; discovery at `GET /.well-known/acp.json`. The same five operations are MCP tools (`create_checkout_session`, ...) with the protocol\'s MCP binding arguments (`meta`, `id`, `payload`).']
      : []),
    '- OpenAPI document: `GET /openapi.json`; interactive docs: `/docs`.',
    '',
    '## Endpoints',
  ];
  for (const tag of [...(document.tags ?? []), { name: '', description: 'Other' }]) {
    const paths = Object.entries(document.paths).filter(([, item]) => {
      const first = METHODS.map((m) => item[m]).find(Boolean);
      return tag.name ? first?.tags?.[0] === tag.name : !document.tags?.some((t) => t.name === first?.tags?.[0]);
    });
    if (paths.length === 0) continue;
    lines.push('', `### ${tag.name || 'other'}${tag.description ? `: ${tag.description}` : ''}`, '');
    for (const [path, item] of paths) {
      const methods = METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()}: ${item[m]!.summary ?? item[m]!.operationId ?? ''}`);
      lines.push(`- \`${path}\` ${methods.join('; ')}`);
    }
  }
  lines.push('', '## Errors and what to do', '');
  for (const [status, messages] of documentedErrors(document)) {
    lines.push(`- ${status}: ${BY_STATUS[status] ?? 'read the message.'}`);
    for (const [message, where] of messages) {
      const advice = ADVICE.find(([pattern]) => pattern.test(message))?.[1];
      lines.push(`  - "${message}" (${where.length === 1 ? where[0] : `${where.length} endpoints`})${advice ? `: ${advice}` : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** GET /llms.txt, rendered from this app's OpenAPI document once, when first asked. */
export const llmsTxtRoute: FastifyPluginAsync = async (scope) => {
  let text: string | undefined;
  scope.get('/llms.txt', {
    schema: {
      operationId: 'getLlmsTxt',
      tags: ['agents'],
      summary: 'How an agent uses this store (Markdown): the purchase flow, every endpoint, the errors and what to do about each',
      response: { 200: { description: 'Markdown text', content: { 'text/markdown': { schema: Type.String() } } } },
    },
  }, async (_req, reply) => {
    text ??= llmsText(scope.swagger() as unknown as OpenApiDocument);
    return reply.type('text/markdown; charset=utf-8').send(text);
  });
};

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type ServerProcess } from './helpers/processes.js';
import { createSandbox, startPair } from './helpers/sandboxes.js';
import { shutdown } from './helpers/shop.js';
import { nodeArguments } from './helpers/spawn.js';

/**
 * The MCP server (spec/sandboxes.md section 4) through the official SDK's client, over Streamable
 * HTTP and over stdio: the tools are listed, a fresh sandbox is shopped from search to a paid
 * order, bad input and contract errors are tool errors, `?tools=read` has no write tool, and the
 * admin tools need the key. One store and gateway pair, with ADMIN_API_KEY set, serves every test.
 */
const KEY = 'mcp-test-admin-key-0123456789';
const SHOP_TOOLS = [
  'list_categories', 'search_products', 'get_product', 'get_related_products', 'list_brands', 'create_cart', 'add_to_cart',
  'update_cart_item', 'remove_from_cart', 'get_cart', 'checkout', 'pay_order', 'get_order', 'cancel_order',
  'create_checkout_session', 'get_checkout_session', 'update_checkout_session', 'complete_checkout_session', 'cancel_checkout_session',
];
const READ_TOOLS = ['list_categories', 'search_products', 'get_product', 'get_related_products', 'list_brands', 'get_cart', 'get_order', 'get_checkout_session'];
/** The `meta` of the Agentic Commerce Protocol's MCP binding. */
const META = { api_version: '2026-01-16' };

let store: ServerProcess | undefined;
let gateway: ServerProcess | undefined;
const clients: Client[] = [];

beforeAll(async () => {
  ({ stores: [store], gateway } = await startPair({ env: { ADMIN_API_KEY: KEY } }));
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await shutdown(store, gateway);
});

const admin = { authorization: `Bearer ${KEY}` };

async function connect(transport: Transport): Promise<Client> {
  const client = new Client({ name: 'store-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

const overHttp = (url: string, headers: Record<string, string> = {}) => connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));

/** A tool call's structured answer, failing the test on a tool error. */
async function use(client: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const result = await client.callTool({ name, arguments: args });
  expect(result.isError, `${name}: ${JSON.stringify(result.content)}`).toBeFalsy();
  return result.structuredContent;
}

/** The text of a tool error (failing the test if the call succeeded). */
async function toolError(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = await client.callTool({ name, arguments: args });
  expect(result.isError, `${name} should fail: ${JSON.stringify(result)}`).toBe(true);
  return (result.content as { type: string; text: string }[])[0]!.text;
}

/** The guide's purchase, by tools: search, cart, checkout, pay; returns the paid order. */
async function shop(client: Client): Promise<any> {
  const found = await use(client, 'search_products', { search: 'keyboard', in_stock: true });
  expect(found.total).toBe(1);
  const product = found.products[0];
  const { cart_id } = await use(client, 'create_cart');
  expect(await use(client, 'add_to_cart', { cart_id, product_id: product.id, quantity: 2 })).toEqual({ cart_id, product_id: product.id, quantity: 2 });
  const cart = await use(client, 'get_cart', { cart_id });
  expect(cart.total).toBe(Math.round(product.price * 200) / 100);
  const order = await use(client, 'checkout', { cart_id });
  expect(order.total).toBe(cart.total);
  const paid = await use(client, 'pay_order', { order_id: order.order_id, card_number: '4242424242424242' });
  expect(paid.status).toBe('paid');
  expect(paid.payment.status).toBe('success');
  const read = await use(client, 'get_order', { order_id: order.order_id });
  expect(read).toMatchObject({ order_id: order.order_id, status: 'paid', total: order.total });
  return read;
}

describe('MCP over Streamable HTTP', () => {
  it('lists the shop tools, each with an object input schema and a description', async () => {
    const client = await overHttp(`${store!.url}/mcp`);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(SHOP_TOOLS);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.description!.length).toBeGreaterThan(30);
    }
    // The route's own schema: the limits of GET /products are the tool's.
    const search = tools.find((t) => t.name === 'search_products')!;
    expect(search.inputSchema.properties!.page_size).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
  });

  it('shops in a fresh sandbox from search to a paid order, which the HTTP API shows there and only there', async () => {
    const sandbox = await createSandbox(store!.url, {}, admin);
    const client = await overHttp(`${sandbox.store_url}/mcp`);
    const order = await shop(client);
    expect((await call('GET', `${sandbox.store_url}/orders/${order.order_id}`)).body.status).toBe('paid');
    expect((await call('GET', `${store!.url}/orders/${order.order_id}`)).status).toBe(404);
  });

  it('answers a declined card with a tool error and the order payment_failed', async () => {
    const client = await overHttp(`${store!.url}/mcp`);
    const { cart_id } = await use(client, 'create_cart');
    await use(client, 'add_to_cart', { cart_id, product_id: 1 });
    const { order_id } = await use(client, 'checkout', { cart_id });
    const result = await client.callTool({ name: 'pay_order', arguments: { order_id, card_number: '4000000000000002' } });
    expect(result.isError).toBe(true);
    expect((result.structuredContent as any).status).toBe('payment_failed');
    expect(await toolError(client, 'pay_order', { order_id })).toBe('Order already processed (status: payment_failed)');
  });

  it('refuses invalid arguments with a tool error naming the field, and passes on the contract\'s messages', async () => {
    const client = await overHttp(`${store!.url}/mcp`);
    const { cart_id } = await use(client, 'create_cart');
    expect(await toolError(client, 'add_to_cart', { cart_id, product_id: 3, quantity: 'two' })).toMatch(/quantity: Input should be a valid integer/);
    expect(await toolError(client, 'add_to_cart', { cart_id })).toMatch(/product_id: Field required/);
    expect(await toolError(client, 'search_products', { page_size: 500 })).toMatch(/page_size: Input should be less than or equal to 100/);
    expect(await toolError(client, 'search_products', { colour: 'red' })).toMatch(/colour: Unknown argument/);
    expect(await toolError(client, 'get_cart', { cart_id: 'nope' })).toBe('Cart not found');
    expect(await toolError(client, 'add_to_cart', { cart_id, product_id: 3, quantity: 100_000 })).toMatch(/^Not enough stock for 'Mechanical Keyboard'/);
    expect(await toolError(client, 'checkout', { cart_id })).toBe('Cart is empty');
    // A path argument stays one path segment.
    expect(await toolError(client, 'get_cart', { cart_id: `${cart_id}/items` })).toBe('Cart not found');
  });

  it('serves only the read tools with ?tools=read', async () => {
    const client = await overHttp(`${store!.url}/mcp?tools=read`);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(READ_TOOLS);
    expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
    await expect(client.callTool({ name: 'create_cart', arguments: {} })).rejects.toThrow(/Unknown tool: create_cart/);
    expect((await use(client, 'list_categories')).categories.length).toBeGreaterThan(0);
  });

  it('answers an unknown sandbox 404 and GET 405, as the rest of the API', async () => {
    const unknown = await call('POST', `${store!.url}/sandboxes/no-such-box/mcp`, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(unknown).toMatchObject({ status: 404, body: { detail: 'Sandbox not found' } });
    const get = await call('GET', `${store!.url}/mcp`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});

describe('checkout-session tools (the Agentic Commerce Protocol\'s MCP binding)', () => {
  it('create, update and complete a session to a paid order; a cancelled one returns its stock', async () => {
    const sandbox = await createSandbox(store!.url, {}, admin);
    const client = await overHttp(`${sandbox.store_url}/mcp`);
    const stock = async () => (await use(client, 'get_product', { product_id: 3 })).stock;
    const before = await stock();
    const created = await use(client, 'create_checkout_session', { meta: META, payload: { items: [{ id: '3', quantity: 1 }] } });
    expect(created.status).toBe('ready_for_payment');
    const updated = await use(client, 'update_checkout_session', { meta: META, id: created.id, payload: { items: [{ id: '3', quantity: 2 }] } });
    expect(updated.line_items[0]).toMatchObject({ item: { id: '3', quantity: 2 }, unit_amount: 8999, total: 17998 });
    expect(await stock()).toBe(before - 2);
    const completed = await use(client, 'complete_checkout_session', { meta: META, id: created.id, payload: { payment_data: { token: '4242424242424242' } } });
    expect(completed.status).toBe('completed');
    expect((await use(client, 'get_order', { order_id: completed.order.id })).status).toBe('paid');
    expect((await use(client, 'get_checkout_session', { meta: META, id: created.id })).status).toBe('completed');

    const other = await use(client, 'create_checkout_session', { payload: { items: [{ id: '3', quantity: 5 }] } });
    expect(await stock()).toBe(before - 7);
    expect((await use(client, 'cancel_checkout_session', { id: other.id })).status).toBe('canceled');
    expect(await stock()).toBe(before - 2);
  });

  it('business problems are messages in the session, HTTP errors are tool errors with the protocol\'s error object', async () => {
    const client = await overHttp(`${store!.url}/mcp`);
    const short = await use(client, 'create_checkout_session', { meta: META, payload: { items: [{ id: '3', quantity: 100_000 }] } });
    expect(short.status).toBe('not_ready_for_payment');
    expect(short.messages).toContainEqual(expect.objectContaining({ type: 'error', code: 'out_of_stock', param: '$.line_items[0]' }));
    const result = await client.callTool({ name: 'get_checkout_session', arguments: { meta: META, id: 'nope' } });
    expect(result.isError).toBe(true);
    expect((result.content as { text: string }[])[0]!.text).toBe('Checkout session not found');
    expect(result.structuredContent).toMatchObject({ http_status: 404, type: 'invalid_request', code: 'session_not_found' });
    expect(await toolError(client, 'create_checkout_session', { payload: { items: [{ id: '3', quantity: 0 }] } })).toMatch(/payload\.items\.0\.quantity: Input should be greater than or equal to 1/);
    expect(await toolError(client, 'create_checkout_session', { meta: { api_version: '2025-09-29' }, payload: { items: [{ id: '3', quantity: 1 }] } }))
      .toBe('API-Version 2025-09-29 is not supported; send 2026-01-16');
  });

  it('meta.idempotency_key is the Idempotency-Key: the same call replays, another payload is idempotency_conflict', async () => {
    const client = await overHttp(`${store!.url}/mcp`);
    const meta = { ...META, idempotency_key: `mcp-test-${Date.now()}` };
    const payload = { items: [{ id: '1', quantity: 1 }] };
    const first = await use(client, 'create_checkout_session', { meta, payload });
    expect((await use(client, 'create_checkout_session', { meta, payload })).id).toBe(first.id);
    const conflict = await client.callTool({ name: 'create_checkout_session', arguments: { meta, payload: { items: [{ id: '1', quantity: 2 }] } } });
    expect(conflict).toMatchObject({ isError: true, structuredContent: { http_status: 422, code: 'idempotency_conflict' } });
  });
});

describe('MCP admin tools at /mcp/admin', () => {
  it('refuse a client without the key, or with a wrong one', async () => {
    await expect(overHttp(`${store!.url}/mcp/admin`)).rejects.toThrow(/401|Missing or invalid admin key/);
    await expect(overHttp(`${store!.url}/mcp/admin`, { authorization: 'Bearer wrong-key-0123456789' })).rejects.toThrow(/401|Missing or invalid admin key/);
  });

  it('set_faults: the sandbox\'s shop tools answer the injected faults as tool errors; a bad rule is the route\'s message', async () => {
    const client = await overHttp(`${store!.url}/mcp/admin`, admin);
    const sandbox = await createSandbox(store!.url, {}, admin);
    const shopper = await overHttp(`${sandbox.store_url}/mcp`);
    const set = await use(client, 'set_faults', { sandbox_id: sandbox.sandbox_id, rules: [{ kind: 'out_of_stock', product_id: 3 }] });
    expect(set.rules).toEqual([expect.objectContaining({ kind: 'out_of_stock', product_id: 3, fired: 0 })]);
    expect((await use(shopper, 'get_product', { product_id: 3 })).stock).toBe(0);
    const { cart_id } = await use(shopper, 'create_cart');
    expect(await toolError(shopper, 'add_to_cart', { cart_id, product_id: 3 })).toMatch(/^Not enough stock for 'Mechanical Keyboard'/);
    // A rule without match fires on every shop request: on each tool's operation, not on the MCP transport.
    await use(client, 'set_faults', { sandbox_id: sandbox.sandbox_id, rules: [{ kind: 'error', status: 503 }] });
    expect(await toolError(shopper, 'get_cart', { cart_id })).toBe('Injected fault');
    expect(await toolError(client, 'set_faults', { sandbox_id: sandbox.sandbox_id, rules: [{ kind: 'latency', ms: 10_000_000 }] })).toMatch(/^rules\[0\]\.ms must be/);
    expect(await toolError(client, 'set_faults', { sandbox_id: sandbox.sandbox_id })).toMatch(/rules: Field required/);
    expect((await use(client, 'set_faults', { sandbox_id: sandbox.sandbox_id, rules: [] })).rules).toEqual([]);
    expect((await use(shopper, 'get_cart', { cart_id })).items).toEqual([]);
  });

  it('create, read the events and state of, snapshot, advance the clock of, reset and restore a sandbox with the key', async () => {
    const client = await overHttp(`${store!.url}/mcp/admin`, admin);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['create_sandbox', 'reset_sandbox', 'snapshot', 'restore', 'advance_clock', 'set_faults', 'get_events', 'get_state']);
    const created = await use(client, 'create_sandbox', { now: '2026-01-01T12:00:00Z', seed: 7 });
    const id = created.sandbox_id;
    const shopper = await overHttp(`${created.store_url}/mcp`);
    const { cart_id } = await use(shopper, 'create_cart');
    const { events } = await use(client, 'get_events', { sandbox_id: id });
    expect(events).toContainEqual(expect.objectContaining({ source: 'store', type: 'cart.created', data: { cart_id } }));
    // Nothing changed since (request events of the MCP calls themselves may still arrive: they are written after the answer).
    expect((await use(client, 'get_events', { sandbox_id: id, after: events.at(-1).seq })).events.filter((e: { type: string }) => e.type !== 'request')).toEqual([]);
    expect(await use(client, 'snapshot', { sandbox_id: id, name: 'with-cart' })).toMatchObject({ name: 'with-cart' });
    expect(await use(client, 'advance_clock', { sandbox_id: id, advance_seconds: 60 })).toEqual({ now: '2026-01-01T12:01:00.000Z' });
    expect(await toolError(client, 'advance_clock', { sandbox_id: id, advance_seconds: -1 })).toMatch(/advance_seconds: Input should be greater than or equal to 0/);
    const before = await use(client, 'get_state', { sandbox_id: id });
    expect(before.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(before.state.carts).toHaveLength(1);
    await use(client, 'reset_sandbox', { sandbox_id: id });
    expect((await use(client, 'get_state', { sandbox_id: id })).state.carts).toEqual([]);
    expect(await toolError(shopper, 'get_cart', { cart_id })).toBe('Cart not found');
    const restored = await use(client, 'restore', { sandbox_id: id, name: 'with-cart' });
    expect(restored.clock.now).toBe('2026-01-01T12:00:00.000Z');
    expect((await use(shopper, 'get_cart', { cart_id })).items).toEqual([]);
    expect(await toolError(client, 'reset_sandbox', { sandbox_id: 'no-such-box' })).toBe('Sandbox not found');
  });
});

describe('MCP over stdio', () => {
  it('lists the tools and buys in a fresh sandbox through the store-mcp entry', async () => {
    const sandbox = await createSandbox(store!.url, {}, admin);
    const [command, ...entry] = [process.execPath, ...nodeArguments('src/mcp/stdio.ts')];
    const transport = new StdioClientTransport({
      command: command!,
      args: [...entry, '--store', sandbox.store_url, '--payments', sandbox.payments_url],
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = await connect(transport);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(SHOP_TOOLS);
    const order = await shop(client);
    expect((await call('GET', `${sandbox.store_url}/orders/${order.order_id}`)).body.status).toBe('paid');
    expect(await toolError(client, 'get_order', { order_id: 'nope' })).toBe('Order not found');
    expect(stderr).toBe('');
  });
});

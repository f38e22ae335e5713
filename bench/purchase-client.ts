import { Agent, request } from 'undici';

/**
 * One purchase client process of the benchmark: runs `loops` concurrent purchase loops (cart,
 * add, checkout, pay through the gateway, which calls the store back) until the deadline, then
 * prints one JSON line `{"latencies": [ms, ...]}`. Several of these run at once so that the
 * load generator is not what limits the figure.
 *   argv: storeUrl gatewayUrl productId loops durationMs
 */
const [storeUrl, gatewayUrl, productId, loops, durationMs] = process.argv.slice(2);
const dispatcher = new Agent({ connections: Number(loops) * 2 });

async function post(url: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await request(url, {
    method: 'POST',
    dispatcher,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.statusCode, json: (await response.body.json()) as Record<string, unknown> };
}

async function purchase(): Promise<void> {
  const cart = await post(`${storeUrl}/cart`);
  const added = await post(`${storeUrl}/cart/${String(cart.json.cart_id)}/items`, { product_id: Number(productId), quantity: 1 });
  if (added.status !== 200) throw new Error(`add failed: ${JSON.stringify(added.json)}`);
  const order = await post(`${storeUrl}/cart/${String(cart.json.cart_id)}/checkout`);
  if (order.status !== 200) throw new Error(`checkout failed: ${JSON.stringify(order.json)}`);
  const paid = await post(`${gatewayUrl}/payments/orders`, { order_id: order.json.order_id, amount: order.json.total });
  if (paid.status !== 200 || paid.json.shop_notified !== true) throw new Error(`payment failed: ${JSON.stringify(paid.json)}`);
}

const deadline = Date.now() + Number(durationMs);
const latencies: number[] = [];
await Promise.all(
  Array.from({ length: Number(loops) }, async () => {
    while (Date.now() < deadline) {
      const started = performance.now();
      await purchase();
      latencies.push(performance.now() - started);
    }
  }),
);
process.stdout.write(`${JSON.stringify({ latencies })}\n`);
await dispatcher.close();

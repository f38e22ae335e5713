import { setTimeout as sleep } from 'node:timers/promises';
import { Type } from '@sinclair/typebox';
import { AddItemBody, CartId, CartLine, SetQuantityBody } from '../cart/routes.js';
import { BrandsQuery, ProductIdParams, ProductsQuery, RelatedQuery } from '../catalog/routes.js';
import { OrderPaymentBody } from '../gateway/schemas.js';
import { CheckoutParams, OrderId } from '../orders/routes.js';
import { errorMessage, failure, fillPath, inputOf, operation, type Channel, type Outcome, type Tool } from './tools.js';

/**
 * The shop tools of spec/sandboxes.md section 4, one per operation of the store's HTTP contract
 * (plus pay_order, which pays through the gateway as the guide's step 4 does). Every tool runs
 * against the shop its MCP endpoint serves: the root at /mcp, a sandbox at /sandboxes/{id}/mcp.
 */

const MONEY = 'Prices and totals are dollars as JSON numbers with at most 2 decimals (59.99).';

const listCategories = operation({
  name: 'list_categories', title: 'List categories', access: 'read', method: 'GET', path: '/categories', wrap: 'categories',
  description: 'Every product category ({id, name, slug}) in id order. Use an id as category_id in search_products or list_brands.',
  next: (v) => `${(v.categories as unknown[]).length} categories. Next: search_products with category_id.`,
});

const searchProducts = operation({
  name: 'search_products', title: 'Search products', access: 'read', method: 'GET', path: '/products', query: ProductsQuery,
  description:
    'Search, filter, sort and page the catalog (every filter of GET /products; filters combine with AND). ' +
    `${MONEY} min_price/max_price are inclusive dollars; min_rating is 0-5; in_stock=true keeps stock > 0; ` +
    'search is a case-insensitive substring of name or description (max 200 chars); sort_by price|rating|name, order asc|desc; ' +
    'page starts at 1, page_size 1-100 (default 10). `total` counts all matches. `stock` is what can still be bought. ' +
    'Next: get_product for details, or create_cart then add_to_cart.',
  next: (v) => `${String(v.total)} matching products, page ${String(v.page)}. Next: get_product, or create_cart and add_to_cart.`,
});

const getProduct = operation({
  name: 'get_product', title: 'Get a product', access: 'read', method: 'GET', path: '/products/:product_id', params: ProductIdParams,
  description: `One product with its category, price, rating and stock (units still available). ${MONEY} Unknown id: "Product not found".`,
  next: (v) => `${String(v.name)}: ${String(v.price)} dollars, ${String(v.stock)} in stock. Next: add_to_cart.`,
});

const getRelated = operation({
  name: 'get_related_products', title: 'Related products', access: 'read', method: 'GET', path: '/products/:product_id/related',
  params: ProductIdParams, query: RelatedQuery, wrap: 'products',
  description: `Other products of the same category, in id order (limit 1-20, default 4). ${MONEY}`,
  next: (v) => `${(v.products as unknown[]).length} related products.`,
});

const listBrands = operation({
  name: 'list_brands', title: 'List brands', access: 'read', method: 'GET', path: '/brands', query: BrandsQuery, wrap: 'brands',
  description: 'Sorted distinct brand names, optionally of one category. Use one as `brand` in search_products (case-insensitive).',
  next: (v) => `${(v.brands as unknown[]).length} brands.`,
});

const createCart = operation({
  name: 'create_cart', title: 'Create a cart', access: 'write', method: 'POST', path: '/cart',
  description: 'Creates an empty cart and returns its cart_id. Keep it: every cart tool needs it. Carts idle for 7 days expire ("Cart not found": create a new one).',
  next: (v) => `Cart ${String(v.cart_id)} created. Next: add_to_cart with this cart_id.`,
});

const addToCart = operation({
  name: 'add_to_cart', title: 'Add to cart', access: 'write', method: 'POST', path: '/cart/:cart_id/items', params: CartId, body: AddItemBody,
  description:
    'Adds quantity (default 1, at least 1) of a product to the cart; quantities accumulate on the same line. ' +
    'Fails with "Not enough stock for ..." when the line would exceed the stock: reduce the quantity. Next: get_cart, then checkout.',
  next: (v) => `Line now ${String(v.quantity)} × product ${String(v.product_id)}. Next: get_cart or checkout.`,
});

const updateCartItem = operation({
  name: 'update_cart_item', title: 'Set a cart line quantity', access: 'write', method: 'PATCH', path: '/cart/:cart_id/items/:product_id',
  params: CartLine, body: SetQuantityBody,
  description: "Sets a line's total quantity (0 removes the line). The product must already be in the cart (else \"Item not in cart\"; use add_to_cart).",
  next: (v) => `Line now ${String(v.quantity)} × product ${String(v.product_id)}.`,
});

const removeFromCart = operation({
  name: 'remove_from_cart', title: 'Remove from cart', access: 'write', method: 'DELETE', path: '/cart/:cart_id/items/:product_id', params: CartLine,
  description: 'Removes a product line from the cart.',
  next: (v) => `Product ${String(v.removed_product_id)} removed.`,
});

const getCart = operation({
  name: 'get_cart', title: 'View a cart', access: 'read', method: 'GET', path: '/cart/:cart_id', params: CartId,
  description: `The cart's lines (product_id, name, price, quantity, line_total) and total. ${MONEY} Next: checkout.`,
  next: (v) => `Cart total ${String(v.total)} dollars, ${(v.items as unknown[]).length} lines. Next: checkout.`,
});

const checkout = operation({
  name: 'checkout', title: 'Check out a cart', access: 'write', method: 'POST', path: '/cart/:cart_id/checkout', params: CheckoutParams,
  description:
    'Turns the cart into an order with status pending_payment and reserves its stock (all lines or none). ' +
    `Returns order_id and total (${MONEY}). The order expires unpaid after 15 minutes by default, returning the stock. ` +
    'Errors: "Cart is empty" (add_to_cart first), "Not enough stock for ..." (reduce the quantity). Next: pay_order with the order_id.',
  next: (v) => `Order ${String(v.order_id)} pending payment, total ${String(v.total)} dollars. Next: pay_order with this order_id.`,
});

const getOrder = operation({
  name: 'get_order', title: 'Get an order', access: 'read', method: 'GET', path: '/orders/:order_id', params: OrderId,
  description:
    `An order: items, total (${MONEY}) and status: pending_payment → paid | payment_failed | expired | cancelled; paid → refunded. ` +
    'payment_id, paid_at and reason appear once known.',
  next: (v) => `Order ${String(v.order_id)} is ${String(v.status)}.`,
});

const cancelOrder = operation({
  name: 'cancel_order', title: 'Cancel an order', access: 'write', method: 'POST', path: '/orders/:order_id/cancel', params: OrderId,
  description: 'Cancels a pending_payment order and returns its stock. A paid or otherwise final order cannot be cancelled ("Order already processed (status: ...)").',
  next: (v) => `Order ${String(v.order_id)} is ${String(v.status)}.`,
});

/** How long pay_order waits for the gateway's callback to settle the order (a delayed callback fault can hold it back). */
const SETTLE_MS = 5000;
const POLL_MS = 100;

/** GETs the order until it leaves pending_payment or SETTLE_MS pass; the last answer. */
async function settled(channel: Channel, path: string) {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const answer = await channel.store({ method: 'GET', path });
    const status = (answer.body as { status?: string } | undefined)?.status;
    if (answer.status !== 200 || status !== 'pending_payment' || Date.now() >= deadline) return answer;
    await sleep(POLL_MS);
  }
}

const payOrder: Tool = {
  name: 'pay_order',
  title: 'Pay an order',
  access: 'write',
  description:
    'Pays a pending_payment order through the payments gateway of the same shop (POST /payments/orders with the order\'s total), ' +
    'waits up to 5 s for the gateway\'s callback and returns the order\'s final status (paid, or payment_failed) with the payment. ' +
    'card_number is optional; test cards: 4242424242424242 pays, 4000000000000002 is declined, 4000000000009995 insufficient funds, ' +
    '4000000000000119 processing error. A failed payment leaves the order payment_failed: checkout the cart again to retry.',
  input: inputOf(OrderId, Type.Pick(OrderPaymentBody, ['card_number'])),
  async run(args, channel): Promise<Outcome> {
    const path = fillPath('/orders/:order_id', args);
    const order = await channel.store({ method: 'GET', path });
    if (order.status !== 200) return failure(order);
    const { order_id, total, status } = order.body as { order_id: string; total: number; status: string };
    if (status !== 'pending_payment') return { ok: false, message: `Order already processed (status: ${status})`, value: { order: order.body as Record<string, unknown> } };
    const payment = await channel.gateway('/payments/orders', { order_id, amount: total, ...(args.card_number !== undefined ? { card_number: args.card_number } : {}) });
    const final = await settled(channel, path);
    const value = { status: (final.body as { status?: string } | undefined)?.status ?? null, order: final.body, payment: payment.body ?? null };
    if (payment.status >= 400) return { ok: false, message: errorMessage(payment), value };
    const text = value.status === 'pending_payment'
      ? `Payment accepted; order ${order_id} is still pending_payment (callback not yet delivered). Next: get_order later.`
      : `Order ${order_id} is ${String(value.status)}.`;
    return { ok: true, value, text };
  },
};

/** The shop tools in the order an agent uses them. */
export const shopTools: Tool[] = [
  listCategories, searchProducts, getProduct, getRelated, listBrands,
  createCart, addToCart, updateCartItem, removeFromCart, getCart,
  checkout, payOrder, getOrder, cancelOrder,
];

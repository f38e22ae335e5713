import { inventory } from '../catalog/inventory.js';
import { isStorableId } from '../catalog/model.js';
import { cartRepository as carts } from '../cart/repository.js';
import { orderRepository as orders } from '../orders/repository.js';
import type { Shop, ShopTx } from '../sandboxes/shop.js';
import { ok, type Result } from '../shared/result.js';
import { acpFail, type AcpFailure } from './errors.js';
import { errorMessage, type Item, type Message, type SessionLine } from './model.js';

/** Pricing runs again when stock moved between its reads and its checkout, at most this many times. */
const PRICING_ATTEMPTS = 3;
const STOCK_MOVED = 'stock_changed';
const stockMoved = () => acpFail(409, STOCK_MOVED, 'Stock changed while the session was being priced; repeat the request');

/** What one pricing of a session's items produced, inside the transaction that writes it. */
export interface Pricing {
  cart_id: string;
  order_id: string | null;
  lines: SessionLine[];
  messages: Message[];
  status: 'ready_for_payment' | 'not_ready_for_payment';
  /** The order's deadline, or (no order) the shop's clock plus the order TTL. */
  expires_at: number;
}

/** The position of the first item naming a product already named before it, if any. */
export function repeatedItem(items: Item[]): number | undefined {
  const seen = new Set<string>();
  for (const [index, item] of items.entries()) {
    if (seen.has(item.id)) return index;
    seen.add(item.id);
  }
  return undefined;
}

/** The 400 of a request listing one product twice (a cart has one line per product). */
export const repeatedItemFailure = (index: number) =>
  acpFail(400, 'invalid', `$.items[${index}].id names a product already listed: give each product once, with its total quantity`, `$.items[${index}].id`);

/** A product id given as text: decimal digits naming an integer a product id column can hold. */
function productIdOf(id: string): number | undefined {
  if (!/^\d{1,10}$/.test(id)) return undefined;
  const value = Number(id);
  return isStorableId(value) ? value : undefined;
}

/** Runs a pricing transaction of the shop, again when stock moved between its reads and its checkout. */
export async function withPricing<T>(shop: Shop, fn: (tx: ShopTx) => Promise<Result<T>>): Promise<Result<T>> {
  for (let attempt = 1; ; attempt++) {
    const result = await shop.transact(fn);
    if (result.ok || attempt === PRICING_ATTEMPTS || (result as AcpFailure).acp?.error.code !== STOCK_MOVED) return result;
  }
}

/**
 * Prices `items` into the session's cart (emptied; a new one when it has none or it was swept)
 * and, when every item can be sold, checks the cart out into a pending order whose hold reserves
 * the stock (OrderService.checkoutIn, inside the caller's transaction). Each unknown product or
 * shortfall is an error message naming its line (`$.line_items[i]`, the position of items[i]);
 * `first` go before them (a declined payment).
 */
export async function priceItems(shop: Shop, tx: ShopTx, cartId: string | null, items: Item[], first: Message[] = []): Promise<Result<Pricing>> {
  const { db } = tx;
  const now = shop.clock.now();
  const lines: SessionLine[] = [];
  const messages = [...first];
  let problems = 0;
  for (const [index, item] of items.entries()) {
    const productId = productIdOf(item.id);
    const product = productId === undefined ? undefined : await inventory.available(db, productId);
    const param = `$.line_items[${index}]`;
    if (productId === undefined || !product) {
      lines.push({ ...item, product_id: null, name: null, unit_amount: 0 });
      messages.push(errorMessage('invalid', `No product has the id '${item.id}': use the id of a product from GET /products, as a string.`, 'recoverable', param));
      problems++;
      continue;
    }
    lines.push({ ...item, product_id: productId, name: product.name, unit_amount: product.price_cents });
    if (product.stock < item.quantity) {
      const content = product.stock === 0
        ? `'${product.name}' is out of stock: remove it from the items.`
        : `Only ${product.stock} of '${product.name}' left (requested ${item.quantity}): lower the quantity or remove the item.`;
      messages.push(errorMessage('out_of_stock', content, 'recoverable', param));
      problems++;
    }
  }

  let cart = cartId;
  if (cart !== null && (await carts.touchLive(db, cart, now, shop.carts.idleSince(now)))) {
    await carts.clearLines(db, cart);
  } else {
    cart = await tx.ids.cart();
    await carts.insert(db, cart, now);
  }
  for (const line of lines) if (line.product_id !== null) await carts.setLine(db, cart, line.product_id, line.quantity);

  const ttl = shop.settings.orderTtlMs;
  if (problems > 0) return ok({ cart_id: cart, order_id: null, lines, messages, status: 'not_ready_for_payment', expires_at: now + ttl });
  const order = await shop.orders.checkoutIn(tx, cart);
  if (!order.ok) return stockMoved();
  const placed = await orders.find(db, order.value.order_id);
  return ok({ cart_id: cart, order_id: order.value.order_id, lines, messages, status: 'ready_for_payment', expires_at: placed?.expires_at ?? now + ttl });
}

/** The session columns a pricing sets. */
export const pricedColumns = (pricing: Pricing) => ({
  status: pricing.status,
  cart_id: pricing.cart_id,
  order_id: pricing.order_id,
  lines: JSON.stringify(pricing.lines),
  messages: JSON.stringify(pricing.messages),
  expires_at: pricing.expires_at,
});

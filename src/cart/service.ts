import { notEnoughStock } from '../catalog/inventory.js';
import { isStorableId } from '../catalog/model.js';
import type { Shop } from '../sandboxes/shop.js';
import { toAmount } from '../shared/money.js';
import { fail, ok, type Result } from '../shared/result.js';
import { cartRepository as carts } from './repository.js';
import { recordEvent } from '../events/recorder.js';

export interface CartView {
  cart_id: string;
  items: { product_id: number; name: string; price: number; quantity: number; line_total: number }[];
  total: number;
}

export interface CartLineChange {
  cart_id: string;
  product_id: number;
  quantity: number;
}

export const cartNotFound = () => fail('not_found', 'Cart not found');

export class CartService {
  constructor(
    private readonly shop: Shop,
    private readonly ttlMs: number,
    /** Returns stock held by orders past their deadline, so that an add never counts an expired hold. */
    private readonly releaseExpiredHolds: () => Promise<unknown>,
  ) {}

  /** Carts idle since before this instant (the shop's clock) are expired. */
  idleSince(now = this.shop.clock.now()): number {
    return now - this.ttlMs;
  }

  /** A new empty cart (one transaction: a seeded sandbox takes its id from the counter in it). */
  create(): Promise<Result<{ cart_id: string }>> {
    return this.shop.transact(async ({ db, ids }) => {
      const id = await ids.cart();
      const now = this.shop.clock.now();
      await carts.insert(db, id, now);
      await recordEvent(db, now, 'cart.created', { cart_id: id });
      return ok({ cart_id: id });
    });
  }

  async view(cartId: string): Promise<Result<CartView>> {
    const db = this.shop.db;
    if (!(await carts.live(db, cartId, this.idleSince()))) return cartNotFound();
    let totalCents = 0;
    const items: CartView['items'] = [];
    for (const line of await carts.lines(db, cartId)) {
      // A product removed from the catalog since it was added cannot be priced; checkout reports it.
      if (line.name === null || line.price_cents === null) continue;
      const lineCents = line.price_cents * line.quantity;
      totalCents += lineCents;
      items.push({
        product_id: line.product_id,
        name: line.name,
        price: toAmount(line.price_cents),
        quantity: line.quantity,
        line_total: toAmount(lineCents),
      });
    }
    return ok({ cart_id: cartId, items, total: toAmount(totalCents) });
  }

  /** Adds to a line: the new quantity is the old one plus `quantity`. */
  addItem(cartId: string, productId: number, quantity: number): Promise<Result<CartLineChange>> {
    return this.changeLine(cartId, productId, quantity, 1, (current) => (current ?? 0) + quantity);
  }

  /** Sets a line to `quantity`; 0 removes it. */
  setItem(cartId: string, productId: number, quantity: number): Promise<Result<CartLineChange>> {
    return this.changeLine(cartId, productId, quantity, 0, () => quantity);
  }

  private async changeLine(
    cartId: string,
    productId: number,
    quantity: number,
    minimum: number,
    next: (current: number | undefined) => number,
  ): Promise<Result<CartLineChange>> {
    await this.releaseExpiredHolds();
    // An out_of_stock fault fires (and is counted) before the work: the refusal below rolls back.
    const faulted = quantity > 0 && (await this.shop.faults.fireFirst(undefined, 'out_of_stock', { product_id: productId, cart_id: cartId }, (r) => r.product_id === productId)) !== undefined;
    return this.shop.transact(async ({ db: trx }) => {
      const now = this.shop.clock.now();
      // Touched first: a failure below rolls the touch back with everything else.
      if (!(await carts.touchLive(trx, cartId, now, this.idleSince(now)))) return cartNotFound();
      const product = isStorableId(productId) ? await carts.productLine(trx, cartId, productId) : undefined;
      if (!product) return fail('not_found', 'Product not found');
      if (quantity < minimum) return fail('rejected', `Quantity must be at least ${minimum}`);
      const current = product.quantity ?? undefined;
      const wanted = next(current);
      if (wanted === 0) {
        if (current === undefined) return fail('not_found', 'Item not in cart');
        await carts.removeLine(trx, cartId, productId);
        await recordEvent(trx, now, 'cart.item_removed', { cart_id: cartId, product_id: productId });
      } else {
        // The cart may not hold more than can still be sold; checkout re-checks under reservation.
        const stock = faulted ? 0 : product.stock;
        if (wanted > stock) return notEnoughStock(product.name, wanted, stock);
        await carts.setLine(trx, cartId, productId, wanted);
        // Adding to a line already in the cart is still an add: the event says what the client did.
        const type = minimum === 1 ? 'cart.item_added' : 'cart.item_updated';
        await recordEvent(trx, now, type, { cart_id: cartId, product_id: productId, quantity: wanted, ...(type === 'cart.item_added' ? { added: quantity } : {}) });
      }
      return ok({ cart_id: cartId, product_id: productId, quantity: wanted });
    });
  }

  removeItem(cartId: string, productId: number): Promise<Result<{ cart_id: string; removed_product_id: number }>> {
    return this.shop.transact(async ({ db: trx }) => {
      const now = this.shop.clock.now();
      if (!(await carts.touchLive(trx, cartId, now, this.idleSince(now)))) return cartNotFound();
      if (!isStorableId(productId) || !(await carts.removeLine(trx, cartId, productId))) {
        return fail('not_found', 'Item not in cart');
      }
      await recordEvent(trx, now, 'cart.item_removed', { cart_id: cartId, product_id: productId });
      return ok({ cart_id: cartId, removed_product_id: productId });
    });
  }

  /** Deletes this shop's carts past their idle TTL; returns how many. */
  sweep(): Promise<number> {
    return carts.deleteIdle(this.shop.db, this.idleSince());
  }
}

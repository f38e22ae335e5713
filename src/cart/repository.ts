import { sql } from 'kysely';
import type { CartRow } from '../db/schema.js';
import type { ShopDb } from '../sandboxes/shop.js';

export interface CartLine {
  product_id: number;
  quantity: number;
  /** null when the product has been removed from the catalog since it was added. */
  name: string | null;
  price_cents: number | null;
}

/**
 * Cart data access; every method takes the shop handle it runs on (a connection or the caller's
 * transaction, and the sandbox key every statement filters on).
 */
export const cartRepository = {
  insert(db: ShopDb, id: string, now: number): Promise<unknown> {
    return db.q.insertInto('carts').values({ sandbox: db.key, id, created_at: now, updated_at: now }).execute();
  },

  /** The cart unless it has been idle longer than the TTL. */
  live(db: ShopDb, id: string, idleSince: number): Promise<CartRow | undefined> {
    return db.q
      .selectFrom('carts')
      .select(['id', 'created_at', 'updated_at'])
      .where('sandbox', '=', db.key)
      .where('id', '=', id)
      .where('updated_at', '>=', idleSince)
      .executeTakeFirst();
  },

  /**
   * Marks a live cart used now, in one statement: false (and nothing changed) when the cart does
   * not exist or has been idle longer than the TTL.
   */
  async touchLive(db: ShopDb, id: string, now: number, idleSince: number): Promise<boolean> {
    const result = await db.q
      .updateTable('carts')
      .set({ updated_at: now })
      .where('sandbox', '=', db.key)
      .where('id', '=', id)
      .where('updated_at', '>=', idleSince)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  lines(db: ShopDb, cartId: string): Promise<CartLine[]> {
    return db.q
      .selectFrom('cart_items as ci')
      .leftJoin('products as p', (join) => join.onRef('p.sandbox', '=', 'ci.sandbox').onRef('p.id', '=', 'ci.product_id'))
      .select(['ci.product_id', 'ci.quantity', 'p.name', 'p.price_cents'])
      .where('ci.sandbox', '=', db.key)
      .where('ci.cart_id', '=', cartId)
      .orderBy('ci.line_no')
      .execute();
  },

  /** The product's name and stock with the quantity of it already in the cart (null: no line), in one read. */
  productLine(db: ShopDb, cartId: string, productId: number): Promise<{ name: string; stock: number; quantity: number | null } | undefined> {
    return db.q
      .selectFrom('products as p')
      .leftJoin('cart_items as ci', (join) => join.onRef('ci.sandbox', '=', 'p.sandbox').on('ci.cart_id', '=', cartId).onRef('ci.product_id', '=', 'p.id'))
      .select(['p.name', 'p.stock', 'ci.quantity'])
      .where('p.sandbox', '=', db.key)
      .where('p.id', '=', productId)
      .executeTakeFirst();
  },

  /** Sets a line's quantity in one statement; a new line goes after the existing ones. */
  async setLine(db: ShopDb, cartId: string, productId: number, quantity: number): Promise<void> {
    await sql`insert into cart_items (sandbox, cart_id, product_id, quantity, line_no)
      select ${db.key}, ${cartId}, ${productId}, ${quantity}, coalesce(max(line_no), 0) + 1 from cart_items where sandbox = ${db.key} and cart_id = ${cartId}
      on conflict (sandbox, cart_id, product_id) do update set quantity = excluded.quantity`.execute(db.q);
  },

  async removeLine(db: ShopDb, cartId: string, productId: number): Promise<boolean> {
    const result = await db.q
      .deleteFrom('cart_items')
      .where('sandbox', '=', db.key)
      .where('cart_id', '=', cartId)
      .where('product_id', '=', productId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  },

  /** Empties a cart (its lines go; the cart stays). */
  clearLines(db: ShopDb, cartId: string): Promise<unknown> {
    return db.q.deleteFrom('cart_items').where('sandbox', '=', db.key).where('cart_id', '=', cartId).execute();
  },

  delete(db: ShopDb, cartId: string): Promise<unknown> {
    return db.q.deleteFrom('carts').where('sandbox', '=', db.key).where('id', '=', cartId).execute();
  },

  /** Deletes this sandbox's carts idle since before the cutoff (their lines go with them). */
  async deleteIdle(db: ShopDb, idleSince: number): Promise<number> {
    const result = await db.q.deleteFrom('carts').where('sandbox', '=', db.key).where('updated_at', '<', idleSince).executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};

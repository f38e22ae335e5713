import { sql, type Kysely } from 'kysely';
import type { CartRow, StoreSchema } from '../db/schema.js';

export interface CartLine {
  product_id: number;
  quantity: number;
  /** null when the product has been removed from the catalog since it was added. */
  name: string | null;
  price_cents: number | null;
}

/** Cart data access; every method takes the handle it runs on, so it joins the caller's transaction. */
export const cartRepository = {
  insert(db: Kysely<StoreSchema>, id: string, now: number): Promise<unknown> {
    return db.insertInto('carts').values({ id, created_at: now, updated_at: now }).execute();
  },

  /** The cart unless it has been idle longer than the TTL. */
  live(db: Kysely<StoreSchema>, id: string, idleSince: number): Promise<CartRow | undefined> {
    return db.selectFrom('carts').selectAll().where('id', '=', id).where('updated_at', '>=', idleSince).executeTakeFirst();
  },

  /**
   * Marks a live cart used now, in one statement: false (and nothing changed) when the cart does
   * not exist or has been idle longer than the TTL.
   */
  async touchLive(db: Kysely<StoreSchema>, id: string, now: number, idleSince: number): Promise<boolean> {
    const result = await db.updateTable('carts').set({ updated_at: now }).where('id', '=', id).where('updated_at', '>=', idleSince).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  lines(db: Kysely<StoreSchema>, cartId: string): Promise<CartLine[]> {
    return db
      .selectFrom('cart_items as ci')
      .leftJoin('products as p', 'p.id', 'ci.product_id')
      .select(['ci.product_id', 'ci.quantity', 'p.name', 'p.price_cents'])
      .where('ci.cart_id', '=', cartId)
      .orderBy('ci.line_no')
      .execute();
  },

  /** The product's name and stock with the quantity of it already in the cart (null: no line), in one read. */
  productLine(db: Kysely<StoreSchema>, cartId: string, productId: number): Promise<{ name: string; stock: number; quantity: number | null } | undefined> {
    return db
      .selectFrom('products as p')
      .leftJoin('cart_items as ci', (join) => join.on('ci.cart_id', '=', cartId).onRef('ci.product_id', '=', 'p.id'))
      .select(['p.name', 'p.stock', 'ci.quantity'])
      .where('p.id', '=', productId)
      .executeTakeFirst();
  },

  /** Sets a line's quantity in one statement; a new line goes after the existing ones. */
  async setLine(db: Kysely<StoreSchema>, cartId: string, productId: number, quantity: number): Promise<void> {
    await sql`insert into cart_items (cart_id, product_id, quantity, line_no)
      select ${cartId}, ${productId}, ${quantity}, coalesce(max(line_no), 0) + 1 from cart_items where cart_id = ${cartId}
      on conflict (cart_id, product_id) do update set quantity = excluded.quantity`.execute(db);
  },

  async removeLine(db: Kysely<StoreSchema>, cartId: string, productId: number): Promise<boolean> {
    const result = await db.deleteFrom('cart_items').where('cart_id', '=', cartId).where('product_id', '=', productId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  },

  delete(db: Kysely<StoreSchema>, cartId: string): Promise<unknown> {
    return db.deleteFrom('carts').where('id', '=', cartId).execute();
  },

  /** Deletes carts idle since before the cutoff (their lines go with them). */
  async deleteIdle(db: Kysely<StoreSchema>, idleSince: number): Promise<number> {
    const result = await db.deleteFrom('carts').where('updated_at', '<', idleSince).executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};

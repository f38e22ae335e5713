import type { Kysely } from 'kysely';
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

  touch(db: Kysely<StoreSchema>, id: string, now: number): Promise<unknown> {
    return db.updateTable('carts').set({ updated_at: now }).where('id', '=', id).execute();
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

  async quantity(db: Kysely<StoreSchema>, cartId: string, productId: number): Promise<number | undefined> {
    const row = await db
      .selectFrom('cart_items')
      .select('quantity')
      .where('cart_id', '=', cartId)
      .where('product_id', '=', productId)
      .executeTakeFirst();
    return row?.quantity;
  },

  /** Sets a line's quantity, appending the line after the existing ones if it is new. */
  async setLine(db: Kysely<StoreSchema>, cartId: string, productId: number, quantity: number, isNew: boolean): Promise<void> {
    if (!isNew) {
      await db.updateTable('cart_items').set({ quantity }).where('cart_id', '=', cartId).where('product_id', '=', productId).execute();
      return;
    }
    const last = await db
      .selectFrom('cart_items')
      .select((eb) => eb.fn.max('line_no').as('line_no'))
      .where('cart_id', '=', cartId)
      .executeTakeFirst();
    const lineNo = Number(last?.line_no ?? 0) + 1;
    await db.insertInto('cart_items').values({ cart_id: cartId, product_id: productId, quantity, line_no: lineNo }).execute();
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

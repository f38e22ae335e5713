import { sql } from 'kysely';
import type { ShopDb } from '../sandboxes/shop.js';
import { fail, type Failure } from '../shared/result.js';

/**
 * Stock is the quantity still available to sell. Checkout takes units out with a conditional
 * update (never below zero, whatever other transactions or processes do at the same time);
 * a failed, expired or cancelled order puts them back.
 */
export const notEnoughStock = (name: string, requested: number, available: number): Failure =>
  fail('rejected', `Not enough stock for '${name}' (requested ${requested}, available ${available})`);

export const inventory = {
  /** Takes `quantity` units if that many are available; false (and nothing changed) otherwise. */
  async reserve(db: ShopDb, productId: number, quantity: number): Promise<boolean> {
    const result = await db.q
      .updateTable('products')
      .set({ stock: sql`stock - ${quantity}` })
      .where('sandbox', '=', db.key)
      .where('id', '=', productId)
      .where('stock', '>=', quantity)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  async release(db: ShopDb, productId: number, quantity: number): Promise<void> {
    await db.q.updateTable('products').set({ stock: sql`stock + ${quantity}` }).where('sandbox', '=', db.key).where('id', '=', productId).execute();
  },

  /** The product's name, price (cents) and the stock still available to sell. */
  async available(db: ShopDb, productId: number): Promise<{ name: string; price_cents: number; stock: number } | undefined> {
    return db.q.selectFrom('products').select(['name', 'price_cents', 'stock']).where('sandbox', '=', db.key).where('id', '=', productId).executeTakeFirst();
  },
};

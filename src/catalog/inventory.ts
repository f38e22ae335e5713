import { sql, type Kysely } from 'kysely';
import { prepare } from '../db/prepared.js';
import type { StoreSchema } from '../db/schema.js';
import type { ShopDb } from '../sandboxes/shop.js';
import { fail, type Failure } from '../shared/result.js';

/**
 * Stock is the quantity still available to sell. Checkout takes units out with a conditional
 * update (never below zero, whatever other transactions or processes do at the same time);
 * a failed, expired or cancelled order puts them back.
 */
export const notEnoughStock = (name: string, requested: number, available: number): Failure =>
  fail('rejected', `Not enough stock for '${name}' (requested ${requested}, available ${available})`);

type Q = Kysely<StoreSchema>;
type Units = { key: number; productId: number; quantity: number };

/** Compiled once (db/prepared.ts): checkout, payment and expiry run them. */
const statements = {
  reserve: prepare((db: Q, p: Units) =>
    db.updateTable('products').set({ stock: sql<number>`stock - ${p.quantity}` }).where('sandbox', '=', p.key).where('id', '=', p.productId).where('stock', '>=', p.quantity)),
  release: prepare((db: Q, p: Units) => db.updateTable('products').set({ stock: sql<number>`stock + ${p.quantity}` }).where('sandbox', '=', p.key).where('id', '=', p.productId)),
  available: prepare((db: Q, p: { key: number; productId: number }) => db.selectFrom('products').select(['name', 'price_cents', 'stock']).where('sandbox', '=', p.key).where('id', '=', p.productId)),
};

export const inventory = {
  /** Takes `quantity` units if that many are available; false (and nothing changed) otherwise. */
  async reserve(db: ShopDb, productId: number, quantity: number): Promise<boolean> {
    return (await statements.reserve.affected(db.q, { key: db.key, productId, quantity })) === 1;
  },

  async release(db: ShopDb, productId: number, quantity: number): Promise<void> {
    await statements.release.execute(db.q, { key: db.key, productId, quantity });
  },

  /** The product's name, price (cents) and the stock still available to sell. */
  async available(db: ShopDb, productId: number): Promise<{ name: string; price_cents: number; stock: number } | undefined> {
    return statements.available.first(db.q, { key: db.key, productId });
  },
};

import { sql, type Kysely } from 'kysely';
import { prepare } from '../db/prepared.js';
import type { CartRow, StoreSchema } from '../db/schema.js';
import type { ShopDb } from '../sandboxes/shop.js';

type Q = Kysely<StoreSchema>;

/** The statements of a purchase, compiled once (db/prepared.ts). */
const statements = {
  insert: prepare((db: Q, p: { key: number; id: string; now: number }) => db.insertInto('carts').values({ sandbox: p.key, id: p.id, created_at: p.now, updated_at: p.now })),
  live: prepare((db: Q, p: { key: number; id: string; idleSince: number }) =>
    db.selectFrom('carts').select(['id', 'created_at', 'updated_at']).where('sandbox', '=', p.key).where('id', '=', p.id).where('updated_at', '>=', p.idleSince)),
  touchLive: prepare((db: Q, p: { key: number; id: string; now: number; idleSince: number }) =>
    db.updateTable('carts').set({ updated_at: p.now }).where('sandbox', '=', p.key).where('id', '=', p.id).where('updated_at', '>=', p.idleSince)),
  lines: prepare((db: Q, p: { key: number; cartId: string }) =>
    db
      .selectFrom('cart_items as ci')
      .leftJoin('products as p', (join) => join.onRef('p.sandbox', '=', 'ci.sandbox').onRef('p.id', '=', 'ci.product_id'))
      .select(['ci.product_id', 'ci.quantity', 'p.name', 'p.price_cents'])
      .where('ci.sandbox', '=', p.key)
      .where('ci.cart_id', '=', p.cartId)
      .orderBy('ci.line_no')),
  productLine: prepare((db: Q, p: { key: number; cartId: string; productId: number }) =>
    db
      .selectFrom('products as p')
      .leftJoin('cart_items as ci', (join) => join.onRef('ci.sandbox', '=', 'p.sandbox').on('ci.cart_id', '=', p.cartId).onRef('ci.product_id', '=', 'p.id'))
      .select(['p.name', 'p.stock', 'ci.quantity'])
      .where('p.sandbox', '=', p.key)
      .where('p.id', '=', p.productId)),
  setLine: prepare((_db: Q, p: { key: number; cartId: string; productId: number; quantity: number }) =>
    sql`insert into cart_items (sandbox, cart_id, product_id, quantity, line_no)
      select ${p.key}, ${p.cartId}, ${p.productId}, ${p.quantity}, coalesce(max(line_no), 0) + 1 from cart_items where sandbox = ${p.key} and cart_id = ${p.cartId}
      on conflict (sandbox, cart_id, product_id) do update set quantity = excluded.quantity`),
  removeLine: prepare((db: Q, p: { key: number; cartId: string; productId: number }) =>
    db.deleteFrom('cart_items').where('sandbox', '=', p.key).where('cart_id', '=', p.cartId).where('product_id', '=', p.productId)),
  delete: prepare((db: Q, p: { key: number; cartId: string }) => db.deleteFrom('carts').where('sandbox', '=', p.key).where('id', '=', p.cartId)),
};

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
    return statements.insert.execute(db.q, { key: db.key, id, now });
  },

  /** The cart unless it has been idle longer than the TTL. */
  live(db: ShopDb, id: string, idleSince: number): Promise<CartRow | undefined> {
    return statements.live.first(db.q, { key: db.key, id, idleSince });
  },

  /**
   * Marks a live cart used now, in one statement: false (and nothing changed) when the cart does
   * not exist or has been idle longer than the TTL.
   */
  async touchLive(db: ShopDb, id: string, now: number, idleSince: number): Promise<boolean> {
    return (await statements.touchLive.affected(db.q, { key: db.key, id, now, idleSince })) === 1;
  },

  lines(db: ShopDb, cartId: string): Promise<CartLine[]> {
    return statements.lines.all(db.q, { key: db.key, cartId });
  },

  /** The product's name and stock with the quantity of it already in the cart (null: no line), in one read. */
  productLine(db: ShopDb, cartId: string, productId: number): Promise<{ name: string; stock: number; quantity: number | null } | undefined> {
    return statements.productLine.first(db.q, { key: db.key, cartId, productId });
  },

  /** Sets a line's quantity in one statement; a new line goes after the existing ones. */
  async setLine(db: ShopDb, cartId: string, productId: number, quantity: number): Promise<void> {
    await statements.setLine.execute(db.q, { key: db.key, cartId, productId, quantity });
  },

  async removeLine(db: ShopDb, cartId: string, productId: number): Promise<boolean> {
    return (await statements.removeLine.affected(db.q, { key: db.key, cartId, productId })) > 0;
  },

  /** Empties a cart (its lines go; the cart stays). */
  clearLines(db: ShopDb, cartId: string): Promise<unknown> {
    return db.q.deleteFrom('cart_items').where('sandbox', '=', db.key).where('cart_id', '=', cartId).execute();
  },

  delete(db: ShopDb, cartId: string): Promise<unknown> {
    return statements.delete.execute(db.q, { key: db.key, cartId });
  },

  /** Deletes this sandbox's carts idle since before the cutoff (their lines go with them). */
  async deleteIdle(db: ShopDb, idleSince: number): Promise<number> {
    const result = await db.q.deleteFrom('carts').where('sandbox', '=', db.key).where('updated_at', '<', idleSince).executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};

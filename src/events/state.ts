import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { StoreSchema } from '../db/schema.js';
import type { GatewayClient } from '../sandboxes/gateway-client.js';
import { sandboxNotFound, type SandboxService } from '../sandboxes/service.js';
import type { ShopFactory } from '../sandboxes/shop.js';
import { toFixedAmount } from '../shared/money.js';
import { fail, ok, type Result } from '../shared/result.js';
import { isoTime } from '../shared/time.js';

/** `GET /sandboxes/{id}/state`: the canonical state and its sha256 (64 hex digits). */
export interface StateAnswer {
  state: Record<string, unknown>;
  hash: string;
}

const iso = (ms: number | null): string | null => (ms === null ? null : isoTime(ms));
/** Code-unit order, the same on every database (ids are ASCII). */
const byText = <T>(key: (row: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/** The lines of each parent, in line order. */
function groupLines<T extends { line_no: number }>(rows: T[], parent: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of [...rows].sort((a, b) => a.line_no - b.line_no)) groups.set(parent(row), [...(groups.get(parent(row)) ?? []), row]);
  return groups;
}

/**
 * The whole state of a sandbox in canonical form (spec/sandboxes.md section 3): catalog
 * (categories, products with stock), carts with items, orders with items, and the gateway's
 * balance, ledger and payments. Keys are in a fixed order, rows sorted by id (lines by line
 * number, gateway rows in the order they happened), money is fixed-decimal text ("59.99"), times
 * are ISO 8601. The sandbox's id and its clock are not part of it, so two sandboxes driven alike
 * compare equal; idempotency keys and callback delivery progress are bookkeeping, left out too.
 * hash = sha256 hex of the JSON text of `state`.
 */
export class StateService {
  constructor(
    private readonly shops: ShopFactory,
    private readonly sandboxes: Pick<SandboxService, 'find'>,
    private readonly gateway: Pick<GatewayClient, 'state'>,
  ) {}

  async get(sandboxId: string): Promise<Result<StateAnswer>> {
    const row = await this.sandboxes.find(sandboxId);
    if (!row) return sandboxNotFound();
    const shop = this.shops.forRow(row);
    await shop.importGatewayEvents();
    // Orders past their deadline are expired first (stock returned), as any read of the shop does.
    await shop.orders.expireDue();
    const store = await storeState(shop.db.q, shop.db.key);
    const gateway = await this.gateway.state(sandboxId);
    if (!gateway.ok) return gateway.kind === 'unavailable' ? gateway : fail('unavailable', `Payments gateway unavailable: ${gateway.message}`);
    const state = { ...store, gateway: gateway.value.state };
    return ok({ state, hash: createHash('sha256').update(JSON.stringify(state)).digest('hex') });
  }
}

async function storeState(db: Kysely<StoreSchema>, key: number) {
  const [categories, products, carts, cartItems, orders, orderItems] = await Promise.all([
    db.selectFrom('categories').select(['id', 'name', 'slug']).where('sandbox', '=', key).orderBy('id').execute(),
    db.selectFrom('products').select(['id', 'name', 'price_cents', 'category_id', 'brand', 'rating', 'stock', 'description']).where('sandbox', '=', key).orderBy('id').execute(),
    db.selectFrom('carts').select(['id', 'created_at', 'updated_at']).where('sandbox', '=', key).execute(),
    db.selectFrom('cart_items').select(['cart_id', 'product_id', 'quantity', 'line_no']).where('sandbox', '=', key).execute(),
    db.selectFrom('orders').selectAll().where('sandbox', '=', key).execute(),
    db.selectFrom('order_items').select(['order_id', 'line_no', 'product_id', 'name', 'price_cents', 'quantity']).where('sandbox', '=', key).execute(),
  ]);
  const linesOfCart = groupLines(cartItems, (l) => l.cart_id);
  const linesOfOrder = groupLines(orderItems, (l) => l.order_id);
  return {
    catalog: {
      categories: categories.map((c) => ({ id: c.id, name: c.name, slug: c.slug })),
      products: products.map((p) => ({
        id: p.id, name: p.name, price: toFixedAmount(p.price_cents), category_id: p.category_id, brand: p.brand, rating: p.rating, stock: p.stock, description: p.description,
      })),
    },
    carts: carts.sort(byText((c) => c.id)).map((c) => ({
      cart_id: c.id, created_at: iso(c.created_at), updated_at: iso(c.updated_at),
      items: (linesOfCart.get(c.id) ?? []).map((l) => ({ product_id: l.product_id, quantity: l.quantity })),
    })),
    orders: orders.sort(byText((o) => o.id)).map((o) => ({
      order_id: o.id, cart_id: o.cart_id, status: o.status, total: toFixedAmount(Number(o.total_cents)),
      created_at: iso(o.created_at), updated_at: iso(o.updated_at), expires_at: iso(o.expires_at),
      payment_id: o.payment_id, paid_at: iso(o.paid_at), reason: o.reason,
      items: (linesOfOrder.get(o.id) ?? []).map((l) => ({ product_id: l.product_id, name: l.name, price: toFixedAmount(l.price_cents), quantity: l.quantity })),
    })),
  };
}

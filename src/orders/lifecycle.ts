import { inventory } from '../catalog/inventory.js';
import type { OrderRow, OrderStatus } from '../db/schema.js';
import type { ShopDb } from '../sandboxes/shop.js';
import { fail, type Result } from '../shared/result.js';
import { orderRepository as orders } from './repository.js';

/** Rules of the order lifecycle shared by checkout, cancellation, expiry and payment outcomes. */

/** A pending order whose deadline has passed is expired, whether or not a sweep has recorded it yet. */
export const effectiveStatus = (order: OrderRow, now: number): OrderStatus =>
  order.status === 'pending_payment' && order.expires_at <= now ? 'expired' : order.status;

/**
 * Product rows are always locked in id order, so that two transactions touching the same
 * products (carts holding [1, 2] and [2, 1]) queue behind each other instead of deadlocking.
 */
export const byProductId = <T extends { product_id: number }>(lines: T[]): T[] => [...lines].sort((a, b) => a.product_id - b.product_id);

export const orderNotFound = () => fail('not_found', 'Order not found');
export const alreadyProcessed = (status: OrderStatus) => fail('rejected', `Order already processed (status: ${status})`);

/** Returns an order's reserved stock (leaving pending_payment for anything but paid). */
export async function releaseStock(trx: ShopDb, orderId: string): Promise<void> {
  for (const item of byProductId(await orders.items(trx, orderId))) await inventory.release(trx, item.product_id, item.quantity);
}

/** Another transaction changed the order between our read and our update (or its deadline passed). */
export async function lostRace(trx: ShopDb, orderId: string, now: number): Promise<Result<never>> {
  const fresh = await orders.find(trx, orderId);
  return fresh ? alreadyProcessed(effectiveStatus(fresh, now)) : orderNotFound();
}

import { sql } from 'kysely';
import type { SandboxRow } from '../db/schema.js';
import type { ShopFactory } from './shop.js';

/**
 * The background sweeps over every sandbox at once, each comparing rows with their own sandbox's
 * clock (frozen, or real time plus its offset) in one statement joining `sandboxes`.
 */
const sandboxNow = (now: number) => sql`(case when s.frozen_at is null then ${now} + s.offset_ms else s.frozen_at end)`;

type DueOrder = Pick<SandboxRow, 'sandbox' | 'public_id' | 'frozen_at' | 'offset_ms' | 'seed' | 'faults_version'> & { id: string };

/** Expires every pending order past its sandbox's deadline, a batch at a time, each through its own shop. */
export async function expireDueOrders(shops: ShopFactory, batch = 200): Promise<number> {
  let count = 0;
  for (;;) {
    const { rows } = await sql<DueOrder>`select o.sandbox, o.id, s.public_id, s.frozen_at, s.offset_ms, s.seed, s.faults_version
      from orders o join sandboxes s on s.sandbox = o.sandbox
      where o.status = 'pending_payment' and o.expires_at <= ${sandboxNow(Date.now())}
      order by o.expires_at limit ${batch}`.execute(shops.database.db);
    for (const row of rows) if (await shops.forRow({ ...row, sandbox: Number(row.sandbox) }).orders.expire(row.id)) count++;
    if (rows.length < batch) return count;
  }
}

/** Deletes carts idle longer than the TTL on their sandbox's clock; returns how many. */
export async function deleteIdleCarts(shops: ShopFactory): Promise<number> {
  const result = await sql`delete from carts where (sandbox, id) in (
      select c.sandbox, c.id from carts c join sandboxes s on s.sandbox = c.sandbox
      where c.updated_at < ${sandboxNow(Date.now())} - ${shops.settings.cartTtlMs})`.execute(shops.database.db);
  return Number(result.numAffectedRows ?? 0);
}

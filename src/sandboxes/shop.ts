import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { CartService } from '../cart/service.js';
import { CatalogCache, CatalogService } from '../catalog/service.js';
import { CatalogRepository } from '../catalog/repository.js';
import type { Database } from '../db/database.js';
import { SandboxFaults, transactor, type FaultBook, type FiredListener, type Transactor } from '../faults/book.js';
import type { SandboxRow, StoreSchema } from '../db/schema.js';
import { OrderService } from '../orders/service.js';
import { newCartId, newCheckoutSessionId, newOrderId, seededHex } from '../shared/ids.js';
import type { Result } from '../shared/result.js';

/**
 * The data one shop (a sandbox) runs on: the database handle (a connection, or the transaction of
 * the work in progress) and the sandbox key every query filters on. Repositories take it first.
 */
export interface ShopDb {
  readonly q: Kysely<StoreSchema>;
  readonly key: number;
}

/** A sandbox's time, epoch milliseconds. The root (and any sandbox never given a clock) follows real time. */
export interface Clock {
  now(): number;
}

/** The clock state as stored and as sent to the gateway: frozen at an instant, or real time plus an offset. */
export interface ClockState {
  frozen_at: number | null;
  offset_ms: number;
}

export const clockOf = (state: ClockState): Clock =>
  state.frozen_at !== null ? { now: () => state.frozen_at! } : state.offset_ms === 0 ? REAL_TIME : { now: () => Date.now() + state.offset_ms };

export const REAL_TIME: Clock = { now: () => Date.now() };

/** New cart, order and checkout session ids: random, or, in a seeded sandbox, derived from the seed and a counter (issue 9 interface). */
export interface IdSource {
  cart(): Promise<string>;
  order(): Promise<string>;
  /** `cs_` and 24 hex digits. */
  checkoutSession(): Promise<string>;
}

const randomIds: IdSource = { cart: async () => newCartId(), order: async () => newOrderId(), checkoutSession: async () => newCheckoutSessionId() };

/** Seeded ids take the next counter value inside the caller's transaction, so concurrent requests never share one. */
function seededIds(db: ShopDb, seed: number): IdSource {
  const next = async (kind: string, length: number) => {
    const row = await db.q
      .updateTable('sandboxes')
      .set((eb) => ({ id_counter: eb('id_counter', '+', 1) }))
      .where('sandbox', '=', db.key)
      .returning('id_counter')
      .executeTakeFirstOrThrow();
    return seededHex(seed, kind, Number(row.id_counter), length);
  };
  return { cart: () => next('cart', 24), order: () => next('order', 32), checkoutSession: async () => `cs_${await next('checkout_session', 24)}` };
}

/** What a unit of work inside a shop's transaction gets. */
export interface ShopTx {
  readonly db: ShopDb;
  readonly ids: IdSource;
}

/** How long carts and orders live, and how large a catalog may be kept in memory. */
export interface ShopSettings {
  cartTtlMs: number;
  orderTtlMs: number;
  catalogMemoryProducts: number;
}

/**
 * One shop: the root (`default`) or a sandbox, resolved once per request (or per background job).
 * Services are built on first use and carry the shop, so their methods take no sandbox argument.
 */
export class Shop {
  readonly db: ShopDb;
  /** The store's fault rules of this shop (faults/book.ts). */
  readonly faults: SandboxFaults;
  private services: { catalog?: CatalogService; carts?: CartService; orders?: OrderService } = {};

  constructor(
    private readonly factory: ShopFactory,
    readonly sandbox: { key: number; id: string },
    readonly clock: Clock,
    private readonly seed: number | null,
    /** The faults version read with the sandbox row (undefined: the root, which reads none per request). */
    faultsVersion: number | undefined,
  ) {
    this.db = { q: factory.database.db, key: sandbox.key };
    this.faults = new SandboxFaults(factory.faultBook, factory.transact, sandbox, clock, seed, faultsVersion, factory.log, factory.onFaultFired);
  }

  /** Runs fn in one transaction of this shop; commits when it returns ok (Database.transact). */
  transact<T>(fn: (tx: ShopTx) => Promise<Result<T>>): Promise<Result<T>> {
    return this.factory.database.transact((trx) => {
      const db: ShopDb = { q: trx, key: this.sandbox.key };
      return fn({ db, ids: this.seed === null ? randomIds : seededIds(db, this.seed) });
    });
  }

  /** How long carts and orders of this shop live. */
  get settings(): ShopSettings {
    return this.factory.settings;
  }

  /** Brings this sandbox's new gateway events into its timeline (events/gateway-import.ts); `duringCallback`: briefly. */
  importGatewayEvents(duringCallback = false): Promise<void> {
    return this.factory.gatewayEvents.import(this.sandbox, duringCallback);
  }

  get catalog(): CatalogService {
    return (this.services.catalog ??= new CatalogService(new CatalogRepository(this.db.q, this.factory.database.dialect, this.sandbox.key), this.factory.catalogCache(this.sandbox.key), {
      clock: this.clock,
      releaseExpiredHolds: () => this.orders.expireDue(),
      writeMark: this.factory.database.writeMark,
      outOfStock: () => this.outOfStock(),
      knownNoFaultRules: () => this.faults.knownNone(),
      noFaultRules: async () => this.faults.knownNone() || (await this.faults.active()).length === 0,
    }));
  }

  /** Products an out_of_stock fault rule shows at stock 0 (no firing: a read shows the rule, a refusal fires it). */
  private async outOfStock(): Promise<ReadonlySet<number>> {
    if (this.faults.knownNone()) return NONE;
    const rules = await this.faults.ofKind('out_of_stock');
    return rules.length === 0 ? NONE : new Set(rules.map((r) => r.rule.product_id));
  }

  get carts(): CartService {
    return (this.services.carts ??= new CartService(this, this.factory.settings.cartTtlMs, () => this.orders.expireDue()));
  }

  get orders(): OrderService {
    return (this.services.orders ??= new OrderService(this, this.factory.log, () => this.carts.idleSince(), this.factory.settings.orderTtlMs));
  }
}

const NONE: ReadonlySet<number> = new Set();

/** Catalog caches kept per sandbox; past this many, the least recently used is dropped. */
const CATALOG_CACHES = 2000;

/**
 * Builds shops: `root` once at start-up (key 0, real time, random ids: no lookup per request),
 * `forRow` from a `sandboxes` row the caller read. Catalog caches live here, per sandbox key,
 * across requests (keys are never reused, so a cache can never be taken for another sandbox's).
 */
export class ShopFactory {
  readonly root: Shop;
  /** One transaction of the store's database, for faults fired outside any unit of work. */
  readonly transact: Transactor;
  private readonly caches = new Map<number, CatalogCache>();

  constructor(
    readonly database: Database<StoreSchema>,
    readonly settings: ShopSettings,
    readonly log: Logger,
    /** Imports a sandbox's gateway events into its timeline (events/gateway-import.ts). */
    readonly gatewayEvents: { import(sandbox: { key: number; id: string }, duringCallback: boolean): Promise<void> },
    /** The process's copy of the store's fault rules. */
    readonly faultBook: FaultBook,
    /** Told of every fault fired in a shop (the event timeline). */
    readonly onFaultFired?: FiredListener,
  ) {
    this.transact = transactor(database);
    this.root = new Shop(this, { key: 0, id: 'default' }, REAL_TIME, null, undefined);
  }

  forRow(row: Pick<SandboxRow, 'sandbox' | 'public_id' | 'frozen_at' | 'offset_ms' | 'seed' | 'faults_version'>): Shop {
    if (row.sandbox === 0) return this.root;
    return new Shop(this, { key: row.sandbox, id: row.public_id ?? String(row.sandbox) }, clockOf(row), row.seed, row.faults_version);
  }

  catalogCache(key: number): CatalogCache {
    let cache = this.caches.get(key);
    if (cache) {
      this.caches.delete(key);
    } else {
      cache = new CatalogCache(this.settings.catalogMemoryProducts);
      if (this.caches.size >= CATALOG_CACHES) this.caches.delete(this.caches.keys().next().value!);
    }
    this.caches.set(key, cache);
    return cache;
  }

  /** Forgets a deleted sandbox's cache. */
  drop(key: number): void {
    this.caches.delete(key);
  }
}

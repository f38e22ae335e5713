import type { Generated } from 'kysely';

/**
 * Row types of the store's tables. Money columns are integer cents, times are epoch milliseconds.
 * Every table also has `sandbox`, the key of the sandbox a row belongs to (0: the root shop), leading
 * its keys (migration 0007); the row types below leave it out and `Keyed<...>` adds it back.
 */
export interface CategoryRow {
  id: number;
  name: string;
  slug: string;
}

export interface ProductRow {
  id: number;
  name: string;
  price_cents: number;
  category_id: number;
  brand: string;
  rating: number;
  stock: number;
  description: string;
  /** Lower-cased copies used for case-insensitive matching identically on both dialects. */
  brand_lc: string;
  name_lc: string;
  description_lc: string;
}

export interface CartRow {
  id: string;
  created_at: number;
  updated_at: number;
}

export interface CartItemRow {
  cart_id: string;
  product_id: number;
  quantity: number;
  line_no: number;
}

export type OrderStatus = 'pending_payment' | 'paid' | 'payment_failed' | 'expired' | 'cancelled' | 'refunded';

export interface OrderRow {
  id: string;
  cart_id: string;
  total_cents: number;
  status: OrderStatus;
  created_at: number;
  updated_at: number;
  expires_at: number;
  payment_id: string | null;
  paid_at: number | null;
  reason: string | null;
}

export interface OrderItemRow {
  order_id: string;
  line_no: number;
  product_id: number;
  name: string;
  price_cents: number;
  quantity: number;
}

export interface IdempotencyRow {
  scope: string;
  key: string;
  request_hash: string;
  status_code: number | null;
  response_body: string | null;
  created_at: number;
  /** Random token of the request holding the claim; a takeover replaces it (null before migration 0004). */
  owner: string | null;
}

/** A gateway payment the store was told is refunded while the order was not paid with it: a late success for it is refused. */
export interface RefundedPaymentRow {
  payment_id: string;
  order_id: string;
  created_at: number;
}

/** Stored states of a checkout session; `expired` and `completed` may also be derived (checkout-sessions/model.ts). */
export type CheckoutSessionStatus = 'not_ready_for_payment' | 'ready_for_payment' | 'in_progress' | 'completed' | 'canceled' | 'expired';

/** An Agentic Commerce Protocol checkout session (migration 0011). JSON columns are text. */
export interface CheckoutSessionRow {
  id: string;
  status: CheckoutSessionStatus;
  /** The cart the session's items are kept in (null: none needed yet, every item was unknown). */
  cart_id: string | null;
  /** The order of the last checkout of that cart: pending while payable, paid once completed. */
  order_id: string | null;
  /** JSON: the priced lines (checkout-sessions/model.ts SessionLine[]). */
  lines: string;
  /** JSON: the messages of the last pricing or payment (Message[]). */
  messages: string;
  /** JSON: the buyer as given, or null. */
  buyer: string | null;
  /** JSON: the fulfillment details as given, or null. */
  fulfillment_details: string | null;
  created_at: number;
  updated_at: number;
  /** When an unpaid session expires (the sandbox clock): its order's deadline. */
  expires_at: number;
}

/** One row per sandbox whose version moves with every change to its products or categories. */
export interface CatalogVersionRow {
  sandbox: number;
  version: number;
  bumped_by: string | null;
}

/**
 * `live`: a sandbox clients use (public_id set; `default` is key 0). `snapshot`: a saved state of
 * `parent`, named `name`. `creation`: the state `parent` was created with (reset goes back to it).
 * `template`: the seed catalog that new default-catalog sandboxes are copied from.
 */
export type SandboxKind = 'live' | 'snapshot' | 'creation' | 'template';

export interface SandboxRow {
  sandbox: number;
  public_id: string | null;
  kind: SandboxKind;
  parent: number | null;
  name: string | null;
  /** Live sandboxes: the hidden row reset copies from (the template, or the sandbox's creation row). */
  origin: number | null;
  seed: number | null;
  /** Ids handed out in deterministic mode so far. */
  id_counter: number;
  /** The clock: frozen at this instant (epoch ms), or null to follow real time plus offset_ms. */
  frozen_at: number | null;
  offset_ms: number;
  /** The `now` the sandbox was created with (reset returns its clock there). */
  start_at: number | null;
  created_at: number;
  last_used_at: number;
  /** Real time after which an idle sandbox is deleted (null: never, the root). */
  expires_at: number | null;
  /** Moves with every change to the sandbox's fault rules (migration 0009). */
  faults_version: number;
  /** Random fault draws made so far (a seeded sandbox's next draw uses the next value). */
  fault_draws: number;
}

/** One fault rule of a sandbox (faults/rules.ts), at its position `idx` in the list. */
export interface FaultRuleRow {
  sandbox: number;
  idx: number;
  /** The faults_version the list was saved under. */
  set_version: number;
  server: 'store' | 'gateway';
  /** The rule as JSON. */
  rule: string;
  times: number | null;
  fired: number;
}

/** The sandboxes table: keys come from the database, counters and offsets start at 0. */
export type SandboxTable = Omit<SandboxRow, 'sandbox' | 'id_counter' | 'offset_ms' | 'faults_version' | 'fault_draws'> & {
  sandbox: Generated<number>;
  id_counter: Generated<number>;
  offset_ms: Generated<number>;
  faults_version: Generated<number>;
  fault_draws: Generated<number>;
  /** The last event seq handed out in this sandbox (migration 0008; events/recorder.ts). */
  event_seq: Generated<number>;
  /** The last gateway event seq imported into this sandbox's timeline (events/import.ts). */
  gateway_event_seq: Generated<number>;
};

/** One entry of a sandbox's timeline (spec/sandboxes.md section 3). */
export interface EventRow {
  /** Gapless per sandbox, from `sandboxes.event_seq`. */
  seq: number;
  /** Epoch milliseconds of the sandbox's clock. */
  at: number;
  source: 'store' | 'gateway';
  type: string;
  /** JSON text of the event's data object. */
  data: string;
}

/** A webhook subscription (migration 0010, spec/sandboxes.md section 3). */
export interface WebhookRow {
  id: string;
  url: string;
  /** JSON array of event types, or `["*"]`. */
  events: string;
  secret: string;
  created_at: number;
  /** The seq of the last event of the sandbox's timeline this subscription has looked at. */
  cursor: number;
}

export type WebhookDeliveryState = 'pending' | 'delivered' | 'failed';

/** One event to deliver to one webhook: the job the worker claims, with its body as first built. */
export interface WebhookDeliveryRow {
  id: string;
  webhook_id: string;
  event_seq: number;
  event_type: string;
  body: string;
  state: WebhookDeliveryState;
  /** Attempts made (claimed) so far. */
  attempts: number;
  /** The attempt number after which a failing delivery is given up (a redelivery moves it on). */
  last_attempt: number;
  /** Real time (epoch ms) the next attempt is due; null unless pending. */
  next_attempt_at: number | null;
  /** Real time until which an attempt in flight holds the job. */
  leased_until: number | null;
  created_at: number;
}

/** One attempt of a delivery, as the delivery log shows it. */
export interface WebhookAttemptRow {
  delivery_id: string;
  webhook_id: string;
  attempt: number;
  /** Real time of the attempt's end, epoch ms. */
  at: number;
  http_status: number | null;
  error: string | null;
  ms: number;
}

/** A row type with its sandbox key, as stored. */
export type Keyed<T> = T & { sandbox: number };

export interface StoreSchema {
  sandboxes: SandboxTable;
  catalog_version: CatalogVersionRow;
  categories: Keyed<CategoryRow>;
  products: Keyed<ProductRow>;
  carts: Keyed<CartRow>;
  cart_items: Keyed<CartItemRow>;
  orders: Keyed<OrderRow>;
  order_items: Keyed<OrderItemRow>;
  idempotency_keys: Keyed<IdempotencyRow>;
  refunded_payments: Keyed<RefundedPaymentRow>;
  fault_rules: FaultRuleRow;
  events: Keyed<EventRow>;
  checkout_sessions: Keyed<CheckoutSessionRow>;
  webhooks: Keyed<WebhookRow>;
  webhook_deliveries: Keyed<WebhookDeliveryRow>;
  webhook_attempts: Keyed<WebhookAttemptRow>;
}

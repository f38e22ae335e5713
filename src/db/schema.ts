/** Row types of the store's tables. Money columns are integer cents, times are epoch milliseconds. */
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

/** A single row (id 1) whose version moves with every change to products or categories. */
export interface CatalogVersionRow {
  id: number;
  version: number;
  bumped_by: string | null;
}

export interface StoreSchema {
  catalog_version: CatalogVersionRow;
  categories: CategoryRow;
  products: ProductRow;
  carts: CartRow;
  cart_items: CartItemRow;
  orders: OrderRow;
  order_items: OrderItemRow;
  idempotency_keys: IdempotencyRow;
  refunded_payments: RefundedPaymentRow;
}

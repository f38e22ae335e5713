import type { CategoryRow, ProductRow } from '../db/schema.js';
import { toAmount } from '../shared/money.js';

/** A product as the API shows it, in the contract's key order. */
export interface Product {
  id: number;
  name: string;
  price: number;
  category_id: number;
  brand: string;
  rating: number;
  stock: number;
  description: string;
}

export type Category = CategoryRow;

export type ProductColumns = Pick<ProductRow, 'id' | 'name' | 'price_cents' | 'category_id' | 'brand' | 'rating' | 'stock' | 'description'>;

export const PRODUCT_COLUMNS = ['id', 'name', 'price_cents', 'category_id', 'brand', 'rating', 'stock', 'description'] as const;

export const toProduct = (row: ProductColumns): Product => ({
  id: row.id,
  name: row.name,
  price: toAmount(row.price_cents),
  category_id: row.category_id,
  brand: row.brand,
  rating: row.rating,
  stock: row.stock,
  description: row.description,
});

/** Lower-cased copies of the matchable text, computed once at write time so both dialects compare the same strings. */
export const matchKeys = (p: { name: string; brand: string; description: string }) => ({
  name_lc: p.name.toLowerCase(),
  brand_lc: p.brand.toLowerCase(),
  description_lc: p.description.toLowerCase(),
});

export type SortField = 'price' | 'rating' | 'name';
export type SortOrder = 'asc' | 'desc';

export interface ProductQuery {
  category_id?: number;
  brand?: string;
  min_price?: number;
  max_price?: number;
  min_rating?: number;
  in_stock?: boolean;
  search?: string;
  sort_by?: SortField;
  order?: SortOrder;
  page: number;
  page_size: number;
}

/** Ids are 32-bit integers in both databases; anything larger cannot exist and must not reach the driver. */
export const isStorableId = (id: number): boolean => Number.isSafeInteger(id) && id >= -2147483648 && id <= 2147483647;

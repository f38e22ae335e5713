/**
 * The catalog requests the benchmark measures, shared with test/query-plans.test.ts, which
 * EXPLAINs every statement they issue on both databases and fails on a full scan of products.
 */
export const CATALOG_MIX = [
  '/categories',
  '/products?search=keyboard',
  '/products?min_price=20&max_price=100&min_rating=4&sort_by=price&order=asc',
  '/products/3',
];

/** Measured on the generated million-product catalog (`--large`), one request at a time. */
export const LARGE_MIX = [
  '/products?search=keyboard',
  '/products?search=steel&sort_by=price',
  '/products?brand=soundmax&in_stock=true&sort_by=name',
  '/products?sort_by=price&order=desc&page=1000',
  '/products?min_price=20&max_price=100&min_rating=4&sort_by=price&order=asc',
  '/products?category_id=2&sort_by=rating&order=desc&page=5',
  '/products/987654',
];

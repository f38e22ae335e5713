import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sendKept } from '../http/kept-json.js';
import { send } from '../http/problem.js';
import { MAX_AMOUNT, MAX_INT32, StringEnum, integerIssue, responses } from '../http/schemas.js';
import type { ProductQuery } from './model.js';

export const CategorySchema = Type.Object(
  { id: Type.Integer(), name: Type.String(), slug: Type.String() },
  { $id: 'Category' },
);

export const ProductSchema = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    price: Type.Number({ description: 'Price with at most two decimals', example: 89.99 }),
    category_id: Type.Integer(),
    brand: Type.String(),
    rating: Type.Number({ minimum: 0, maximum: 5 }),
    stock: Type.Integer({ description: 'Units still available to sell (reserved units excluded)' }),
    description: Type.String(),
  },
  { $id: 'Product' },
);

const ProductDetailSchema = Type.Object(
  { ...ProductSchema.properties, category: Type.Ref('Category') },
  { $id: 'ProductDetail' },
);

const ProductPageSchema = Type.Object({
  total: Type.Integer({ description: 'Number of matching products before paging' }),
  page: Type.Integer(),
  page_size: Type.Integer(),
  products: Type.Array(Type.Ref('Product')),
});

/** GET /products query: also the input of the MCP tool search_products (src/mcp/shop-tools.ts). */
export const ProductsQuery = Type.Object({
  category_id: Type.Optional(Type.Integer({ description: 'Only products of this category' })),
  brand: Type.Optional(Type.String({ description: 'Exact brand, case-insensitive' })),
  min_price: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_AMOUNT, description: 'Inclusive' })),
  max_price: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_AMOUNT, description: 'Inclusive' })),
  min_rating: Type.Optional(Type.Number({ minimum: 0, maximum: 5 })),
  in_stock: Type.Optional(Type.Boolean({ description: 'true keeps only products with stock > 0; false does not filter' })),
  search: Type.Optional(
    Type.String({ maxLength: 200, description: 'Case-insensitive substring of name or description; % and _ are literal' }),
  ),
  sort_by: Type.Optional(StringEnum(['price', 'rating', 'name'], {
    description: 'Without it, results are in id order. Ties keep id order in both directions.',
  })),
  order: Type.Optional(StringEnum(['asc', 'desc'], { default: 'asc', description: 'Case-insensitive' })),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_INT32, default: 1 })),
  page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
});

const CATEGORY = { id: 1, name: 'Electronics', slug: 'electronics' };
const PRODUCT = {
  id: 1, name: 'Wireless Bluetooth Headphones', price: 59.99, category_id: 1, brand: 'SoundMax', rating: 4.5, stock: 120,
  description: 'Noise-cancelling over-ear headphones with 30h battery life.',
};
const PRODUCT_2 = {
  id: 2, name: 'USB-C Fast Charger', price: 24.99, category_id: 1, brand: 'ChargeTech', rating: 4.2, stock: 300,
  description: '65W GaN charger with dual USB-C ports.',
};

/** Path of the product routes. */
export const ProductIdParams = Type.Object({ product_id: Type.Integer() });
/** GET /products/{id}/related query. */
export const RelatedQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, default: 4 })) });
/** GET /brands query. */
export const BrandsQuery = Type.Object({ category_id: Type.Optional(Type.Integer()) });

const BOOLEAN_WORDS: Record<string, string> = {
  true: 'true', '1': 'true', yes: 'true', on: 'true', t: 'true', y: 'true',
  false: 'false', '0': 'false', no: 'false', off: 'false', f: 'false', n: 'false',
};

/** Catalog reads, against the request's shop (`req.shop`). The caller adds CategorySchema and ProductSchema (the admin routes use them too). */
export const catalogRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addSchema(ProductDetailSchema);

  app.get('/categories', {
    schema: { operationId: 'listCategories', tags: ['catalog'], summary: 'List categories in id order', response: responses(Type.Array(Type.Ref('Category')), [CATEGORY]) },
  }, (req, reply) => sendKept(req, reply, req.shop.catalog.categoriesRead()));

  app.get('/categories/:category_id', {
    schema: {
      operationId: 'getCategory',
      tags: ['catalog'],
      summary: 'One category',
      params: Type.Object({ category_id: Type.Integer() }),
      response: responses(Type.Ref('Category'), CATEGORY, { 404: ['Category not found'], 422: integerIssue('path', 'category_id') }),
    },
  }, async (req, reply) => send(reply, await req.shop.catalog.category(req.params.category_id)));

  app.get('/products', {
    schema: {
      operationId: 'listProducts',
      tags: ['catalog'],
      summary: 'Search, filter, sort and page products',
      description: 'Filters combine with AND; `total` counts all matches before paging; a page past the end has `products: []`.',
      querystring: ProductsQuery,
      response: responses(ProductPageSchema, { total: 25, page: 1, page_size: 2, products: [PRODUCT, PRODUCT_2] }, {
        422: { type: 'less_than_equal', loc: ['query', 'page_size'], msg: 'Input should be less than or equal to 100', input: '500', ctx: { le: 100 } },
      }),
    },
    // FastAPI's bool accepts yes/on/1/t/y..., and `order` is case-insensitive: normalise before validation.
    preValidation: (req, _reply, done) => {
      const query = req.query as Record<string, unknown>;
      if (typeof query.in_stock === 'string') query.in_stock = BOOLEAN_WORDS[query.in_stock.toLowerCase()] ?? query.in_stock;
      if (typeof query.order === 'string') query.order = query.order.toLowerCase();
      done();
    },
    // page and page_size are optional for clients; the validator (useDefaults) fills them in.
    // Not async: a page kept and current (SQLite) is sent at once, without a promise.
  }, (req, reply) => {
    const query = req.query as ProductQuery;
    return sendKept(req, reply, req.shop.catalog.productsRead(query));
  });

  app.get('/products/:product_id', {
    schema: {
      operationId: 'getProduct',
      tags: ['catalog'],
      summary: 'One product with its category',
      params: ProductIdParams,
      response: responses(Type.Ref('ProductDetail'), { ...PRODUCT, category: CATEGORY }, { 404: ['Product not found'], 422: integerIssue('path', 'product_id') }),
    },
  }, (req, reply) => {
    const id = req.params.product_id;
    return sendKept(req, reply, req.shop.catalog.productRead(id));
  });

  app.get('/products/:product_id/related', {
    schema: {
      operationId: 'listRelatedProducts',
      tags: ['catalog'],
      summary: 'Other products of the same category, in id order',
      params: ProductIdParams,
      querystring: RelatedQuery,
      response: responses(Type.Array(Type.Ref('Product')), [PRODUCT_2], { 404: ['Product not found'], 422: integerIssue('path', 'product_id') }),
    },
  }, async (req, reply) => send(reply, await req.shop.catalog.related(req.params.product_id, req.query.limit as number)));

  app.get('/brands', {
    schema: {
      operationId: 'listBrands',
      tags: ['catalog'],
      summary: 'Sorted distinct brand names, optionally of one category',
      querystring: BrandsQuery,
      response: responses(Type.Array(Type.String()), ['ChargeTech', 'SoundMax'], { 422: integerIssue('query', 'category_id') }),
    },
  }, (req) => req.shop.catalog.brands(req.query.category_id));
};

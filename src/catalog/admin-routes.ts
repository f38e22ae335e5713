import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { send, sendAs } from '../http/problem.js';
import { MAX_AMOUNT, MAX_INT32, integerIssue, noContent, responses } from '../http/schemas.js';
import { CatalogAdmin } from './admin.js';

/** Large enough for a catalog at the MAX_CATALOG_PRODUCTS default (100,000 products). */
export const CATALOG_BODY_LIMIT = 64 * 1024 * 1024;

const Id = Type.Integer({ minimum: -MAX_INT32 - 1, maximum: MAX_INT32 });
const productFields = {
  name: Type.String({ minLength: 1, maxLength: 500 }),
  price: Type.Number({ minimum: 0, maximum: MAX_AMOUNT, description: 'At most two decimals' }),
  category_id: Id,
  brand: Type.String({ maxLength: 200 }),
  rating: Type.Number({ minimum: 0, maximum: 5 }),
  stock: Type.Integer({ minimum: 0, maximum: MAX_INT32, description: 'Units that can still be sold (holds of pending orders stay valid)' }),
  description: Type.String({ maxLength: 10_000 }),
};
const categoryFields = { name: Type.String({ minLength: 1, maxLength: 200 }), slug: Type.String({ minLength: 1, maxLength: 200 }) };

const ProductBody = Type.Object({ id: Id, ...productFields }, { additionalProperties: false });
const ProductPatch = Type.Partial(Type.Object(productFields), { additionalProperties: false, minProperties: 1 });
const CategoryBody = Type.Object({ id: Id, ...categoryFields }, { additionalProperties: false });
const CategoryPatch = Type.Partial(Type.Object(categoryFields), { additionalProperties: false, minProperties: 1 });
const CatalogBody = Type.Object(
  { categories: Type.Array(Type.Unknown()), products: Type.Array(Type.Unknown()) },
  { description: 'The seed file format (catalog.json): every field is checked, with a 422 naming the first one at fault' },
);

const PRODUCT = {
  id: 26, name: 'Travel Adapter', price: 19.99, category_id: 1, brand: 'ChargeTech', rating: 4.1, stock: 40, description: 'Universal plug adapter.',
};
const CATEGORY = { id: 6, name: 'Garden', slug: 'garden' };
const ProductId = Type.Object({ product_id: Type.Integer() });
const CategoryId = Type.Object({ category_id: Type.Integer() });

/**
 * Catalog administration of the request's shop (`/admin/...` at the root, `/sandboxes/{id}/admin/...`
 * in a sandbox). The caller registers it behind the admin access rule.
 */
export const catalogAdminRoutes: FastifyPluginAsyncTypebox<{ maxCatalogProducts: number }> = async (app, { maxCatalogProducts }) => {
  const admin = (req: { shop: ConstructorParameters<typeof CatalogAdmin>[0] }) => new CatalogAdmin(req.shop);
  const tags = ['admin'];

  app.post('/admin/products', {
    schema: {
      operationId: 'adminAddProduct', tags, summary: 'Add a product',
      body: ProductBody,
      response: responses(Type.Ref('Product'), PRODUCT, {
        created: true, admin: true, body: true, 409: ['Product already exists'],
        invalid: ['category_id 9 is not a category of this catalog', 'price must have at most two decimals'], 422: integerIssue('body', 'id'),
      }),
    },
  }, async (req, reply) => sendAs(reply, await admin(req).addProduct(req.body), 201));

  app.patch('/admin/products/:product_id', {
    schema: {
      operationId: 'adminChangeProduct', tags, summary: 'Change any of name, price, category_id, brand, rating, stock, description',
      params: ProductId, body: ProductPatch,
      response: responses(Type.Ref('Product'), { ...PRODUCT, stock: 5 }, {
        admin: true, body: true, 404: ['Product not found'], invalid: ['category_id 9 is not a category of this catalog'], 422: integerIssue('path', 'product_id'),
      }),
    },
  }, async (req, reply) => send(reply, await admin(req).changeProduct(req.params.product_id, req.body)));

  app.delete('/admin/products/:product_id', {
    schema: {
      operationId: 'adminDeleteProduct', tags, summary: 'Delete a product',
      description: 'Carts holding it no longer show it and their checkout answers 400 "Product N no longer exists" until the line is removed; orders keep their lines.',
      params: ProductId,
      response: noContent({ admin: true, bodyLimit: true, 404: ['Product not found'], 422: integerIssue('path', 'product_id') }),
    },
  }, async (req, reply) => sendAs(reply, await admin(req).deleteProduct(req.params.product_id), 204));

  app.post('/admin/categories', {
    schema: {
      operationId: 'adminAddCategory', tags, summary: 'Add a category',
      body: CategoryBody,
      response: responses(Type.Ref('Category'), CATEGORY, { created: true, admin: true, body: true, 409: ['Category already exists', "Slug 'garden' is taken"], 422: integerIssue('body', 'id') }),
    },
  }, async (req, reply) => sendAs(reply, await admin(req).addCategory(req.body), 201));

  app.patch('/admin/categories/:category_id', {
    schema: {
      operationId: 'adminChangeCategory', tags, summary: 'Change a category\'s name or slug',
      params: CategoryId, body: CategoryPatch,
      response: responses(Type.Ref('Category'), CATEGORY, { admin: true, body: true, 404: ['Category not found'], 409: ["Slug 'garden' is taken"], 422: integerIssue('path', 'category_id') }),
    },
  }, async (req, reply) => send(reply, await admin(req).changeCategory(req.params.category_id, req.body)));

  app.delete('/admin/categories/:category_id', {
    schema: {
      operationId: 'adminDeleteCategory', tags, summary: 'Delete a category without products',
      params: CategoryId,
      response: noContent({ admin: true, bodyLimit: true, 404: ['Category not found'], 409: ['Category has products: move or delete them first'], 422: integerIssue('path', 'category_id') }),
    },
  }, async (req, reply) => sendAs(reply, await admin(req).deleteCategory(req.params.category_id), 204));

  app.put('/admin/catalog', {
    bodyLimit: CATALOG_BODY_LIMIT,
    schema: {
      operationId: 'adminReplaceCatalog', tags, summary: 'Replace the whole catalog (categories and products)',
      description: `At most MAX_CATALOG_PRODUCTS (${maxCatalogProducts}) products. Carts and orders stay; see DELETE /admin/products/{product_id} for lines whose product is gone.`,
      body: CatalogBody,
      response: responses(Type.Object({ categories: Type.Integer(), products: Type.Integer() }), { categories: 5, products: 25 }, {
        admin: true, body: true, invalid: ['catalog.products[3].price must be a number from 0 to 21474836.47 with at most two decimals, got -1'],
      }),
    },
  }, async (req, reply) => send(reply, await admin(req).replaceCatalog(req.body, maxCatalogProducts)));
};

import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { send } from '../http/problem.js';
import { IdempotencyHeaders } from '../http/idempotency.js';
import { MAX_INT32, integerIssue, responses, textIdIssue } from '../http/schemas.js';

/** Path of the cart routes; the input schemas here are also the MCP tools' (src/mcp/shop-tools.ts). */
export const CartId = Type.Object({ cart_id: Type.String({ description: 'Cart id from POST /cart' }) });
/** Path of one cart line. */
export const CartLine = Type.Object({ cart_id: Type.String(), product_id: Type.Integer() });

const CartViewSchema = Type.Object({
  cart_id: Type.String(),
  items: Type.Array(
    Type.Object({
      product_id: Type.Integer(),
      name: Type.String(),
      price: Type.Number(),
      quantity: Type.Integer(),
      line_total: Type.Number({ description: 'price × quantity' }),
    }),
  ),
  total: Type.Number({ description: 'Sum of line totals' }),
});

const LineChange = Type.Object({
  cart_id: Type.String(),
  product_id: Type.Integer(),
  quantity: Type.Integer({ description: "The line's new total quantity" }),
});

/** A quantity in a body: below the minimum is the service's 400; past 32 bits is a 422 naming the bound. */
const Quantity = (options: Record<string, unknown>) => Type.Integer({ minimum: -MAX_INT32 - 1, maximum: MAX_INT32, ...options });

/** Quantity added when a request names none. */
const DEFAULT_QUANTITY = 1;

/** POST /cart/{cart_id}/items body. */
export const AddItemBody = Type.Object({ product_id: Type.Integer(), quantity: Type.Optional(Quantity({ default: DEFAULT_QUANTITY })) });
/** PATCH /cart/{cart_id}/items/{product_id} body. */
export const SetQuantityBody = Type.Object({ quantity: Quantity({ description: "The line's new quantity; 0 removes it" }) });

const stockErrors = (minimum: number) => [`Quantity must be at least ${minimum}`, "Not enough stock for 'Wireless Bluetooth Headphones' (requested 200, available 120)"];

const CART_ID = '5f0c2a9e41b7d3c8a6e1f024';

/** Cart routes; each request runs against its own shop (`req.shop`, resolved once per request). */
export const cartRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/cart', {
    config: { idempotent: true },
    schema: {
      operationId: 'createCart',
      headers: IdempotencyHeaders,
      tags: ['cart'],
      summary: 'Create an empty cart',
      description: `Carts idle for longer than CART_TTL_SECONDS (default 7 days) expire and answer 404. A body, if any, is ignored.`,
      response: responses(Type.Object({ cart_id: Type.String() }), { cart_id: CART_ID }, {
        idempotent: true,
        bodyLimit: true,
        422: { type: 'string_too_long', loc: ['header', 'idempotency-key'], msg: 'String should have at most 255 characters', input: 'k…', ctx: { max_length: 255 } },
      }),
    },
  }, async (req, reply) => send(reply, await req.shop.carts.create()));

  app.get('/cart/:cart_id', {
    schema: {
      operationId: 'getCart',
      tags: ['cart'],
      summary: 'View a cart',
      params: CartId,
      response: responses(
        CartViewSchema,
        { cart_id: CART_ID, items: [{ product_id: 1, name: 'Wireless Bluetooth Headphones', price: 59.99, quantity: 2, line_total: 119.98 }], total: 119.98 },
        { 404: ['Cart not found'], 422: textIdIssue('cart_id') },
      ),
    },
  }, async (req, reply) => send(reply, await req.shop.carts.view(req.params.cart_id)));

  app.post('/cart/:cart_id/items', {
    config: { idempotent: true },
    schema: {
      operationId: 'addCartItem',
      headers: IdempotencyHeaders,
      tags: ['cart'],
      summary: 'Add a product to a cart (quantities accumulate)',
      params: CartId,
      body: AddItemBody,
      response: responses(LineChange, { cart_id: CART_ID, product_id: 1, quantity: 2 }, {
        404: ['Cart not found', 'Product not found'],
        400: stockErrors(1),
        body: true,
        idempotent: true,
        422: integerIssue('body', 'product_id'),
      }),
    },
  }, async (req, reply) => send(reply, await req.shop.carts.addItem(req.params.cart_id, req.body.product_id, req.body.quantity ?? DEFAULT_QUANTITY)));

  app.patch('/cart/:cart_id/items/:product_id', {
    schema: {
      operationId: 'setCartItemQuantity',
      tags: ['cart'],
      summary: "Set a line's quantity (0 removes it)",
      params: CartLine,
      body: SetQuantityBody,
      response: responses(LineChange, { cart_id: CART_ID, product_id: 1, quantity: 3 }, {
        404: ['Cart not found', 'Product not found', 'Item not in cart'],
        400: stockErrors(0),
        body: true,
        422: integerIssue('path', 'product_id'),
      }),
    },
  }, async (req, reply) => send(reply, await req.shop.carts.setItem(req.params.cart_id, req.params.product_id, req.body.quantity)));

  app.delete('/cart/:cart_id/items/:product_id', {
    schema: {
      operationId: 'removeCartItem',
      tags: ['cart'],
      summary: 'Remove a line from a cart',
      params: CartLine,
      response: responses(Type.Object({ cart_id: Type.String(), removed_product_id: Type.Integer() }), { cart_id: CART_ID, removed_product_id: 1 }, {
        404: ['Cart not found', 'Item not in cart'],
        bodyLimit: true,
        422: integerIssue('path', 'product_id'),
      }),
    },
  }, async (req, reply) => send(reply, await req.shop.carts.removeItem(req.params.cart_id, req.params.product_id)));
};

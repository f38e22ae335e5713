import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { send } from '../http/problem.js';
import { IdempotencyHeaders } from '../http/idempotency.js';
import { StringEnum, responses, textIdIssue } from '../http/schemas.js';
import { CHECKOUT_MESSAGE } from './service.js';

/** Every order state; `refunded` only follows `paid`. */
export const ORDER_STATUSES = ['pending_payment', 'paid', 'payment_failed', 'expired', 'cancelled', 'refunded'] as const;

const OrderStatusSchema = StringEnum([...ORDER_STATUSES], {
  description: 'pending_payment → paid | payment_failed | expired | cancelled; paid → refunded (when the gateway refunds its payment). All but pending_payment and paid are final.',
});

const OrderSchema = Type.Object(
  {
    order_id: Type.String(),
    cart_id: Type.String(),
    items: Type.Array(
      Type.Object({ product_id: Type.Integer(), quantity: Type.Integer(), price: Type.Number(), line_total: Type.Number() }),
    ),
    total: Type.Number(),
    status: OrderStatusSchema,
    payment_id: Type.Optional(Type.String({ description: 'Gateway payment id, once a payment is known' })),
    paid_at: Type.Optional(Type.String({ format: 'date-time' })),
    reason: Type.Optional(Type.String({ description: 'Why the payment failed, or why it was refunded, once known' })),
    expires_at: Type.Optional(Type.String({ format: 'date-time', description: 'While pending: when the reservation lapses' })),
  },
  { $id: 'Order' },
);

/** Path of the order routes (also the MCP order tools' input). */
export const OrderId = Type.Object({ order_id: Type.String() });
/** Path of the checkout route. */
export const CheckoutParams = Type.Object({ cart_id: Type.String() });

const ORDER_ID = '3f2a9c0d5b7e41f6a8c2d9e0b1f4a7c3';
const ORDER = {
  order_id: ORDER_ID,
  cart_id: '5f0c2a9e41b7d3c8a6e1f024',
  items: [{ product_id: 1, quantity: 2, price: 59.99, line_total: 119.98 }],
  total: 119.98,
  status: 'pending_payment',
  expires_at: '2026-01-01T12:15:00.000Z',
};

/** Checkout and order routes, against the request's shop (`req.shop`). */
export const orderRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addSchema(OrderSchema);

  app.post('/cart/:cart_id/checkout', {
    config: { idempotent: true },
    schema: {
      operationId: 'checkoutCart',
      headers: IdempotencyHeaders,
      tags: ['orders'],
      summary: 'Turn a cart into a pending_payment order, reserving its stock',
      description:
        'Stock is reserved in the same transaction; if any line does not fit, nothing is reserved. ' +
        'The order expires after ORDER_TTL_SECONDS unless paid, returning its stock.',
      params: CheckoutParams,
      response: responses(
        Type.Object({ order_id: Type.String(), total: Type.Number(), message: Type.String() }),
        { order_id: ORDER_ID, total: 119.98, message: CHECKOUT_MESSAGE },
        {
          404: ['Cart not found'],
          400: ['Cart is empty', 'Product 7 no longer exists', "Not enough stock for 'Wireless Bluetooth Headphones' (requested 200, available 120)"],
          idempotent: true,
          bodyLimit: true,
          422: textIdIssue('cart_id'),
        },
      ),
    },
  }, async (req, reply) => send(reply, await req.shop.orders.checkout(req.params.cart_id)));

  app.get('/orders/:order_id', {
    schema: {
      operationId: 'getOrder',
      tags: ['orders'],
      summary: 'One order',
      params: OrderId,
      response: responses(Type.Ref('Order'), ORDER, { 404: ['Order not found'], 422: textIdIssue('order_id') }),
    },
  }, async (req, reply) => send(reply, await req.shop.orders.get(req.params.order_id)));

  app.post('/orders/:order_id/cancel', {
    schema: {
      operationId: 'cancelOrder',
      tags: ['orders'],
      summary: 'Cancel a pending_payment order, returning its stock',
      params: OrderId,
      response: responses(Type.Ref('Order'), { ...ORDER, status: 'cancelled', expires_at: undefined }, {
        404: ['Order not found'],
        400: ['Order already processed (status: paid)'],
        bodyLimit: true,
        422: textIdIssue('order_id'),
      }),
    },
  }, async (req, reply) => send(reply, await req.shop.orders.cancel(req.params.order_id)));
};

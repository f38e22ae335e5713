import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { send } from '../http/problem.js';
import { IdempotencyHeaders } from '../http/idempotency.js';
import { StringEnum, responses } from '../http/schemas.js';
import { CHECKOUT_MESSAGE, type OrderService } from './service.js';

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

const OrderId = Type.Object({ order_id: Type.String() });

export const orderRoutes: FastifyPluginAsyncTypebox<{ orders: OrderService }> = async (app, { orders }) => {
  app.addSchema(OrderSchema);

  app.post('/cart/:cart_id/checkout', {
    config: { idempotent: true },
    schema: {
      headers: IdempotencyHeaders,
      tags: ['orders'],
      summary: 'Turn a cart into a pending_payment order, reserving its stock',
      description:
        'Stock is reserved in the same transaction; if any line does not fit, nothing is reserved. ' +
        'The order expires after ORDER_TTL_SECONDS unless paid, returning its stock.',
      params: Type.Object({ cart_id: Type.String() }),
      response: responses(
        Type.Object({ order_id: Type.String(), total: Type.Number(), message: Type.String({ examples: [CHECKOUT_MESSAGE] }) }),
        {
          404: 'Cart not found',
          400: "Cart is empty | Product {id} no longer exists | Not enough stock for '{name}' (requested {q}, available {s})",
        },
      ),
    },
  }, async (req, reply) => send(reply, await orders.checkout(req.params.cart_id)));

  app.get('/orders/:order_id', {
    schema: { tags: ['orders'], summary: 'One order', params: OrderId, response: responses(Type.Ref('Order'), { 404: 'Order not found' }) },
  }, async (req, reply) => send(reply, await orders.get(req.params.order_id)));

  app.post('/orders/:order_id/cancel', {
    schema: {
      tags: ['orders'],
      summary: 'Cancel a pending_payment order, returning its stock',
      params: OrderId,
      response: responses(Type.Ref('Order'), { 404: 'Order not found', 400: 'Order already processed (status: {status})' }),
    },
  }, async (req, reply) => send(reply, await orders.cancel(req.params.order_id)));
};

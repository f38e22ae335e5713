import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { send } from '../http/problem.js';
import { MAX_AMOUNT, StringEnum, responses } from '../http/schemas.js';
import type { OrderService } from '../orders/service.js';
import { SIGNATURE_HEADER, verifySignature } from './signature.js';

const ConfirmBody = Type.Object({
  order_id: Type.String(),
  status: Type.String({ description: "'success' or 'failed', case-insensitive" }),
  amount: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_AMOUNT, description: 'When present, must equal the order total to the cent' })),
  payment_id: Type.Optional(Type.String({ maxLength: 200 })),
  reason: Type.Optional(Type.String({ maxLength: 200 })),
});

export const paymentRoutes: FastifyPluginAsyncTypebox<{ orders: OrderService; webhookSecret: string | undefined }> = async (
  app,
  { orders, webhookSecret },
) => {
  app.post('/payments/confirm', {
    schema: {
      tags: ['payments'],
      summary: 'Payment callback: the gateway reports the outcome of an order payment',
      description: webhookSecret
        ? 'Requires header X-Payment-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>"> (5-minute tolerance).'
        : 'PAYMENTS_WEBHOOK_SECRET is not set: unsigned callbacks are accepted.',
      headers: Type.Object({ [SIGNATURE_HEADER]: Type.Optional(Type.String()) }),
      body: ConfirmBody,
      response: responses(
        Type.Object({ order_id: Type.String(), status: StringEnum(['paid', 'payment_failed']), message: Type.String() }),
        {
          404: 'Order not found',
          400: "status must be either 'success' or 'failed' | Order already processed (status: {status}) | Amount {amount} does not match order total {total}",
          ...(webhookSecret ? { 401: 'Missing, malformed, invalid or stale X-Payment-Signature' } : {}),
          body: true,
        },
      ),
    },
    // Authenticate before anything else is looked at: an unsigned caller learns nothing, changes nothing.
    preValidation: async (req, reply) => {
      if (!webhookSecret) return;
      const check = verifySignature(webhookSecret, req.headers[SIGNATURE_HEADER] as string | undefined, req.rawBody ?? '');
      if (!check.valid) {
        req.log.warn({ reason: check.reason }, 'payment callback refused');
        return reply.code(401).send({ detail: check.reason });
      }
    },
  }, async (req, reply) => send(reply, await orders.confirmPayment(req.body)));
};

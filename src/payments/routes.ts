import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { send } from '../http/problem.js';
import { MAX_AMOUNT, StringEnum, responses } from '../http/schemas.js';
import { ORDER_STATUSES } from '../orders/routes.js';
import { SIGNATURE_HEADER, verifySignature } from './signature.js';

const ConfirmBody = Type.Object({
  order_id: Type.String(),
  // Documented as a closed set; checked by the service, case-insensitively, with the contract's 400.
  status: Type.String({
    description: "'success' or 'failed' (case-insensitive), or 'refunded' (needs payment_id): the gateway's news about payment_id",
    'x-enum': ['success', 'failed', 'refunded'],
  }),
  amount: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: MAX_AMOUNT,
      description: 'A JSON number (text is refused); when present, must equal the order total to the cent (within a millionth of a cent)',
    }),
  ),
  payment_id: Type.Optional(Type.String({ maxLength: 200 })),
  reason: Type.Optional(Type.String({ maxLength: 200 })),
});

export const paymentRoutes: FastifyPluginAsyncTypebox<{ webhookSecret: string | undefined }> = async (app, { webhookSecret }) => {
  app.post('/payments/confirm', {
    schema: {
      operationId: 'confirmPayment',
      tags: ['payments'],
      summary: 'Payment callback: the gateway reports the outcome of an order payment, or its refund',
      description: webhookSecret
        ? 'Requires header X-Payment-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>"> (5-minute tolerance).'
        : 'PAYMENTS_WEBHOOK_SECRET is not set: unsigned callbacks are accepted.',
      headers: Type.Object({ [SIGNATURE_HEADER]: Type.Optional(Type.String()) }),
      body: ConfirmBody,
      response: responses(
        Type.Object({ order_id: Type.String(), status: StringEnum([...ORDER_STATUSES]), message: Type.String() }),
        { order_id: '3f2a9c0d5b7e41f6a8c2d9e0b1f4a7c3', status: 'paid', message: 'Payment confirmed. Stock updated.' },
        {
          404: ['Order not found'],
          400: [
            "status must be either 'success' or 'failed'",
            "payment_id is required when status is 'refunded'",
            'Order already processed (status: paid)',
            'Amount must have at most two decimal places',
            'Amount 10 does not match order total 119.98',
            'Payment pay_5f0c3a9e1b2d4c6f8a0b1c2d was refunded',
          ],
          // Documented whether or not this instance has a secret: the document must not depend on configuration.
          401: ['Missing X-Payment-Signature header', 'Malformed X-Payment-Signature header', 'Stale X-Payment-Signature timestamp', 'Invalid X-Payment-Signature'],
          body: true,
          422: { type: 'missing', loc: ['body', 'order_id'], msg: 'Field required', input: {} },
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
  }, async (req, reply) => send(reply, await req.shop.orders.confirmPayment(req.body)));
};

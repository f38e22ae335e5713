import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { send, sendAs } from '../http/problem.js';
import { noContent, responses, StringEnum, type ErrorAnswers } from '../http/schemas.js';
import type { WebhookService } from './service.js';

/**
 * Webhook subscriptions and their delivery log (spec/sandboxes.md section 3), behind the admin
 * access rule like the rest of sandbox management; `default` is the root shop.
 */
export interface WebhookRoutesOptions {
  webhooks: WebhookService;
  /** The event types one can subscribe to (spec/sandboxes.md section 3). */
  eventTypes: readonly string[];
}

const Params = Type.Object({ sandbox_id: Type.String() });
const WebhookParams = Type.Object({ sandbox_id: Type.String(), webhook_id: Type.String() });
const DeliveryParams = Type.Object({ sandbox_id: Type.String(), webhook_id: Type.String(), delivery_id: Type.String() });
const Time = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' });

const Webhook = Type.Object({
  webhook_id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String(), { description: 'Event types delivered; ["*"]: all' }),
  created_at: Time,
});
const WithSecret = Type.Object({
  ...Webhook.properties,
  secret: Type.String({ description: 'Key of the X-Store-Signature HMAC' }),
});
const Attempt = Type.Object({
  delivery_id: Type.String({ description: 'One event sent to this webhook; its attempts share it' }),
  event_id: Type.String({ description: 'The body\'s event_id: the same on every attempt and redelivery' }),
  event_seq: Type.Integer(),
  event_type: Type.String(),
  attempt: Type.Integer({ description: '1 for the first attempt of a delivery' }),
  at: Time,
  http_status: Type.Union([Type.Integer(), Type.Null()], { description: 'The receiver\'s status; null: no answer (see error)' }),
  error: Type.Union([Type.String(), Type.Null()], { description: 'Network error, timeout, refused host or redirect not followed' }),
  ms: Type.Integer({ description: 'Duration of the attempt' }),
  state: StringEnum(['pending', 'delivered', 'failed'] as const, { description: 'The delivery\'s state now: pending (a retry is due), delivered (a 2xx), failed (attempts spent)' }),
});
const Queued = Type.Object({
  delivery_id: Type.String(),
  event_id: Type.String(),
  event_type: Type.String(),
  state: Type.Literal('pending'),
  attempt: Type.Integer({ description: 'The number the queued attempt gets' }),
});

const SECRET = '2f0b6c1e9d8a7f6e5d4c3b2a19081726354453627180f9e8d7c6b5a493827160';
const WEBHOOK = { webhook_id: 'wh_8f3a2c1d9e7b6a5f4c3d2e1f', url: 'http://127.0.0.1:9000/hooks', events: ['order.paid', 'order.cancelled'], created_at: '2026-01-01T12:00:00.000Z' };
const ATTEMPT = {
  delivery_id: 'dlv_0a1b2c3d4e5f60718293a4b5', event_id: 'evt_12_7', event_seq: 7, event_type: 'order.paid', attempt: 2,
  at: '2026-01-01T12:00:03.000Z', http_status: 200, error: null, ms: 4, state: 'delivered',
};
const SANDBOX_404 = ['Sandbox not found'];
const WEBHOOK_404 = ['Sandbox not found', 'Webhook not found'];
const HOST_REFUSED = "Webhook host 'example.com' is not allowed: WEBHOOK_ALLOWED_HOSTS allows loopback (127.0.0.0/8, ::1, localhost)";

/** A route's responses with its success answered 202 Accepted (queued work). */
function accepted(schema: Parameters<typeof responses>[0], example: unknown, errors: ErrorAnswers) {
  const { 200: success, ...rest } = responses(schema, example, errors);
  return { 202: success!, ...rest };
}

export const webhookRoutes: FastifyPluginAsyncTypebox<WebhookRoutesOptions> = async (app, { webhooks, eventTypes }) => {
  const tags = ['sandboxes'];
  // As for the rest of sandbox management: an unknown sandbox is 404 before its body is validated.
  app.addHook('preValidation', async (req, reply) => {
    const id = (req.params as { sandbox_id?: string }).sandbox_id;
    if (id !== undefined && req.body !== undefined && !(await webhooks.exists(id))) return reply.code(404).send({ detail: 'Sandbox not found' });
  });

  app.post('/sandboxes/:sandbox_id/webhooks', {
    schema: {
      operationId: 'createWebhook', tags,
      summary: 'Subscribe a URL to events of this sandbox: each matching event is POSTed as JSON, signed, retried until a 2xx',
      description:
        'Body sent: `{event_id, type, created_at, sandbox_id, data}`, header `X-Store-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. ' +
        'Only events recorded after the subscription are sent. The URL\'s host must be allowed by WEBHOOK_ALLOWED_HOSTS (default: loopback only); redirects are not followed. ' +
        'At most MAX_WEBHOOKS (10) per sandbox. Without `secret`, a random one (64 hex digits) is generated and answered here.',
      params: Params,
      body: Type.Object(
        {
          url: Type.String({ minLength: 1, maxLength: 2048, description: 'http or https URL on an allowed host' }),
          events: Type.Array(StringEnum([...eventTypes, '*']), { minItems: 1, maxItems: eventTypes.length + 1, description: 'Event types to deliver, or ["*"] for all' }),
          secret: Type.Optional(Type.String({ minLength: 16, maxLength: 256, description: 'HMAC key; generated when absent' })),
        },
        { additionalProperties: false },
      ),
      response: responses(WithSecret, { ...WEBHOOK, secret: SECRET }, {
        admin: true, created: true, body: true, 404: SANDBOX_404,
        409: ['Webhook limit reached (MAX_WEBHOOKS=10): delete one first', 'The default shop records no events (ROOT_EVENTS=off): start the store with ROOT_EVENTS=changes, or subscribe in a sandbox'],
        422: { type: 'literal_error', loc: ['body', 'events', 0], msg: "Input should be 'request', 'cart.created', … or '*'", input: 'order.shipped' },
        invalid: [HOST_REFUSED, "url must use http or https, got 'ftp'"],
      }),
    },
  }, async (req, reply) => sendAs(reply, await webhooks.create(req.params.sandbox_id, req.body), 201));

  app.get('/sandboxes/:sandbox_id/webhooks', {
    schema: { operationId: 'listWebhooks', tags, summary: 'The webhooks of a sandbox, oldest first', params: Params, response: responses(Type.Array(Webhook), [WEBHOOK], { admin: true, 404: SANDBOX_404 }) },
  }, async (req, reply) => send(reply, await webhooks.list(req.params.sandbox_id)));

  app.get('/sandboxes/:sandbox_id/webhooks/:webhook_id', {
    schema: { operationId: 'getWebhook', tags, summary: 'One webhook, with its secret', params: WebhookParams, response: responses(WithSecret, { ...WEBHOOK, secret: SECRET }, { admin: true, 404: WEBHOOK_404 }) },
  }, async (req, reply) => send(reply, await webhooks.get(req.params.sandbox_id, req.params.webhook_id)));

  app.delete('/sandboxes/:sandbox_id/webhooks/:webhook_id', {
    schema: { operationId: 'deleteWebhook', tags, summary: 'Unsubscribe: the webhook, its pending deliveries and its delivery log are deleted', params: WebhookParams, response: noContent({ admin: true, bodyLimit: true, 404: WEBHOOK_404 }) },
  }, async (req, reply) => sendAs(reply, await webhooks.delete(req.params.sandbox_id, req.params.webhook_id), 204));

  app.get('/sandboxes/:sandbox_id/webhooks/:webhook_id/deliveries', {
    schema: {
      operationId: 'listWebhookDeliveries', tags, summary: 'Every attempt of this webhook\'s deliveries, newest first',
      description: 'Times are real time (webhooks are sent and retried in real time, whatever the sandbox clock says). A delivery not attempted yet is not listed.',
      params: WebhookParams,
      querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) }),
      response: responses(Type.Array(Attempt), [ATTEMPT], { admin: true, 404: WEBHOOK_404, 422: { type: 'less_than_equal', loc: ['query', 'limit'], msg: 'Input should be less than or equal to 1000', input: '5000' } }),
    },
  }, async (req, reply) => send(reply, await webhooks.deliveries(req.params.sandbox_id, req.params.webhook_id, req.query.limit)));

  app.post('/sandboxes/:sandbox_id/webhooks/:webhook_id/deliveries/:delivery_id/redeliver', {
    schema: {
      operationId: 'redeliverWebhook', tags,
      summary: 'Send a delivery\'s event again (same body and event_id, newly signed): 202, the attempt is made at once and shows in the delivery log',
      description: 'The delivery is queued for an attempt now with a fresh retry budget (it is retried like a new one if it fails).',
      params: DeliveryParams,
      response: accepted(Queued, { delivery_id: ATTEMPT.delivery_id, event_id: 'evt_12_7', event_type: 'order.paid', state: 'pending', attempt: 3 }, {
        admin: true, bodyLimit: true, 404: ['Sandbox not found', 'Delivery not found'],
        409: ['An attempt of this delivery is in progress: try again when it ends'],
      }),
    },
  }, async (req, reply) => {
    const result = await webhooks.redeliver(req.params.sandbox_id, req.params.webhook_id, req.params.delivery_id);
    return result.ok ? reply.code(202).send(result.value) : send(reply, result);
  });
};

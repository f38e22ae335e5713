import { Type, type TSchema } from '@sinclair/typebox';
import { documented } from '../http/schemas.js';

/**
 * OpenAPI descriptions of the gateway's endpoints. They document; they do not validate: request
 * bodies are checked by the handlers, in the old gateway's order and with its messages, and
 * responses are written exactly as built (key order included).
 */
const Money = (description: string) => Type.Number({ description, example: 49820.02 });
const Iso = (description: string) => Type.String({ format: 'date-time', description });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const Failed = Type.Object(
  {
    status: Type.Literal('failed'),
    message: Type.String({ example: 'Amount must be a positive number' }),
  },
  { $id: 'Failed', description: 'Error: `{"status": "failed", "message": ...}`' },
);

/** 402 of a payment that did not go through. */
export const PaymentFailed = Type.Object(
  {
    status: Type.Literal('failed'),
    message: Type.String({ example: 'Insufficient funds' }),
    balance: Money('Balance now'),
    requested: Money('Amount asked for'),
    reason: Type.Optional(
      Type.String({ enum: ['insufficient_funds', 'card_declined', 'processing_error', 'store_rejected'], description: 'Order payments only' }),
    ),
    payment_id: Type.Optional(Type.String({ description: 'Order payments only: the failed (or refunded) payment' })),
  },
  { $id: 'PaymentFailed', description: 'Payment not made (or refunded at once); nothing is debited' },
);

export const Transaction = Type.Object(
  {
    recipient: Type.Optional(Type.String({ description: 'POST /pay only' })),
    order_id: Type.Optional(Type.String({ description: 'Order payments and refunds' })),
    amount: Money('Amount moved'),
    balance_after: Money('Balance after this movement'),
    payment_id: Type.Optional(Type.String({ description: 'Order payments and refunds' })),
    type: Type.String({ enum: ['payment', 'refund'] }),
    created_at: Iso('When it happened'),
  },
  { $id: 'Transaction', description: 'A movement of the account (keys in this order; recipient for /pay, order_id and payment_id for orders)' },
);

const CallbackAttempt = Type.Object({
  attempt: Type.Integer({ minimum: 1, description: 'Counted per message; attempt 1 of the success or failed message is made before the payment is answered' }),
  event: Nullable(Type.String({ enum: ['success', 'failed', 'refunded'], description: 'The message this attempt carried' })),
  at: Iso('When it was made'),
  http_status: Nullable(Type.Integer({ description: "The store's status code; null when it could not be reached" })),
  error: Nullable(Type.String({ description: 'Why it did not succeed (network error, 5xx, or the store\'s message for a 4xx)' })),
  signed: Type.Boolean({ description: 'Whether X-Payment-Signature was sent' }),
});

export const PaymentRecord = Type.Object(
  {
    payment_id: Type.String({ example: 'pay_5f0c3a9e1b2d4c6f8a0b1c2d' }),
    order_id: Type.String(),
    amount: Money('Amount of the payment'),
    status: Type.String({ enum: ['succeeded', 'failed', 'refunded'] }),
    reason: Nullable(
      Type.String({
        description: 'failed: insufficient_funds | card_declined | processing_error; refunded: store_rejected | refund_requested | callback_undelivered',
      }),
    ),
    created_at: Iso('When the payment was made'),
    refunded_at: Nullable(Iso('When it was refunded')),
    callback: Type.Object({
      event: Nullable(Type.String({ enum: ['success', 'failed', 'refunded'], description: 'The newest news about the payment, which the job delivers: a refund replaces a success' })),
      state: Type.String({
        enum: ['pending', 'delivered', 'failed', 'refused'],
        description:
          'delivered: the store answered 2xx; refused: 4xx (a success is then refunded); failed: no answer after the last retry (a success is then refunded and the refund delivered)',
      }),
      attempts: Type.Array(CallbackAttempt),
      next_attempt_at: Nullable(Iso('When a pending callback is tried next')),
    }),
    card_last4: Nullable(Type.String({ description: 'Last four digits of card_number, if one was given' })),
  },
  { $id: 'PaymentRecord', description: 'An order payment and the delivery of its callback to the store' },
);

const ref = (id: string, description?: string) => Type.Ref(id, description ? { description } : {});

const Amount = Type.Number({
  minimum: 0.01,
  description:
    'A JSON number (text such as "100" is refused), positive, at most two decimals; a value within a millionth of a cent of a whole cent is that cent (269.96999999999997 is 269.97)',
  example: 179.98,
});

export const PayBody = Type.Object({ amount: Amount, recipient: Type.String({ maxLength: 200, example: 'Alice' }) });

export const OrderPaymentBody = Type.Object({
  order_id: Type.String({ maxLength: 200, description: 'From the store\'s checkout' }),
  amount: Amount,
  card_number: Type.Optional(
    Type.String({
      description:
        'Optional digits (spaces ignored). Test cards: 4242424242424242 pays; 4000000000000002 card_declined; 4000000000009995 insufficient_funds; 4000000000000119 processing_error',
      example: '4242 4242 4242 4242',
    }),
  ),
});

const success = <T extends Record<string, TSchema>>(properties: T, description: string, example: Record<string, unknown>) =>
  Type.Object({ status: Type.Literal('success'), ...properties }, { description, examples: [{ status: 'success', ...example }] });

/** `{"status": "failed", "message": ...}` with each message the route can answer as an example. */
const failed = (status: number, messages: string[]) =>
  documented(Type.Ref('Failed'), `${status}: ${messages.join(' | ')}`, messages.map((message) => ({ status: 'failed', message })));

const TEXT = (field: string) => `'${field}' must be text without NUL characters or unpaired surrogates`;
const notFound = failed(404, ['Payment not found']);
const tooLarge = failed(413, ['Request body too large (limit 1048576 bytes)']);

const TRANSACTION = { order_id: '3f2a9c0d5b7e41f6a8c2d9e0b1f4a7c3', amount: 119.98, balance_after: 49880.02, payment_id: 'pay_5f0c3a9e1b2d4c6f8a0b1c2d', type: 'payment', created_at: '2026-01-01T12:00:00.000Z' };
const PAYMENT = {
  payment_id: 'pay_5f0c3a9e1b2d4c6f8a0b1c2d',
  order_id: '3f2a9c0d5b7e41f6a8c2d9e0b1f4a7c3',
  amount: 119.98,
  status: 'succeeded',
  reason: null,
  created_at: '2026-01-01T12:00:00.000Z',
  refunded_at: null,
  callback: { state: 'delivered', attempts: [{ attempt: 1, at: '2026-01-01T12:00:00.010Z', http_status: 200, error: null, signed: true }], next_attempt_at: null },
  card_last4: '4242',
};
const DECLINED = { status: 'failed', message: 'Card declined', balance: 50000, requested: 119.98, reason: 'card_declined', payment_id: 'pay_5f0c3a9e1b2d4c6f8a0b1c2d' };

/** The answer to `GET /`: where the documentation is. */
export const GATEWAY_WELCOME = 'Payments gateway: interactive docs at /docs, OpenAPI document at /openapi.json';

export const routeSchemas = {
  root: {
    operationId: 'getRoot',
    tags: ['ops'],
    summary: 'Where the documentation is',
    response: {
      200: success(
        { message: Type.Literal(GATEWAY_WELCOME), docs: Type.Literal('/docs'), openapi: Type.Literal('/openapi.json') },
        'Pointers to the docs',
        { message: GATEWAY_WELCOME, docs: '/docs', openapi: '/openapi.json' },
      ),
    },
  },
  healthz: {
    operationId: 'getHealth',
    tags: ['ops'],
    summary: 'Liveness and database check',
    response: {
      200: Type.Object({ status: Type.Literal('ok') }, { description: 'Up, database answering', examples: [{ status: 'ok' }] }),
      503: failed(503, ['Database unavailable']),
    },
  },
  balance: {
    operationId: 'getBalance',
    tags: ['account'],
    summary: 'Balance of the account',
    response: {
      200: success(
        { account_id: Type.String(), holder: Type.String(), balance: Money('Balance') },
        'The account',
        { account_id: 'ACC-001', holder: 'John Doe', balance: 50000 },
      ),
    },
  },
  pay: {
    operationId: 'payRecipient',
    tags: ['account'],
    summary: 'Pay a recipient from the account',
    description: 'Send `application/json`. Errors in check order: 400 (not JSON or `{}`, missing field, bad amount), 402 insufficient funds.',
    body: PayBody,
    response: {
      200: success(
        { message: Type.String(), balance: Money('Balance after the payment'), transaction: ref('Transaction') },
        'Paid',
        {
          message: 'Payment of 100 to Alice completed',
          balance: 49900,
          transaction: { recipient: 'Alice', amount: 100, balance_after: 49900, type: 'payment', created_at: '2026-01-01T12:00:00.000Z' },
        },
      ),
      400: failed(400, [
        'Request body must be JSON',
        "Both 'amount' and 'recipient' fields are required",
        'Amount must be a positive number',
        'Amount must have at most two decimal places',
        'Amount must be at least 0.01',
        'Amount is too large',
        TEXT('recipient'),
      ]),
      402: documented(Type.Ref('PaymentFailed'), 'Insufficient funds: `{status, message, balance, requested}`', [
        { status: 'failed', message: 'Insufficient funds', balance: 50000, requested: 60000 },
      ]),
      413: tooLarge,
    },
  },
  payOrder: {
    operationId: 'payOrder',
    tags: ['orders'],
    summary: 'Pay an order; the store is told the outcome before this answers',
    description:
      'An order has at most one kept payment: repeating the request (on either path) while it is kept debits nothing and returns the first answer again; ' +
      'after a failed or refunded attempt the order can be paid anew. ' +
      'The store is called back (`POST {STORE_URL}/payments/confirm`, signed with X-Payment-Signature when PAYMENTS_WEBHOOK_SECRET is set) ' +
      'before the answer; if it cannot be reached the callback is retried in the background. If the store refuses a successful ' +
      'payment (4xx), the payment is refunded and the answer is 402 with reason `store_rejected`.',
    body: OrderPaymentBody,
    response: {
      200: success(
        {
          message: Type.String(),
          balance: Money('Balance after the payment'),
          transaction: ref('Transaction'),
          shop_notified: Type.Boolean({ description: 'The store answered 2xx to the first callback attempt' }),
          payment_id: Type.String(),
        },
        'Paid',
        {
          message: 'Payment of 119.98 for order 3f2a9c0d5b7e41f6a8c2d9e0b1f4a7c3 completed',
          balance: 49880.02,
          transaction: TRANSACTION,
          shop_notified: true,
          payment_id: 'pay_5f0c3a9e1b2d4c6f8a0b1c2d',
        },
      ),
      400: failed(400, [
        'Request body must be JSON',
        "Both 'order_id' and 'amount' fields are required",
        'Amount must be a positive number',
        'Amount must have at most two decimal places',
        'Amount must be at least 0.01',
        'Amount is too large',
        'card_number must be a string of digits',
        TEXT('order_id'),
      ]),
      402: documented(Type.Ref('PaymentFailed'), 'Declined (card or funds) or refunded because the store refused the order', [DECLINED]),
      413: tooLarge,
    },
  },
  transactions: {
    operationId: 'listTransactions',
    tags: ['account'],
    summary: 'Movements of the account, oldest first',
    response: {
      200: success({ account_id: Type.String(), transactions: Type.Array(ref('Transaction')) }, 'Movements', { account_id: 'ACC-001', transactions: [TRANSACTION] }),
    },
  },
  reset: {
    operationId: 'resetAccount',
    tags: ['account'],
    summary: 'Reset the account: balance 50000, movements, payments and pending callbacks cleared',
    response: {
      200: success({ message: Type.Literal('Account reset to default balance'), balance: Money('50000') }, 'Reset', { message: 'Account reset to default balance', balance: 50000 }),
      413: tooLarge,
    },
  },
  payments: {
    operationId: 'listOrderPayments',
    tags: ['orders'],
    summary: 'Order payments, newest first (at most 100)',
    querystring: Type.Object({ order_id: Type.Optional(Type.String({ description: 'Only this order\'s payments' })) }),
    response: { 200: success({ payments: Type.Array(ref('PaymentRecord')) }, 'Payments', { payments: [PAYMENT] }), 400: failed(400, [TEXT('order_id')]) },
  },
  payment: {
    operationId: 'getOrderPayment',
    tags: ['orders'],
    summary: 'One order payment with its callback attempts',
    params: Type.Object({ payment_id: Type.String() }),
    response: { 200: success({ payment: ref('PaymentRecord') }, 'The payment', { payment: PAYMENT }), 400: failed(400, [TEXT('payment_id')]), 404: notFound },
  },
  refund: {
    operationId: 'refundOrderPayment',
    tags: ['orders'],
    summary: 'Refund a successful order payment; the store is told (signed callback with status "refunded")',
    params: Type.Object({ payment_id: Type.String() }),
    response: {
      200: success(
        { message: Type.String(), balance: Money('Balance after the refund'), payment: ref('PaymentRecord') },
        'Refunded',
        {
          message: 'Payment pay_5f0c3a9e1b2d4c6f8a0b1c2d refunded',
          balance: 50000,
          payment: { ...PAYMENT, status: 'refunded', reason: 'refund_requested', refunded_at: '2026-01-01T12:05:00.000Z' },
        },
      ),
      400: failed(400, ['Payment already refunded', 'Only successful payments can be refunded', TEXT('payment_id')]),
      404: notFound,
      413: tooLarge,
    },
  },
} as const;

export const sharedSchemas = [Failed, PaymentFailed, Transaction, PaymentRecord];


import { Type, type TObject } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { send, sendAs } from '../http/problem.js';
import { noContent, responses, type ErrorAnswers } from '../http/schemas.js';
import { faultRuleSchemas, FaultRuleSchema, DEFAULT_MAX_FAULT_RULES } from './rules.js';
import type { FaultService } from './service.js';

const Params = Type.Object({ sandbox_id: Type.String() });
/** PUT /sandboxes/{id}/faults: its path and body, also the input of the MCP admin tool set_faults. */
export const SetFaultsParams = Params;
export const SetFaultsBody = Type.Object({ rules: Type.Array(FaultRuleSchema, { maxItems: DEFAULT_MAX_FAULT_RULES }) });

/** A rule as listed: its `index` and `fired` count, then its kind's fields (added to the app as `FaultRuleView`). */
export const FaultRuleView = Type.Union(
  faultRuleSchemas.map((schema) =>
    Type.Object({
      index: Type.Integer({ description: 'Position in the list (0-based)' }),
      fired: Type.Union([Type.Integer(), Type.Null()], { description: 'How often it fired; null when the gateway (for its rules) did not answer, or in the sandbox list' }),
      ...(schema as TObject).properties,
    }, { title: `${String(schema.title)}_view` }),
  ),
  { $id: 'FaultRuleView' },
);
const FaultList = Type.Object({ rules: Type.Array(Type.Ref('FaultRuleView')) });

const EXAMPLE_RULES = [
  { kind: 'latency', ms: 300, match: { method: 'GET', path: '/products*' } },
  { kind: 'error', status: 503, match: { path: '/cart/*/checkout' }, times: 1 },
  { kind: 'payment_decline', reason: 'card_declined', probability: 0.5 },
];
const EXAMPLE = { rules: EXAMPLE_RULES.map((rule, index) => ({ index, fired: 0, ...rule })) };
const NOT_FOUND = ['Sandbox not found'];
const UNAVAILABLE = ['Payments gateway unavailable: ECONNREFUSED'];
const base: ErrorAnswers = { admin: true, 404: NOT_FOUND };

/**
 * Faults on demand (spec/sandboxes.md section 2), behind the admin access rule like the rest of
 * sandbox management; `default` is the root shop.
 */
export const faultRoutes: FastifyPluginAsyncTypebox<{ faults: FaultService }> = async (app, { faults }) => {
  const tags = ['sandboxes'];

  app.put('/sandboxes/:sandbox_id/faults', {
    // The body is checked by the service, rule by rule, so that a 422 names the rule and field in
    // one sentence (a schema union's errors would list every kind's complaints).
    validatorCompiler: () => () => true,
    schema: {
      operationId: 'setFaults', tags,
      summary: 'Replace the sandbox\'s fault rules',
      description: `Rules apply until cleared, on every instance. \`match\` (latency and error) takes method, path (relative to the sandbox's base; \`*\` matches any rest) and server (store, default, or gateway). ` +
        `\`probability\` (0..1, default 1) is drawn from the sandbox's seed when it has one; \`times\` caps the firings. At most MAX_FAULT_RULES (${DEFAULT_MAX_FAULT_RULES}) rules. ` +
        'Snapshots do not carry faults (a restore keeps the current rules); reset clears them.',
      params: Params,
      body: SetFaultsBody,
      response: responses(FaultList, EXAMPLE, {
        ...base, body: true, 503: UNAVAILABLE,
        invalid: ["rules[0].ms must be <= 60000", "rules[1].kind must be one of latency, error, out_of_stock, price_change, payment_decline, callback", 'At most 100 fault rules per sandbox (MAX_FAULT_RULES), got 101'],
      }),
    },
  }, async (req, reply) => send(reply, await faults.put(req.params.sandbox_id, req.body)));

  app.get('/sandboxes/:sandbox_id/faults', {
    schema: {
      operationId: 'getFaults', tags, summary: 'The sandbox\'s fault rules, each with how often it fired',
      params: Params, response: responses(FaultList, EXAMPLE, base),
    },
  }, async (req, reply) => send(reply, await faults.get(req.params.sandbox_id)));

  app.delete('/sandboxes/:sandbox_id/faults', {
    schema: {
      operationId: 'clearFaults', tags, summary: 'Clear the sandbox\'s fault rules (204): normal behaviour again',
      params: Params, response: noContent({ ...base, bodyLimit: true, 503: UNAVAILABLE }),
    },
  }, async (req, reply) => sendAs(reply, await faults.clear(req.params.sandbox_id), 204));
};

import { EventsParams, EventsQuery } from '../events/routes.js';
import { SetFaultsBody, SetFaultsParams } from '../faults/routes.js';
import { ClockBody, CreateBody, Params, SnapshotBody, SnapshotParams } from '../sandboxes/routes.js';
import { operation, type Tool } from './tools.js';

/**
 * The admin tools of spec/sandboxes.md section 4, served at /mcp/admin only, behind the admin
 * access rule of section 5. Each is one sandbox management endpoint at the store's root.
 */

const createSandbox = operation({
  name: 'create_sandbox', title: 'Create a sandbox', access: 'admin', method: 'POST', path: '/sandboxes', body: CreateBody,
  description:
    'Creates a private, resettable shop (catalog, stock, carts, orders, gateway account with 50000.00 dollars, clock). All fields optional: ' +
    'sandbox_id (^[a-z0-9][a-z0-9_-]{0,63}$, random when omitted), seed (integer: deterministic ids), now (ISO 8601: a frozen clock), ' +
    'catalog ({categories, products}) or from ({sandbox_id, snapshot}: a fork). Returns store_url and payments_url. ' +
    'Next: point an MCP client at <store>/sandboxes/{sandbox_id}/mcp to shop in it.',
  next: (v) => `Sandbox ${String(v.sandbox_id)} created; its MCP endpoint is ${String(v.store_url)}/mcp.`,
});

const resetSandbox = operation({
  name: 'reset_sandbox', title: 'Reset a sandbox', access: 'admin', method: 'POST', path: '/sandboxes/:sandbox_id/reset', params: Params,
  description: 'Back to the state at creation: its catalog and stock, no carts, orders or payments, balance 50000.00, clock at its start. Works on "default".',
  next: (v) => `Sandbox ${String(v.sandbox_id)} reset.`,
});

const snapshot = operation({
  name: 'snapshot', title: 'Save a snapshot', access: 'admin', method: 'POST', path: '/sandboxes/:sandbox_id/snapshots', params: Params, body: SnapshotBody,
  description: 'Saves the store and gateway state of a sandbox together under a name (^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$; replaces one of that name). Next: restore.',
  next: (v) => `Snapshot ${String(v.name)} saved.`,
});

const restore = operation({
  name: 'restore', title: 'Restore a snapshot', access: 'admin', method: 'POST', path: '/sandboxes/:sandbox_id/snapshots/:name/restore', params: SnapshotParams,
  description: 'Brings a snapshot back exactly: store and gateway state, clock and id counter.',
  next: (v) => `Sandbox ${String(v.sandbox_id)} restored.`,
});

const advanceClock = operation({
  name: 'advance_clock', title: 'Advance the sandbox clock', access: 'admin', method: 'POST', path: '/sandboxes/:sandbox_id/clock', params: Params, body: ClockBody,
  description:
    'Moves a sandbox\'s clock forward, never back: give advance_seconds (0 to 10 years) or now (ISO 8601), not both. ' +
    'Orders past their deadline expire at once and return their stock; carts past their TTL answer "Cart not found". The default sandbox follows real time.',
  next: (v) => `Clock now ${String(v.now)}.`,
});

const getEvents = operation({
  name: 'get_events', title: 'Read the event timeline', access: 'admin', method: 'GET', path: '/sandboxes/:sandbox_id/events', params: EventsParams, query: EventsQuery,
  description:
    'What happened in a sandbox: store and gateway events ({seq, at, source, type, data}) in order, oldest first: requests, cart.*, order.*, payment.*, callback.attempted, ' +
    'fault.fired, clock.advanced, sandbox.reset, snapshot.restored. Only events with seq > after (default 0), at most limit; page on with after = the last seq received.',
  next: (v) => {
    const events = v.events as { seq: number }[];
    return `${events.length} events${events.length ? `, last seq ${events.at(-1)!.seq}: call again with after=${events.at(-1)!.seq} for newer ones` : ''}.`;
  },
});

const getState = operation({
  name: 'get_state', title: 'Read the canonical state', access: 'admin', method: 'GET', path: '/sandboxes/:sandbox_id/state', params: EventsParams,
  description:
    'The whole state of a sandbox in canonical form (catalog with stock, carts, orders with items and statuses, the gateway\'s balance, ledger and payments; ' +
    'money as fixed-decimal text) and its sha256 `hash`: compare hashes, or diff states, to grade a run.',
  next: (v) => `State hash ${String(v.hash)}.`,
});

const setFaults = operation({
  name: 'set_faults', title: 'Set fault rules', access: 'admin', method: 'PUT', path: '/sandboxes/:sandbox_id/faults',
  params: SetFaultsParams, body: SetFaultsBody, bodyCheckedByRoute: true,
  description:
    'Replaces a sandbox\'s fault rules (an empty list clears them; at most 100). Kinds: latency {ms, match?}, error {status, match?} (answers {"detail":"Injected fault"}), ' +
    'out_of_stock {product_id}, price_change {product_id, price in dollars}, payment_decline {reason: card_declined | insufficient_funds | processing_error}, ' +
    'callback {mode: delay (with ms) | duplicate | drop_first | reorder}. match: {method?, path? relative to the sandbox (`*` matches any rest), server?: store | gateway}. ' +
    'Each rule may carry probability (0..1) and times. Returns the rules with how often each fired.',
  next: (v) => `${(v.rules as unknown[]).length} fault rules active.`,
});

/** The admin tools. */
export const adminTools: Tool[] = [createSandbox, resetSandbox, snapshot, restore, advanceClock, setFaults, getEvents, getState];

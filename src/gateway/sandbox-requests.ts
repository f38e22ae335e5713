import { invalid, MESSAGES, NOT_JSON, type Parsed } from './requests.js';
import type { ClockState } from './sandbox-repository.js';

/**
 * What the management endpoints accept (issue-9 interface): sandbox ids, snapshot names, clocks
 * and the create body. Bad input is a 400 naming the field; nothing is changed.
 */
export const SANDBOX_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface CreateRequest {
  sandboxId: string;
  seed: number | null;
  clock: ClockState;
  from: { sandboxId: string; snapshot: string } | undefined;
}

/** Real time: the clock of a sandbox created without one. */
const REAL_TIME: ClockState = { frozen_at: null, offset_ms: 0 };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function parseSandboxId(value: unknown, field = 'sandbox_id'): Parsed<string> {
  if (typeof value !== 'string' || !SANDBOX_ID.test(value)) return invalid(`'${field}' must match ${SANDBOX_ID.source}`);
  return { ok: true, value };
}

export function parseSnapshotName(value: unknown, field = 'snapshot'): Parsed<string> {
  if (typeof value !== 'string' || !SNAPSHOT_NAME.test(value)) return invalid(`'${field}' must match ${SNAPSHOT_NAME.source}`);
  return { ok: true, value };
}

/** `{frozen_at: epoch ms | null, offset_ms: integer ms}`; the instants a JavaScript Date can hold. */
function clockState(value: unknown): Parsed<ClockState> {
  if (!isObject(value)) return invalid("'clock' must be an object {frozen_at, offset_ms}");
  const frozen = value.frozen_at ?? null;
  const offset = value.offset_ms ?? 0;
  if (frozen !== null && !(Number.isSafeInteger(frozen) && Math.abs(frozen as number) <= 8.64e15)) {
    return invalid("'clock.frozen_at' must be null or an integer (epoch milliseconds)");
  }
  if (!(Number.isSafeInteger(offset) && Math.abs(offset as number) <= 8.64e15)) return invalid("'clock.offset_ms' must be an integer (milliseconds)");
  return { ok: true, value: { frozen_at: frozen as number | null, offset_ms: offset as number } };
}

/** The body `{clock}` of reset, restore (optional: undefined keeps the clock) and PUT clock (required). */
export function parseClock(body: unknown, required: boolean): Parsed<ClockState | undefined> {
  if (body === NOT_JSON) return invalid(MESSAGES.notJson);
  const clock = isObject(body) ? body.clock : undefined;
  if (clock === undefined || clock === null) return required ? invalid("'clock' is required") : { ok: true, value: undefined };
  return clockState(clock);
}

/** POST /admin/sandboxes: `{sandbox_id, seed: integer | null, clock, from?: {sandbox_id, snapshot}}`. */
export function parseCreate(body: unknown): Parsed<CreateRequest> {
  if (!isObject(body)) return invalid(MESSAGES.notJson);
  const sandboxId = parseSandboxId(body.sandbox_id);
  if (!sandboxId.ok) return sandboxId;
  const seed = body.seed ?? null;
  if (seed !== null && !Number.isSafeInteger(seed)) return invalid("'seed' must be an integer or null");
  const clock = body.clock === undefined || body.clock === null ? { ok: true as const, value: REAL_TIME } : clockState(body.clock);
  if (!clock.ok) return clock;
  let from: CreateRequest['from'];
  if (body.from !== undefined && body.from !== null) {
    if (!isObject(body.from)) return invalid("'from' must be an object {sandbox_id, snapshot}");
    const owner = parseSandboxId(body.from.sandbox_id, 'from.sandbox_id');
    if (!owner.ok) return owner;
    const snapshot = parseSnapshotName(body.from.snapshot, 'from.snapshot');
    if (!snapshot.ok) return snapshot;
    from = { sandboxId: owner.value, snapshot: snapshot.value };
  }
  return { ok: true, value: { sandboxId: sandboxId.value, seed: seed as number | null, clock: clock.value, from } };
}

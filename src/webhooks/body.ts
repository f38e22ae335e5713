import type { TimelineEvent } from './repository.js';

/**
 * The id receivers dedupe on (spec/sandboxes.md section 3): one per event of a sandbox's timeline,
 * the same on every attempt, redelivery and webhook. Built from the sandbox's key, never reused
 * (unlike a public id, which a new sandbox may take again), and the event's seq.
 */
export const eventId = (sandbox: number, seq: number): string => `evt_${sandbox}_${seq}`;

/**
 * The JSON a receiver gets for one event, built once per delivery and stored, so retries and
 * redeliveries send the same bytes: `{event_id, type, created_at, sandbox_id, data}`, with
 * `created_at` the event's time on the sandbox clock.
 */
export function eventBody(sandbox: number, sandboxId: string, event: TimelineEvent): string {
  return JSON.stringify({
    event_id: eventId(sandbox, event.seq),
    type: event.type,
    created_at: new Date(event.at).toISOString(),
    sandbox_id: sandboxId,
    data: JSON.parse(event.data) as unknown,
  });
}

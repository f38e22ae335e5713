/**
 * Exponential backoff with jitter, for retried deliveries (payment callbacks, webhooks):
 * base * 2^(attempt-1) * random(0.5..1.5) milliseconds after attempt number `attempt` (1 is the first).
 */
export function backoffDelay(attempt: number, baseDelayMs: number, random: () => number = Math.random): number {
  return Math.round(baseDelayMs * 2 ** (attempt - 1) * (0.5 + random()));
}

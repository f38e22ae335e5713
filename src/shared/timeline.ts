/**
 * The event types the gateway records (a subset of the store's EventType, spec/sandboxes.md
 * section 3); the store imports them into a sandbox's timeline (events/gateway-import.ts).
 */
export const GATEWAY_EVENT_TYPES = ['payment.succeeded', 'payment.failed', 'payment.refunded', 'callback.attempted', 'fault.fired'] as const;

let rootKeepsTimeline = true;

/**
 * Sets, once at start-up, whether the root shop (`default`, key 0) keeps a timeline (ROOT_EVENTS,
 * off by default; sandboxes always do). Off, the store's and the gateway's recorders do nothing
 * at the root. Each process calls it from its own configuration.
 */
export function setRootTimeline(enabled: boolean): void {
  rootKeepsTimeline = enabled;
}

/** Whether the shop with this key records events (see setRootTimeline). */
export const keepsTimeline = (key: number): boolean => key !== 0 || rootKeepsTimeline;

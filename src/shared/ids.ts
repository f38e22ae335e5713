import { createHmac, randomBytes } from 'node:crypto';

/** Random hex ids from the OS CSPRNG: unguessable, never sequential. */
export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** 96 bits, 24 hex characters (the old server used 12). */
export const newCartId = (): string => randomHex(12);
/** 128 bits, 32 hex characters, as the old server's order ids. */
export const newOrderId = (): string => randomHex(16);
export const newPaymentId = (): string => `pay_${randomHex(12)}`;
/** An Agentic Commerce Protocol checkout session: `cs_` and 96 bits. */
export const newCheckoutSessionId = (): string => `cs_${randomHex(12)}`;

/**
 * A deterministic id of a seeded sandbox (issue-9 interface, same on the store and the gateway):
 * the first `length` hex digits of HMAC-SHA256(key = String(seed), message = `${kind}:${counter}`).
 * The same seed and the same sequence of counters give the same ids in any process, on either database.
 */
export const seededHex = (seed: number, kind: string, counter: number, length: number): string =>
  createHmac('sha256', String(seed)).update(`${kind}:${counter}`).digest('hex').slice(0, length);

import { randomBytes } from 'node:crypto';

/** Random hex ids from the OS CSPRNG: unguessable, never sequential. */
export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** 96 bits, 24 hex characters (the old server used 12). */
export const newCartId = (): string => randomHex(12);
/** 128 bits, 32 hex characters, as the old server's order ids. */
export const newOrderId = (): string => randomHex(16);
export const newPaymentId = (): string => `pay_${randomHex(12)}`;

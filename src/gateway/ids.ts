import { newPaymentId, seededHex } from '../shared/ids.js';
import type { Db, IdSource } from './context.js';
import type { SandboxRepository } from './sandbox-repository.js';

/** Payment ids as today: `pay_` and 24 hex digits (shared/ids.ts). */
const PAYMENT_HEX = 24;

/** Random ids from the OS CSPRNG: the root and unseeded sandboxes. */
export const randomIds: IdSource = { payment: async () => newPaymentId() };

/** Ids of a seeded sandbox: each takes the sandbox's next counter value in the transaction that creates it. */
export function seededIds(sandboxes: SandboxRepository, key: number, seed: number): IdSource {
  return {
    payment: async (trx: Db) => `pay_${seededHex(seed, 'payment', await sandboxes.nextCounter(trx, key), PAYMENT_HEX)}`,
  };
}

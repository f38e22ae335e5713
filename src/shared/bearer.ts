import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Whether an `Authorization` header is `Bearer <key>` (ADMIN_API_KEY, spec/sandboxes.md section 5),
 * compared in constant time: both sides are hashed first, so neither the key's length nor the
 * position of a first difference shows in the timing. Used by the store and the gateway alike.
 */
export function bearerMatches(header: string | undefined, key: string): boolean {
  return header !== undefined && timingSafeEqual(digest(header), digest(`Bearer ${key}`));
}

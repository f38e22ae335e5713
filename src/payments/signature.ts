import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Payment callback signatures, shared by the gateway (signs) and the store (verifies).
 * Header: `X-Payment-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`,
 * the scheme Stripe uses for webhooks: the timestamp inside the MAC makes a captured request
 * useless after the tolerance window.
 */
export const SIGNATURE_HEADER = 'x-payment-signature';
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const hmac = (secret: string, timestamp: number, rawBody: string): string =>
  createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');

export function signPayload(secret: string, rawBody: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${hmac(secret, timestamp, rawBody)}`;
}

export type SignatureCheck = { valid: true } | { valid: false; reason: string };

export function verifySignature(
  secret: string,
  header: string | undefined,
  rawBody: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): SignatureCheck {
  if (!header) return { valid: false, reason: 'Missing X-Payment-Signature header' };
  const parts = new Map<string, string[]>();
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0) return { valid: false, reason: 'Malformed X-Payment-Signature header' };
    const key = item.slice(0, eq).trim();
    parts.set(key, [...(parts.get(key) ?? []), item.slice(eq + 1).trim()]);
  }
  const t = parts.get('t');
  const candidates = parts.get('v1') ?? [];
  if (t?.length !== 1 || !/^\d{1,12}$/.test(t[0]!) || candidates.length === 0) {
    return { valid: false, reason: 'Malformed X-Payment-Signature header' };
  }
  const timestamp = Number(t[0]);
  if (Math.abs(nowSeconds - timestamp) > SIGNATURE_TOLERANCE_SECONDS) {
    return { valid: false, reason: 'Stale X-Payment-Signature timestamp' };
  }
  const expected = Buffer.from(hmac(secret, timestamp, rawBody), 'hex');
  // Several v1 values let a sender roll its secret; each is compared in constant time.
  const matches = candidates.some((candidate) => {
    const given = Buffer.from(candidate, 'hex');
    return /^[0-9a-f]+$/i.test(candidate) && given.length === expected.length && timingSafeEqual(given, expected);
  });
  return matches ? { valid: true } : { valid: false, reason: 'Invalid X-Payment-Signature' };
}

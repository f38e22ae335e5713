/** Money is integer cents everywhere inside; these are the only conversions to and from JSON numbers. */
export type Cents = number;

/** 17998 -> 179.98: dividing an integer by 100 yields the double nearest the two-decimal value. */
export const toAmount = (cents: Cents): number => cents / 100;

/** Exact for inputs with at most two decimals; anything finer is rounded to the nearest cent. */
export const toCents = (amount: number): Cents => Math.round(amount * 100);

/** Smallest whole cent amount that is >= amount (for inclusive lower bounds such as min_price=20.005). */
export const centsAtLeast = (amount: number): Cents => Math.ceil(Number((amount * 100).toFixed(6)));

/** Largest whole cent amount that is <= amount (for inclusive upper bounds). */
export const centsAtMost = (amount: number): Cents => Math.floor(Number((amount * 100).toFixed(6)));

/**
 * How close (in cents) a JSON number must be to a whole cent to be that cent: a millionth of a cent.
 * Binary doubles cannot hold most two-decimal values, and arithmetic on them drifts a little
 * (3 * 89.99 is 269.96999999999997, 2.3e-12 cents off 269.97); a client that computed a total that
 * way means the cent, while 0.001 or 12.345 is really a fraction of a cent.
 */
export const CENT_TOLERANCE = 1e-6;

export const MONEY_MESSAGES = {
  notPositive: 'Amount must be a positive number',
  tooPrecise: 'Amount must have at most two decimal places',
  tooSmall: 'Amount must be at least 0.01',
  tooLarge: 'Amount is too large',
} as const;

export type MoneyParse = { ok: true; cents: Cents } | { ok: false; message: string };

/**
 * A money amount as whole cents, read only from a JSON number (text such as "100" is not money:
 * the old gateway refused it, and a string that parses leniently is how "1e2" or " 5 " became a debit).
 * Errors, in check order: not a finite number > 0 -> notPositive; more than two decimals (beyond
 * CENT_TOLERANCE) -> tooPrecise; a positive amount that is 0 cents -> tooSmall; past 2^53 cents -> tooLarge.
 */
export function parseMoney(value: unknown): MoneyParse {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return { ok: false, message: MONEY_MESSAGES.notPositive };
  const hundredfold = value * 100;
  const cents = Math.round(hundredfold);
  // Either the nearest double to cents/100 (exact for any size) or within the tolerance of it.
  if (cents / 100 !== value && Math.abs(hundredfold - cents) > CENT_TOLERANCE) return { ok: false, message: MONEY_MESSAGES.tooPrecise };
  if (cents < 1) return { ok: false, message: MONEY_MESSAGES.tooSmall };
  if (!Number.isSafeInteger(cents)) return { ok: false, message: MONEY_MESSAGES.tooLarge };
  return { ok: true, cents };
}

/** 17998 -> "179.98": exact fixed-decimal text for canonical forms (state hashes), never a binary double. */
export const toFixedAmount = (cents: Cents): string => {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
};

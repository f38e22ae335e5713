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

/**
 * An instant in epoch milliseconds as ISO 8601 UTC (`2030-01-01T00:00:00.000Z`), the form every
 * time in an answer takes (spec/sandboxes.md). Accepts the text a PostgreSQL bigint column reads as.
 */
export const isoTime = (ms: number | string): string => new Date(Number(ms)).toISOString();

/**
 * Why a fetch could not reach its server, in one word where there is one (ECONNREFUSED):
 * undici reports the socket's error as the cause (several, when it tried several addresses).
 */
export function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; errors?: { code?: string }[] } }).cause;
  return cause?.code ?? cause?.errors?.[0]?.code ?? (error as Error).message;
}

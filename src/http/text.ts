/**
 * Text both databases can store the same way. PostgreSQL `text` rejects NUL (SQLite keeps it, and
 * its LIKE stops matching there); a lone UTF-16 surrogate (`"\ud800"` in JSON) has no UTF-8 form,
 * so the driver would silently store U+FFFD instead. Both servers refuse such input before it
 * reaches a service, with the location of the first offending value.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const UNSTORABLE_TEXT_MESSAGE = 'Input should be text without NUL characters or unpaired surrogates';

export const isStorableText = (text: string): boolean => !text.includes('\0') && !LONE_SURROGATE.test(text);

/**
 * The path (keys and array indexes) of the first string in `value`, object keys included, that is
 * not storable text; undefined when all are. `[]` means `value` itself is such a string.
 */
export function findUnstorableText(value: unknown, depth = 0): (string | number)[] | undefined {
  if (typeof value === 'string') return isStorableText(value) ? undefined : [];
  // Bodies are at most 1 MiB and parsed by JSON.parse; the depth guard only stops pathological nesting.
  if (value === null || typeof value !== 'object' || depth > 64) return undefined;
  // Plain loops: every request passes here (path, query and body), so nothing is allocated on the way.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const inner = findUnstorableText(value[i], depth + 1);
      if (inner) return [i, ...inner];
    }
    return undefined;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (!isStorableText(key)) return [key];
    const inner = findUnstorableText((value as Record<string, unknown>)[key], depth + 1);
    if (inner) return [key, ...inner];
  }
  return undefined;
}

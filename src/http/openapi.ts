/**
 * A closed set the handler checks itself (the payment callback's `status`: case-insensitive, with
 * the contract's 400 for anything else) is marked `x-enum` in its route schema, so that the
 * validator leaves it alone, and shown as a plain `enum` in the OpenAPI document.
 */
export function documentEnums<T>(document: T): T {
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(visit);
    const record = node as Record<string, unknown>;
    if (Array.isArray(record['x-enum'])) {
      record.enum = record['x-enum'];
      delete record['x-enum'];
    }
    Object.values(record).forEach(visit);
  };
  visit(document);
  return document;
}

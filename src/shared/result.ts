/**
 * Expected failures are values, not exceptions: a service returns `fail(...)` and the HTTP layer
 * maps the kind to a status code. Exceptions are left for the unexpected.
 */
/**
 * not_found 404, rejected 400, conflict 422 (a reused Idempotency-Key), invalid 422 (input the
 * schema could not check, e.g. a catalog's fields), unauthorized 401, exists 409 (the thing exists
 * or a limit is reached), unavailable 503 (a server this one needs did not answer).
 */
export type FailureKind = 'not_found' | 'rejected' | 'conflict' | 'invalid' | 'unauthorized' | 'exists' | 'unavailable';

export interface Failure {
  ok: false;
  kind: FailureKind;
  message: string;
}

export interface Success<T> {
  ok: true;
  value: T;
}

export type Result<T> = Success<T> | Failure;

export const ok = <T>(value: T): Success<T> => ({ ok: true, value });
export const fail = (kind: FailureKind, message: string): Failure => ({ ok: false, kind, message });

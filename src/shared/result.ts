/**
 * Expected failures are values, not exceptions: a service returns `fail(...)` and the HTTP layer
 * maps the kind to a status code. Exceptions are left for the unexpected.
 */
export type FailureKind = 'not_found' | 'rejected' | 'conflict' | 'unauthorized';

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

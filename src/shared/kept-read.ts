import type { Result } from './result.js';

/**
 * A read whose answer a service may keep between requests (CatalogService): the same object while
 * it is current, so its JSON can be kept too (http/kept-json.ts) and a repeat of the request can be
 * answered ahead of the framework (http/kept-responses.ts). None of the functions holds a request.
 */
export interface KeptRead<T extends object> {
  /** The kept answer when the service knows, without waiting, that it is current; else undefined. */
  now(): T | undefined;
  /**
   * The kept answer once what that takes is read (the catalog state, the shop's fault rules);
   * undefined when the current answer is not a kept one or a fault rule may apply to the request.
   */
  current(): Promise<T | undefined>;
  /** The current answer, kept or not; a failure is the route's to send. */
  read(): Promise<Result<T>>;
  /** Whether `value`, given by `read`, is a kept answer (one that `now` and `current` give again). */
  keeps(value: T): boolean;
}

/**
 * Shares one read among concurrent callers without ever answering older than the call: a caller
 * that arrives while a read is in flight waits for the next read, which starts after that one
 * ends, and shares it with everyone else who arrived meanwhile. So under load one statement
 * serves every request that came during the previous one (at most two reads per key at a time),
 * and each answer still reflects every write committed before its request arrived.
 *
 * Used for the catalog state every catalog read checks first (src/catalog/service.ts): on
 * PostgreSQL it is a round trip per request otherwise.
 */
export class FreshRead<T> {
  private running: Promise<T> | undefined;
  private next: Promise<T> | undefined;

  /**
   * The result of a read started at or after this call. `load` runs the read; when one is already
   * queued, the queued read's own `load` serves (callers pass equivalent reads).
   */
  read(load: () => Promise<T>): Promise<T> {
    // A queued read starts only after this call, so joining it is fresh enough even in the
    // moment between the running read settling and the queued one starting.
    if (this.next) return this.next;
    if (!this.running) return this.start(load);
    this.next = this.running.then(
      () => this.startQueued(load),
      () => this.startQueued(load),
    );
    return this.next;
  }

  private startQueued(load: () => Promise<T>): Promise<T> {
    this.next = undefined;
    return this.start(load);
  }

  private start(load: () => Promise<T>): Promise<T> {
    const read = load().finally(() => {
      if (this.running === read) this.running = undefined;
    });
    this.running = read;
    return read;
  }
}

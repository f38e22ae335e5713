import type { Logger } from 'pino';

/**
 * A background job that runs `work` at start, then every `intervalMs`, never twice at once: a tick
 * (or a wake-up) that comes while a run is in flight makes one more run when it ends. Used by the
 * gateway's callback worker and the store's webhook worker, whose jobs live in the database.
 */
export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** A wake-up came while a run was in flight: run again when it ends. */
  private again = false;
  private stopped = false;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly log: Logger,
    /** The log message of a run that threw (the loop goes on). */
    private readonly failure: string,
  ) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    this.poll();
  }

  /** Stops the timer and waits for the run in flight to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Runs now rather than at the next tick (new work is known to be waiting). */
  wake(): void {
    this.poll();
  }

  private poll(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.work()
      .catch((error: unknown) => this.log.error({ err: error }, this.failure))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.poll();
        }
      });
  }
}

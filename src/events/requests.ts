import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import type { StoreSchema } from '../db/schema.js';
import { ok } from '../shared/result.js';
import { recordEvents, type NewEvent } from './recorder.js';

/** How long a request event waits in memory before it is written (with every other one due). */
const FLUSH_MS = 100;
/** Written at once past this many waiting events. */
const FLUSH_AT = 500;

/**
 * `request` events (spec/sandboxes.md section 3): `{method, path, status, ms}` with `path`
 * relative to the sandbox's base (`/sandboxes/run-7/products` is `/products`) and `query` (the
 * raw query string) when there is one. The onResponse hook (`hook`) runs after the answer is
 * sent and only queues the event in memory; every FLUSH_MS the queue is written, one transaction
 * and one counter update per sandbox, so the handler never waits for the timeline and a busy
 * sandbox pays one write per batch, not per request. The seqs stay gapless (recordEvents). A
 * process that dies loses at most the last FLUSH_MS of request events, never a state change
 * (those are written in the change's own transaction). `close` writes what is left.
 */
export class RequestEvents {
  private queue = new Map<number, NewEvent[]>();
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing = Promise.resolve();

  constructor(
    private readonly database: Database<StoreSchema>,
    private readonly log: Logger,
  ) {}

  /** The onResponse hook: queues the request's event in its shop's timeline. */
  readonly hook = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const shop = req.shop as FastifyRequest['shop'] | null;
    if (!shop) return; // an unknown sandbox: answered 404 before any shop was resolved
    const base = shop.sandbox.key === 0 ? '' : `/sandboxes/${shop.sandbox.id}`;
    const url = req.url.startsWith(base) ? req.url.slice(base.length) : req.url;
    const mark = url.indexOf('?');
    const data = {
      method: req.method,
      path: (mark < 0 ? url : url.slice(0, mark)) || '/',
      ...(mark < 0 ? {} : { query: url.slice(mark + 1) }),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 100) / 100,
    };
    const list = this.queue.get(shop.sandbox.key) ?? [];
    list.push({ at: shop.clock.now(), type: 'request', data });
    this.queue.set(shop.sandbox.key, list);
    if (++this.size >= FLUSH_AT) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  };

  /** Writes every queued event (after any write in progress); resolves when written. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = new Map();
    this.size = 0;
    this.flushing = this.flushing.then(() => this.write(batch));
    return this.flushing;
  }

  private async write(batch: Map<number, NewEvent[]>): Promise<void> {
    for (const [key, events] of batch) {
      try {
        await this.database.transact(async (trx) => ok(await recordEvents({ q: trx, key }, events)));
      } catch (error) {
        this.log.warn({ err: error, sandbox: key, events: events.length }, 'request events not recorded');
      }
    }
  }

  /** Writes what is left (the server has stopped answering). */
  close(): Promise<void> {
    return this.flush();
  }
}

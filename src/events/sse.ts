import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventService, TimelineRef } from './service.js';

/** How often a stream looks for new events in the database (every instance writes there). */
const POLL_MS = 250;
/** A comment line this often keeps proxies and clients from timing out an idle stream. */
const HEARTBEAT_MS = 15_000;

/**
 * Server-Sent Events of sandbox timelines (spec/sandboxes.md section 3): each event as
 * `id: <seq>`, `event: <type>`, `data: <the event as JSON>`. A stream starts after `after` or
 * the `Last-Event-ID` a reconnecting client sends (whichever is later), polls the database, so
 * events written by any instance reach it, sends a heartbeat comment when idle, and ends when
 * the client goes, the sandbox is deleted, or the server closes (`closeAll`, from preClose).
 */
export class EventStreams {
  private readonly open = new Set<() => void>();

  constructor(private readonly events: EventService) {}

  /** The resume point: the later of `after` and a numeric Last-Event-ID header. */
  static startAfter(after: number, lastEventId: string | string[] | undefined): number {
    const header = Array.isArray(lastEventId) ? lastEventId[0] : lastEventId;
    const resumed = header !== undefined && /^\d{1,15}$/.test(header.trim()) ? Number(header.trim()) : 0;
    return Math.max(after, resumed);
  }

  /** Takes the reply over and streams until the client, the sandbox or the server goes. */
  async stream(req: FastifyRequest, reply: FastifyReply, ref: TimelineRef, after: number): Promise<void> {
    reply.hijack();
    const res = reply.raw;
    // Headers set by hooks so far (CORS) go out with the stream's own.
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 1000\n\n');

    let ended = false;
    let wake: () => void = () => undefined;
    const end = () => {
      ended = true;
      wake();
    };
    this.open.add(end);
    req.raw.on('close', end);
    let cursor = after;
    let idleSince = Date.now();
    try {
      while (!ended) {
        const batch = await this.events.read(ref, cursor);
        for (const event of batch) res.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
        if (batch.length > 0) {
          cursor = batch.at(-1)!.seq;
          idleSince = Date.now();
          continue;
        }
        if (!(await this.events.exists(ref))) break;
        if (Date.now() - idleSince >= HEARTBEAT_MS) {
          res.write(': heartbeat\n\n');
          idleSince = Date.now();
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, POLL_MS);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } catch (error) {
      req.log.warn({ err: error }, 'event stream failed');
    } finally {
      this.open.delete(end);
      res.end();
    }
  }

  /** Ends every open stream (the server is closing: it must not wait for them). */
  closeAll(): void {
    for (const end of this.open) end();
  }
}

import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the store's POST /payments/confirm in gateway tests: records every callback
 * (raw body, parsed body, headers) and answers as the test says.
 */
export interface ReceivedCallback {
  path: string;
  raw: string;
  body: any;
  headers: IncomingHttpHeaders;
  at: number;
}

/** A status code (with the store's usual body), a status with a `detail`, or a delay before answering. */
export type Behaviour = number | { status: number; detail: string } | { delayMs: number; then: number };

export class Receiver {
  readonly calls: ReceivedCallback[] = [];
  /** Consumed first, one per request; then `fallback` answers. */
  plan: Behaviour[] = [];
  fallback: Behaviour = 200;
  private server: Server | undefined;

  constructor(public port = 0) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts listening (on `port`, or a free one if 0); a no-op if it is listening. */
  async start(): Promise<this> {
    if (this.server) return this;
    const server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (raw += chunk));
      req.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          body = undefined;
        }
        this.calls.push({ path: req.url ?? '', raw, body, headers: req.headers, at: Date.now() });
        this.answer(res, this.plan.shift() ?? this.fallback, body);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  private answer(res: ServerResponse, behaviour: Behaviour, body: any): void {
    if (typeof behaviour === 'object' && 'delayMs' in behaviour) {
      setTimeout(() => !res.destroyed && this.answer(res, behaviour.then, body), behaviour.delayMs);
      return;
    }
    const status = typeof behaviour === 'number' ? behaviour : behaviour.status;
    const payload =
      typeof behaviour === 'object'
        ? { detail: behaviour.detail }
        : status < 300
          ? { order_id: body?.order_id, status: body?.status === 'success' ? 'paid' : 'payment_failed', message: 'Payment confirmed. Stock updated.' }
          : { detail: `Store answered ${status}` };
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
  }

  /** Stops listening and drops open connections: the store is down. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Polls fn until it returns a truthy value (returned) or the timeout passes (throws with the last value). */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 10_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  do {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
  } while (Date.now() < deadline);
  throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
}

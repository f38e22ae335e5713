import type { Logger } from 'pino';
import { Pool } from 'undici';
import { SIGNATURE_HEADER, signPayload } from '../payments/signature.js';
import { Poller } from '../shared/poller.js';
import { ROOT } from './sandbox-repository.js';
import type { CallbackSender, DeliveryOutcome, GatewayService } from './service.js';

/**
 * Delivery of payment outcomes to the store (`POST {STORE_URL}/payments/confirm`, or
 * `{STORE_URL}/sandboxes/{id}/payments/confirm` for a sandbox's payments) and the worker
 * that retries the ones that did not get through. The jobs themselves live in the database
 * (callback_jobs, written with the payment), so a restart loses none.
 */
export interface HttpCallbackSenderOptions {
  storeUrl: string;
  /** Signs every request with X-Payment-Signature when set. */
  secret: string | undefined;
  timeoutMs: number;
}

const MAX_DETAIL = 300;

/** The store's reason for a 4xx: FastAPI's `detail` (string or first validation message), else the text. */
export function storeDetail(text: string, status: number): string {
  try {
    const body = JSON.parse(text) as { detail?: unknown; message?: unknown };
    if (typeof body.detail === 'string') return body.detail.slice(0, MAX_DETAIL);
    if (Array.isArray(body.detail)) {
      const first = body.detail[0] as { msg?: unknown } | undefined;
      if (typeof first?.msg === 'string') return first.msg.slice(0, MAX_DETAIL);
    }
    if (typeof body.message === 'string') return body.message.slice(0, MAX_DETAIL);
  } catch {
    // not JSON: the text itself
  }
  const trimmed = text.trim().slice(0, MAX_DETAIL);
  return trimmed === '' ? `HTTP ${status}` : trimmed;
}

function networkError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `timed out after ${timeoutMs} ms`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Sends callbacks over a pool of keep-alive connections to the store's origin: a purchase then
 * costs no TCP handshake (and no name lookup) per callback. Connections are opened on demand and
 * closed by the pool when idle.
 */
export class HttpCallbackSender implements CallbackSender {
  private readonly basePath: string;
  private readonly pool: Pool;

  constructor(private readonly options: HttpCallbackSenderOptions) {
    const base = new URL(options.storeUrl);
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.pool = new Pool(base.origin);
  }

  /** The store's confirm path for a sandbox: the root's for `default`. */
  private pathFor(sandboxId: string): string {
    return sandboxId === ROOT.id ? `${this.basePath}/payments/confirm` : `${this.basePath}/sandboxes/${sandboxId}/payments/confirm`;
  }

  async send(payload: string, sandboxId: string): Promise<DeliveryOutcome> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    // Signed per attempt: the timestamp inside the signature must be fresh when the store checks it.
    if (this.options.secret) headers[SIGNATURE_HEADER] = signPayload(this.options.secret, payload);
    const signed = this.options.secret !== undefined;
    try {
      const response = await this.pool.request({
        path: this.pathFor(sandboxId),
        method: 'POST',
        headers,
        body: payload,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const text = await response.body.text();
      const httpStatus = response.statusCode;
      if (httpStatus >= 200 && httpStatus < 300) return { signed, kind: 'delivered', httpStatus };
      if (httpStatus >= 400 && httpStatus < 500) return { signed, kind: 'refused', httpStatus, detail: storeDetail(text, httpStatus) };
      return { signed, kind: 'retry', httpStatus, error: `HTTP ${httpStatus}: ${storeDetail(text, httpStatus)}` };
    } catch (error) {
      return { signed, kind: 'retry', httpStatus: null, error: networkError(error, this.options.timeoutMs) };
    }
  }

  /** Closes the pooled connections. */
  close(): Promise<void> {
    return this.pool.close();
  }
}

export interface CallbackWorkerOptions {
  pollIntervalMs: number;
  /** Jobs taken per poll; they are delivered concurrently. */
  batchSize?: number;
}

/**
 * Polls for due callback jobs (at start, so jobs left from before a restart go out, then every
 * pollIntervalMs), claims each in the database before sending it, so no job is delivered twice at
 * once, even with several gateway processes on one database.
 */
export class CallbackWorker {
  private readonly poller: Poller;

  constructor(
    private readonly service: GatewayService,
    private readonly log: Logger,
    private readonly options: CallbackWorkerOptions,
  ) {
    this.poller = new Poller(() => this.runDue(), options.pollIntervalMs, log, 'callback worker poll failed');
  }

  start(): void {
    this.poller.start();
  }

  /** Stops polling and waits for the attempts in flight to be recorded. */
  stop(): Promise<void> {
    return this.poller.stop();
  }

  /** Polls now (a sandbox clock moved: retries may have become due) rather than at the next tick. */
  wake(): void {
    this.poller.wake();
  }

  private async runDue(): Promise<void> {
    const claimed = await this.service.claimDueCallbacks(this.options.batchSize ?? 20);
    await Promise.all(
      claimed.map((claim) =>
        this.service.deliver(claim).catch((error: unknown) => this.log.error({ err: error, payment_id: claim.paymentId }, 'callback attempt could not be recorded')),
      ),
    );
  }
}

import { Agent } from 'undici';
import { signPayload } from '../payments/signature.js';

/**
 * Webhook requests (spec/sandboxes.md section 3): `POST <url>` with the event as JSON, signed
 * `X-Store-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, the payment
 * callbacks' scheme and code (payments/signature.ts). The timestamp is real time, taken per attempt.
 */
export const WEBHOOK_SIGNATURE_HEADER = 'x-store-signature';

/** How one attempt ended: a status (2xx: delivered) or a network error / timeout. */
export interface AttemptResult {
  httpStatus: number | null;
  error: string | null;
  ms: number;
}

export interface WebhookRequest {
  url: string;
  secret: string;
  body: string;
  eventType: string;
  deliveryId: string;
}

/** What is read of a receiver's answer (its body is discarded; only the status counts). */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Sends webhook requests over keep-alive connections (one pool per target origin, closed when
 * idle). Redirects are never followed: a 3xx is that attempt's status, and a failure.
 */
export class WebhookSender {
  private readonly agent = new Agent({ keepAliveTimeout: 10_000, connections: 16 });

  constructor(private readonly timeoutMs: number) {}

  async send(request: WebhookRequest): Promise<AttemptResult> {
    const started = Date.now();
    const url = new URL(request.url);
    try {
      const response = await this.agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'store-webhooks/1',
          [WEBHOOK_SIGNATURE_HEADER]: signPayload(request.secret, request.body),
          'x-store-event': request.eventType,
          'x-store-delivery': request.deliveryId,
        },
        body: request.body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.body.dump({ limit: MAX_ANSWER_BYTES }).catch(() => undefined);
      const status = response.statusCode;
      const error = status >= 300 && status < 400 ? `redirect to ${String(response.headers.location ?? '(no Location)')} not followed` : null;
      return { httpStatus: status, error, ms: Date.now() - started };
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      const message = timedOut ? `timed out after ${this.timeoutMs} ms` : error instanceof Error ? (error.message || (error as { code?: string }).code || error.name) : String(error);
      return { httpStatus: null, error: message.slice(0, 300), ms: Date.now() - started };
    }
  }

  /** Closes the pooled connections. */
  close(): Promise<void> {
    return this.agent.close();
  }
}

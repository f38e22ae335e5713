import { networkReason } from '../shared/network.js';
import { fail, ok, type Result } from '../shared/result.js';
import type { ClockState } from './shop.js';

/** How long the store waits for the gateway's management endpoints before answering 503. */
const TIMEOUT_MS = 5000;
/** How long a payment may take: the gateway calls the store back before it answers. */
const PAYMENT_TIMEOUT_MS = 10_000;

/** The fields of a gateway answer the store reads. */
interface GatewayAnswer {
  message?: string;
  reason?: string;
  payment_id?: string;
}

/** What became of a payment the store made for an order (payOrder). */
export type PaymentAttempt = { outcome: 'accepted'; payment_id: string } | { outcome: 'declined'; reason: string; message: string };

/** One event of the gateway's log of a sandbox: `at` in epoch ms of the sandbox clock. */
export interface GatewayEvent {
  seq: number;
  at: number;
  type: string;
  data: object;
}

/** The gateway's half of a sandbox, as its management endpoints answer. */
export interface GatewaySandbox {
  sandbox_id: string;
  balance: number;
  payments?: number;
}

/** How often a gateway fault rule fired, by its index in the sandbox's list. */
export interface GatewayFaultCount {
  index: number;
  fired: number;
}

/**
 * The store's client of the gateway: its management endpoints (the issue 9 interface) and, for
 * checkout sessions, the payment path a client pays orders at (payOrder). Every management call
 * is one transaction on the gateway. A gateway that does not answer, or answers 5xx, is
 * `unavailable` (503 "Payments gateway unavailable: <reason>"); its 4xx answers keep their
 * status and message in the store's words.
 */
export class GatewayClient {
  constructor(
    private readonly baseUrl: string,
    private readonly adminKey: string | undefined,
  ) {}

  /** One request; a gateway that does not answer (or not within timeoutMs) is `unavailable`. */
  private async send(method: string, path: string, body: unknown, timeoutMs: number): Promise<Result<{ status: number; body: GatewayAnswer | undefined }>> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.adminKey) headers.authorization = `Bearer ${this.adminKey}`;
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      return fail('unavailable', `Payments gateway unavailable: ${networkReason(error)}`);
    }
    const text = await res.text();
    let parsed: GatewayAnswer | undefined;
    try {
      parsed = text ? (JSON.parse(text) as GatewayAnswer) : undefined;
    } catch {
      parsed = undefined;
    }
    return ok({ status: res.status, body: parsed });
  }

  private async call<T>(method: string, path: string, body?: unknown, timeoutMs = TIMEOUT_MS): Promise<Result<T>> {
    const sent = await this.send(method, path, body, timeoutMs);
    if (!sent.ok) return sent;
    const { status, body: parsed } = sent.value;
    if (status >= 200 && status < 300) return ok(parsed as T);
    const message = parsed?.message ?? `HTTP ${status}`;
    if (status >= 500 || status === 401) return fail('unavailable', `Payments gateway unavailable: ${message}`);
    if (status === 404) return fail('not_found', message);
    if (status === 409) return fail('exists', message);
    return fail('rejected', message);
  }

  /**
   * Pays an order at the sandbox's payment path (`POST /payments/orders`, under
   * `/sandboxes/{id}` for a sandbox), exactly as a client pays: the gateway debits the sandbox's
   * account and calls the store back. 200 is `accepted`, 402 `declined` with the gateway's reason
   * (card_declined, insufficient_funds, processing_error, store_rejected). A gateway that does not
   * answer within PAYMENT_TIMEOUT_MS, or answers 5xx, is `unavailable`; any other answer `rejected`.
   * Repeating it for an order already paid debits nothing (the gateway replays its first answer).
   */
  async payOrder(sandboxId: string, payment: { order_id: string; amount: number; card_number: string }): Promise<Result<PaymentAttempt>> {
    const prefix = sandboxId === 'default' ? '' : `/sandboxes/${encodeURIComponent(sandboxId)}`;
    const sent = await this.send('POST', `${prefix}/payments/orders`, payment, PAYMENT_TIMEOUT_MS);
    if (!sent.ok) return sent;
    const { status, body } = sent.value;
    if (status === 200) return ok({ outcome: 'accepted', payment_id: String(body?.payment_id ?? '') });
    const message = body?.message ?? `HTTP ${status}`;
    if (status === 402) return ok({ outcome: 'declined', reason: String(body?.reason ?? 'card_declined'), message });
    if (status >= 500) return fail('unavailable', `Payments gateway unavailable: ${message}`);
    return fail('rejected', `Payments gateway refused the payment: ${message}`);
  }

  private static path = (id: string, rest = ''): string => `/admin/sandboxes/${encodeURIComponent(id)}${rest}`;

  create(sandboxId: string, seed: number | null, clock: ClockState, from?: { sandbox_id: string; snapshot: string }): Promise<Result<GatewaySandbox>> {
    return this.call('POST', '/admin/sandboxes', { sandbox_id: sandboxId, seed, clock, ...(from ? { from } : {}) });
  }

  get(sandboxId: string): Promise<Result<GatewaySandbox>> {
    return this.call('GET', GatewayClient.path(sandboxId));
  }

  delete(sandboxId: string): Promise<Result<unknown>> {
    return this.call('DELETE', GatewayClient.path(sandboxId));
  }

  reset(sandboxId: string, clock: ClockState): Promise<Result<GatewaySandbox>> {
    return this.call('POST', GatewayClient.path(sandboxId, '/reset'), { clock });
  }

  saveSnapshot(sandboxId: string, name: string): Promise<Result<unknown>> {
    return this.call('PUT', GatewayClient.path(sandboxId, `/snapshots/${encodeURIComponent(name)}`));
  }

  restore(sandboxId: string, name: string, clock: ClockState): Promise<Result<GatewaySandbox>> {
    return this.call('POST', GatewayClient.path(sandboxId, `/snapshots/${encodeURIComponent(name)}/restore`), { clock });
  }

  deleteSnapshot(sandboxId: string, name: string): Promise<Result<unknown>> {
    return this.call('DELETE', GatewayClient.path(sandboxId, `/snapshots/${encodeURIComponent(name)}`));
  }

  /** Replaces the gateway's fault rules of a sandbox (each with its index in the store's list). */
  setFaults(sandboxId: string, rules: { index: number; rule: unknown }[]): Promise<Result<unknown>> {
    return this.call('PUT', GatewayClient.path(sandboxId, '/faults'), { rules });
  }

  /** How often each gateway rule of a sandbox fired. */
  faults(sandboxId: string): Promise<Result<{ rules: GatewayFaultCount[] }>> {
    return this.call('GET', GatewayClient.path(sandboxId, '/faults'));
  }

  setClock(sandboxId: string, clock: ClockState): Promise<Result<unknown>> {
    return this.call('PUT', GatewayClient.path(sandboxId, '/clock'), { clock });
  }

  /** The gateway's events of a sandbox with seq > `after`, oldest first (at most 1000 a call); unavailable after `timeoutMs`. */
  events(sandboxId: string, after: number, timeoutMs = TIMEOUT_MS): Promise<Result<{ events: GatewayEvent[] }>> {
    return this.call('GET', GatewayClient.path(sandboxId, `/events?after=${after}`), undefined, timeoutMs);
  }

  /** The gateway's canonical part of a sandbox's state: balance, ledger and payments (gateway/timeline.ts). */
  state(sandboxId: string): Promise<Result<{ state: Record<string, unknown> }>> {
    return this.call('GET', GatewayClient.path(sandboxId, '/state'));
  }
}

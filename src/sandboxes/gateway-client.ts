import { networkReason } from '../shared/network.js';
import { fail, ok, type Result } from '../shared/result.js';
import type { ClockState } from './shop.js';

/** How long the store waits for the gateway's management endpoints before answering 503. */
const TIMEOUT_MS = 5000;

/** The gateway's half of a sandbox, as its management endpoints answer. */
export interface GatewaySandbox {
  sandbox_id: string;
  balance: number;
  payments?: number;
}

/**
 * The store's client of the gateway's management endpoints (the issue 9 interface). Every call
 * is one transaction on the gateway. A gateway that does not answer, or answers 5xx, is
 * `unavailable` (503 "Payments gateway unavailable: <reason>"); its 4xx answers keep their
 * status and message in the store's words.
 */
export class GatewayClient {
  constructor(
    private readonly baseUrl: string,
    private readonly adminKey: string | undefined,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<Result<T>> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.adminKey) headers.authorization = `Bearer ${this.adminKey}`;
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      return fail('unavailable', `Payments gateway unavailable: ${networkReason(error)}`);
    }
    const text = await res.text();
    let parsed: { message?: string } | undefined;
    try {
      parsed = text ? (JSON.parse(text) as { message?: string }) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.ok) return ok(parsed as T);
    const message = parsed?.message ?? `HTTP ${res.status}`;
    if (res.status >= 500 || res.status === 401) return fail('unavailable', `Payments gateway unavailable: ${message}`);
    if (res.status === 404) return fail('not_found', message);
    if (res.status === 409) return fail('exists', message);
    return fail('rejected', message);
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

  setClock(sandboxId: string, clock: ClockState): Promise<Result<unknown>> {
    return this.call('PUT', GatewayClient.path(sandboxId, '/clock'), { clock });
  }
}

import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPayload } from '../src/payments/signature.js';
import { call, freePort, freshDatabaseUrl, startStore, type ServerProcess } from './helpers/processes.js';
import { orderOf, pendingOrder, shutdown, sleep, stockOf } from './helpers/shop.js';

/**
 * With PAYMENTS_WEBHOOK_SECRET set, POST /payments/confirm takes only callbacks signed
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, at most 300 s old. A refused
 * callback changes nothing; a replayed valid one cannot change anything a second time.
 */
const root = new URL('..', import.meta.url).pathname;
const SECRET = 'signature-test-secret-4f1c2b9a77d0';
const HEADER = 'X-Payment-Signature';
const now = () => Math.floor(Date.now() / 1000);

describe('signed payment callbacks', () => {
  let store: ServerProcess;
  const PRODUCT = 18;

  beforeAll(async () => {
    store = await startStore({ env: { PAYMENTS_WEBHOOK_SECRET: SECRET } });
  });
  afterAll(async () => {
    await shutdown(store);
  });

  const confirm = (rawBody: string, signature?: string) =>
    call('POST', `${store.url}/payments/confirm`, rawBody, signature === undefined ? {} : { [HEADER]: signature });

  it('refuses every missing, malformed, wrong, stale or mismatched signature, changing nothing', async () => {
    const order = await pendingOrder(store.url, [[PRODUCT, 2]]);
    const reserved = await stockOf(store.url, PRODUCT);
    const success = JSON.stringify({ order_id: order.order_id, status: 'success' });
    const failed = JSON.stringify({ order_id: order.order_id, status: 'failed' });

    const cases: [string, string, string | undefined][] = [
      ['missing header', success, undefined],
      ['malformed "abc"', success, 'abc'],
      ['malformed "t=x,v1=y"', success, 't=x,v1=y'],
      ['no v1', success, `t=${now()}`],
      ['empty header', success, ''],
      ['wrong secret', success, signPayload('some-other-secret-0123456789', success)],
      ['stale timestamp (now - 301 s)', success, signPayload(SECRET, success, now() - 301)],
      ['signature of another body (tampered body)', failed, signPayload(SECRET, success)],
      ['signature of another body (tampered order)', success, signPayload(SECRET, JSON.stringify({ order_id: 'x', status: 'success' }))],
      ['body re-serialised after signing', JSON.stringify({ status: 'success', order_id: order.order_id }), signPayload(SECRET, success)],
    ];
    for (const [name, body, signature] of cases) {
      const res = await confirm(body, signature);
      expect(res.status, `${name}: ${res.text}`).toBe(401);
      expect(typeof res.body?.detail, name).toBe('string');
      expect((await orderOf(store.url, order.order_id)).status, name).toBe('pending_payment');
      expect(await stockOf(store.url, PRODUCT), name).toBe(reserved);
    }
    // A refused attempt does not use anything up: the properly signed callback still works.
    const ok = await confirm(success, signPayload(SECRET, success));
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toEqual({ order_id: order.order_id, status: 'paid', message: 'Payment confirmed. Stock updated.' });
  });

  it('accepts a valid signature; the replayed request is acknowledged and changes nothing', async () => {
    const initial = await stockOf(store.url, PRODUCT);
    const order = await pendingOrder(store.url, [[PRODUCT, 1]]);
    const body = JSON.stringify({ order_id: order.order_id, status: 'success', amount: order.total, payment_id: 'pay_signed_1' });
    const signature = signPayload(SECRET, body);

    const first = await confirm(body, signature);
    expect(first.status, first.text).toBe(200);
    expect(first.body.status).toBe('paid');
    const paid = await orderOf(store.url, order.order_id);
    expect(paid).toMatchObject({ status: 'paid', payment_id: 'pay_signed_1' });
    expect(await stockOf(store.url, PRODUCT)).toBe(initial - 1);

    // The same news again (a retry whose answer was lost, or a replay): acknowledged, nothing changes.
    const replay = await confirm(body, signature);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    expect(await orderOf(store.url, order.order_id)).toEqual(paid);
    // Another payment for the paid order is still refused.
    const other = JSON.stringify({ order_id: order.order_id, status: 'success', amount: order.total, payment_id: 'pay_signed_2' });
    const refused = await confirm(other, signPayload(SECRET, other));
    expect([refused.status, refused.body]).toEqual([400, { detail: 'Order already processed (status: paid)' }]);
    expect(await orderOf(store.url, order.order_id)).toEqual(paid);
    expect(await stockOf(store.url, PRODUCT)).toBe(initial - 1);
  });

  it('a valid signature on a failed verdict returns the stock', async () => {
    const initial = await stockOf(store.url, PRODUCT);
    const order = await pendingOrder(store.url, [[PRODUCT, 3]]);
    const body = JSON.stringify({ order_id: order.order_id, status: 'failed', reason: 'card_declined' });
    const res = await confirm(body, signPayload(SECRET, body));
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ order_id: order.order_id, status: 'payment_failed', message: 'Payment failed. Order not fulfilled.' });
    expect(await stockOf(store.url, PRODUCT)).toBe(initial);
    expect((await orderOf(store.url, order.order_id)).reason).toBe('card_declined');
  });
});

describe('NODE_ENV=production', () => {
  it('refuses to start without PAYMENTS_WEBHOOK_SECRET', async () => {
    const port = await freePort();
    const env: Record<string, string | undefined> = {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      DATABASE_URL: freshDatabaseUrl(),
      LOG_LEVEL: 'warn',
    };
    delete env.PAYMENTS_WEBHOOK_SECRET;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/store-main.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    const code = await Promise.race([exited, sleep(20_000).then(() => 'still running' as const)]);
    if (code === 'still running') child.kill('SIGKILL');
    expect(code, output).not.toBe('still running');
    expect(code, output).not.toBe(0);
    expect(output).toContain('PAYMENTS_WEBHOOK_SECRET');
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});

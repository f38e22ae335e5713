import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type ServerProcess } from './helpers/processes.js';
import { createSandbox, startPair } from './helpers/sandboxes.js';
import { pendingOrder, shutdown } from './helpers/shop.js';

/**
 * GET /dashboard (spec/sandboxes.md sections 3 and 5) in a real browser: Debian's chromium driven
 * by playwright-core. Without /usr/bin/chromium a local run skips it with one line; with CI=true it
 * runs, and a missing browser fails it.
 */
const CHROMIUM = '/usr/bin/chromium';
const runBrowser = existsSync(CHROMIUM) || process.env.CI === 'true';
if (!runBrowser) console.log(`Dashboard browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium; CI=true makes this an error).`);

const KEY = 'dashboard-test-key-0123456789';
/** What the page shows after a store round trip: polled for up to 15 s (vitest's default of 1 s is short on a busy CI machine). */
const eventually = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 15_000, interval: 50 });
const auth = { authorization: `Bearer ${KEY}` };

describe('the dashboard', () => {
  let store: ServerProcess;
  let gateway: ServerProcess;
  beforeAll(async () => {
    const pair = await startPair({ env: { ADMIN_API_KEY: KEY } });
    store = pair.stores[0]!;
    gateway = pair.gateway;
  });
  afterAll(() => shutdown(store, gateway));

  it('serves its shell and assets without the key (they hold no data), locked to the store by its CSP', async () => {
    const page = await call('GET', `${store.url}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.text).toContain('data-admin-key="required"');
    for (const [asset, type] of [[/src="([^"]+)"/, 'text/javascript'], [/href="([^"]+)"/, 'text/css']] as const) {
      const res = await call('GET', `${store.url}${asset.exec(page.text)![1]}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
    }
    // The data stays behind the key.
    expect((await call('GET', `${store.url}/sandboxes`)).status).toBe(401);
  });

  describe.skipIf(!runBrowser)('in chromium', () => {
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];
    beforeAll(async () => {
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
      page = await browser.newPage();
      // A wait that fails says what it waited for before the test's own 30 s run out.
      page.setDefaultTimeout(15_000);
      page.on('pageerror', (error) => pageErrors.push(error.message));
    });
    afterAll(() => browser?.close());

    const rowOf = (orderId: string) => page.locator(`[data-testid="orders"] tr[data-order="${orderId}"]`);

    it('asks for the key until the store accepts it, once per tab', async () => {
      await page.goto(`${store.url}/dashboard`);
      await page.getByLabel('Admin key').fill('not-the-key-0123456789');
      await page.getByRole('button', { name: 'Use this key' }).click();
      await eventually(() => page.getByTestId('key-message').textContent()).toContain('refused');
      expect(await page.getByTestId('key-form').isVisible()).toBe(true);

      await page.getByLabel('Admin key').fill(KEY);
      await page.getByRole('button', { name: 'Use this key' }).click();
      await page.getByTestId('open-default').waitFor();
      await page.reload();
      await page.getByTestId('open-default').waitFor();
      expect(await page.getByTestId('key-form').isHidden()).toBe(true);
    });

    it('shows an order placed through the API live, and its reset button empties the sandbox', async () => {
      const box = await createSandbox(store.url, { sandbox_id: 'watched' }, auth);
      // A name with markup shows as text: everything the page inserts is escaped.
      const renamed = await call('PATCH', `${store.url}/sandboxes/watched/admin/products/3`, { name: '<b>Bold</b> keyboard' }, auth);
      expect(renamed.status, renamed.text).toBe(200);
      await page.getByTestId('sandboxes-refresh').click();
      await page.getByTestId('open-watched').click();
      await eventually(() => page.getByTestId('stream-state').textContent()).toBe('live');
      await page.getByRole('cell', { name: '<b>Bold</b> keyboard' }).waitFor();
      expect(await page.locator('[data-testid="stock"] b').count()).toBe(0);

      const order = await pendingOrder(box.store_url, [[3, 2]]);
      await page.locator('[data-testid="timeline"] tr[data-type="order.created"]').waitFor();
      await rowOf(order.order_id).waitFor();
      expect(await rowOf(order.order_id).locator('[data-status]').textContent()).toBe('pending_payment');

      const paid = await call('POST', `${box.payments_url}/payments/orders`, { order_id: order.order_id, amount: order.total });
      expect(paid.status, paid.text).toBe(200);
      await eventually(() => rowOf(order.order_id).locator('[data-status]').textContent()).toBe('paid');

      await page.getByLabel('Snapshot name').fill('paid-order');
      await page.getByRole('button', { name: 'Save snapshot' }).click();
      await page.locator('[data-testid="restore-name"] option[value="paid-order"]').waitFor({ state: 'attached' });

      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: 'Reset sandbox' }).click();
      await rowOf(order.order_id).waitFor({ state: 'detached' });
      expect(await page.getByTestId('orders').locator('tbody').textContent()).toBe('No orders');
      expect((await call('GET', `${store.url}/sandboxes/watched/orders/${order.order_id}`)).status).toBe(404);
      expect(pageErrors).toEqual([]);
    });

    it('restores a snapshot and advances the clock with its buttons', async () => {
      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: 'Restore' }).click();
      await eventually(() => page.locator('[data-testid="orders"] [data-status]').allTextContents()).toEqual(['paid']);

      const before = (await call('GET', `${store.url}/sandboxes/watched/clock`, undefined, auth)).body.now as string;
      await page.getByLabel('Advance clock by (seconds)').fill('3600');
      await page.getByRole('button', { name: 'Advance clock' }).click();
      await page.locator('[data-testid="timeline"] tr[data-type="clock.advanced"]').waitFor();
      const after = (await call('GET', `${store.url}/sandboxes/watched/clock`, undefined, auth)).body.now as string;
      expect(Date.parse(after) - Date.parse(before)).toBeGreaterThanOrEqual(3600_000);
      expect(pageErrors).toEqual([]);
    });

    it('shows the active faults and how often each fired', async () => {
      const rules = [{ kind: 'error', status: 503, match: { method: 'GET', path: '/products/1' }, times: 1 }];
      const put = await call('PUT', `${store.url}/sandboxes/watched/faults`, { rules }, auth);
      expect(put.status, put.text).toBe(200);
      expect((await call('GET', `${store.url}/sandboxes/watched/products/1`)).status).toBe(503);
      await page.locator('[data-testid="timeline"] tr[data-type="fault.fired"]').waitFor();
      await eventually(() => page.getByTestId('faults').locator('tbody td').allTextContents())
        .toEqual(['error', expect.stringContaining('"status":503'), '1']);
      expect(pageErrors).toEqual([]);
    });
  });
});

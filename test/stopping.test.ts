import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, spawnServer, tempDir } from './helpers/processes.js';
import { waitFor } from './helpers/shop.js';

/**
 * The first hour, part two (first-hour.test.ts has the start-up messages): `npm start` stops both
 * servers and frees their ports however it is stopped. Runs once (vitest.config.ts): SQLite only,
 * the database plays no part in stopping. A file of its own so that it runs beside the other half.
 */
const root = new URL('..', import.meta.url).pathname;
const refused = async (url: string): Promise<boolean> => fetch(url).then(() => false, () => true);

/** src/main.ts (what `npm start` runs) on fresh SQLite files and free ports, once the gateway answers too. */
async function startMain(env: Record<string, string>) {
  const dir = tempDir();
  const [port, paymentsPort] = [await freePort(), await freePort()];
  const main = await spawnServer('src/main.ts', {
    PORT: String(port),
    PAYMENTS_PORT: String(paymentsPort),
    DATABASE_URL: `sqlite:${join(dir, 'store.db')}`,
    PAYMENTS_DATABASE_URL: `sqlite:${join(dir, 'payments.db')}`,
    ...env,
  }, port, '/healthz');
  const gateway = `http://127.0.0.1:${paymentsPort}/healthz`;
  expect(await waitFor(() => fetch(gateway).then((r) => r.status, () => 0), (s) => s === 200, 20_000)).toBe(200);
  return { main, port, paymentsPort, gateway };
}

describe('stopping npm start', () => {
  it('kill -9 of npm start (src/main.ts) stops both servers and frees their ports', async () => {
    const { main, port, paymentsPort, gateway } = await startMain({ LOG_LEVEL: 'info' });
    const lines = () => main.output().trim().split('\n');
    await waitFor(async () => lines(), (l) => l.filter((x) => x.includes(' listening on ')).length === 2, 5000);
    expect(lines().filter((l) => l.includes('PAYMENTS_WEBHOOK_SECRET is not set'))).toHaveLength(1);
    const listening = lines().filter((l) => l.includes(' listening on ')).map((l) => JSON.parse(l).msg as string);
    expect(listening.sort()).toEqual([
      `payments gateway listening on http://127.0.0.1:${paymentsPort} (docs: http://127.0.0.1:${paymentsPort}/docs)`,
      `store listening on http://127.0.0.1:${port} (docs: http://127.0.0.1:${port}/docs)`,
    ]);

    await main.kill();
    expect(await waitFor(() => refused(`http://127.0.0.1:${port}/healthz`), Boolean, 15_000)).toBe(true);
    expect(await waitFor(() => refused(gateway), Boolean, 15_000)).toBe(true);
  });

  // npm runs the script through `sh -c`, which outlives a `kill -9` of npm: the servers watch npm itself.
  it.each(['SIGKILL', 'SIGTERM'] as const)('%s of the npm process of `npm start` stops both servers and frees their ports', async (signal) => {
    const dir = tempDir();
    const [port, paymentsPort] = [await freePort(), await freePort()];
    const npm = spawn('npm', ['start'], {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        PAYMENTS_PORT: String(paymentsPort),
        DATABASE_URL: `sqlite:${join(dir, 'store.db')}`,
        PAYMENTS_DATABASE_URL: `sqlite:${join(dir, 'payments.db')}`,
        LOG_FORMAT: 'json',
      },
      stdio: 'ignore',
    });
    const urls = [`http://127.0.0.1:${port}/healthz`, `http://127.0.0.1:${paymentsPort}/healthz`];
    const up = async () => (await Promise.all(urls.map((url) => fetch(url).then((r) => r.status, () => 0)))).every((status) => status === 200);
    expect(await waitFor(up, Boolean, 30_000)).toBe(true);
    npm.kill(signal);
    for (const url of urls) expect(await waitFor(() => refused(url), Boolean, 15_000)).toBe(true);
  });

  it('SIGTERM of src/main.ts with WORKERS=2 stops the cluster primary, its workers and the gateway, and main.ts exits', async () => {
    const { main, port, gateway } = await startMain({ WORKERS: '2' });
    const exited = new Promise<number | null>((resolve) => main.child.once('exit', (code) => resolve(code)));
    main.child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000))]);
    expect(code).toBe(0);
    expect(await refused(`http://127.0.0.1:${port}/healthz`)).toBe(true);
    expect(await refused(gateway)).toBe(true);
  });
});

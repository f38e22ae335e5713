import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { freePort, freshDatabaseUrl, startGateway, startStore, tempDir } from './helpers/processes.js';
import { runToExit } from './helpers/spawn.js';
import { shutdown } from './helpers/shop.js';

/**
 * What a new user meets in the first hour: start-up messages say what to change (stopping.test.ts:
 * `npm start` stops both servers however it is stopped). Runs once (vitest.config.ts): it starts
 * its own processes on both databases where the database matters.
 */
/** The output of a store or gateway that must fail to start, after checking that it exited with 1. */
const failureOf = async (entry: 'src/store-main.ts' | 'src/gateway/main.ts', env: Record<string, string>): Promise<string> => {
  const { code, output } = await runToExit(entry, env);
  expect(code, output).toBe(1);
  return output;
};

describe('the first hour', () => {
  it('a database that cannot be opened names its variable and its path or host', async () => {
    // A directory that cannot be created: its parent is a file.
    const file = join(tempDir(), 'not-a-directory');
    writeFileSync(file, '');
    const port = String(await freePort());
    const store = await failureOf('src/store-main.ts', { PORT: port, DATABASE_URL: `sqlite:${file}/store.db` });
    expect(store).toContain(`Cannot open the database at ${file}/store.db (set by DATABASE_URL)`);
    const pg = await failureOf('src/store-main.ts', { PORT: port, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' });
    expect(pg).toContain('Cannot open the database at 127.0.0.1:1/test (set by DATABASE_URL)');
    const gateway = await failureOf('src/gateway/main.ts', { PAYMENTS_PORT: port, PAYMENTS_DATABASE_URL: `sqlite:${file}/payments.db` });
    expect(gateway).toContain(`Cannot open the database at ${file}/payments.db (set by PAYMENTS_DATABASE_URL)`);
  });

  it('a busy port names the variable that moves it', async () => {
    const store = await startStore();
    const gateway = await startGateway({ storeUrl: store.url });
    const dir = tempDir();
    try {
      const busyStore = await failureOf('src/store-main.ts', { PORT: String(store.port), DATABASE_URL: `sqlite:${join(dir, 'store.db')}` });
      expect(busyStore).toContain(`Port ${store.port} on 127.0.0.1 is already in use: stop what holds it, or set PORT`);
      const busyGateway = await failureOf('src/gateway/main.ts', { PAYMENTS_PORT: String(gateway.port), PAYMENTS_DATABASE_URL: `sqlite:${join(dir, 'payments.db')}` });
      expect(busyGateway).toContain(`Port ${gateway.port} on 127.0.0.1 is already in use: stop what holds it, or set PAYMENTS_PORT`);
    } finally {
      await shutdown(store, gateway);
    }
  });

  it('a bad catalog file names the field at fault', async () => {
    const dir = tempDir();
    const catalog = JSON.parse(readFileSync(new URL('../seed/catalog.json', import.meta.url), 'utf8'));
    catalog.products[3].price = 1.234;
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(catalog));
    const { code, output } = await runToExit('src/db/cli.ts', { DATABASE_URL: `sqlite:${join(dir, 'store.db')}` }, ['seed', '--file', join(dir, 'bad.json')]);
    expect(code).toBe(1);
    expect(output).toContain(`Seed file ${join(dir, 'bad.json')}: products[3].price must be a number from 0 to 21474836.47 with at most two decimals, got 1.234`);
  });

  it('the database scripts say what is wrong with their options', async () => {
    const bogus = await runToExit('src/db/cli.ts', { DATABASE_URL: `sqlite:${join(tempDir(), 'store.db')}` }, ['seed', '--bogus']);
    expect(bogus.code).toBe(2);
    expect(bogus.output).toContain("Unknown option '--bogus'.");
    expect(bogus.output).toContain('npm run db:seed -- --file catalog.json');
  });

  it.runIf(inject('postgresAvailable'))('the database scripts never print a password', async () => {
    // Trust authentication ignores the password: it is there only to be kept out of the output.
    const url = new URL(freshDatabaseUrl('postgres'));
    url.password = 's3cret-pw';
    const reset = await runToExit('src/db/cli.ts', { DATABASE_URL: url.toString() }, ['reset']);
    expect(reset.code, reset.output).toBe(0);
    expect(reset.output).not.toContain('s3cret-pw');
    expect(reset.output).toContain(`postgres://***@${url.host}${url.pathname}`);
  });

  it('the gateway has /healthz and GET / pointing to /docs', async () => {
    const gateway = await startGateway({ storeUrl: 'http://127.0.0.1:1' });
    try {
      expect(await (await fetch(`${gateway.url}/healthz`)).json()).toEqual({ status: 'ok' });
      const root = (await (await fetch(`${gateway.url}/`)).json()) as { docs: string; openapi: string };
      expect([root.docs, root.openapi]).toEqual(['/docs', '/openapi.json']);
    } finally {
      await shutdown(gateway);
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startGateway, type ServerProcess } from './helpers/processes.js';

/**
 * The gateway's sandbox management endpoints under bad input and without access: every refusal
 * is a clear 4xx in the gateway's error shape, and changes nothing. Also the access rule: with
 * ADMIN_API_KEY a bearer key is required; without one the endpoints exist on a loopback address
 * only.
 */
const ADMIN_KEY = 'sandbox-admin-key-0123456789';
const auth = { authorization: `Bearer ${ADMIN_KEY}` };
const CLOCK = { frozen_at: null, offset_ms: 0 };
const failure = (message: string) => ({ status: 'failed', message });

describe('with ADMIN_API_KEY', () => {
  let gateway: ServerProcess;
  const admin = (method: string, path: string, body?: unknown, headers: Record<string, string> = auth) =>
    call(method, `${gateway.url}/admin/sandboxes${path}`, body, headers);
  /** Everything a refused call could have changed: the sandbox's balance, payments and movements, the root's balance. */
  const snapshotOf = async (id: string) => [
    (await admin('GET', `/${id}`)).body,
    (await call('GET', `${gateway.url}/sandboxes/${id}/transactions`)).text,
    (await call('GET', `${gateway.url}/balance`)).text,
  ];

  beforeAll(async () => {
    gateway = await startGateway({ storeUrl: 'http://127.0.0.1:9', env: { ADMIN_API_KEY: ADMIN_KEY } });
    expect((await admin('POST', '', { sandbox_id: 'kept', seed: null, clock: CLOCK })).status).toBe(201);
    expect((await call('POST', `${gateway.url}/sandboxes/kept/pay`, { amount: 10, recipient: 'Alice' })).body.balance).toBe(49990);
    expect((await admin('PUT', '/kept/snapshots/s1')).status).toBe(201);
  });
  afterAll(() => gateway?.stop());

  it('answers 401 without the key, with a wrong key or another scheme, and changes nothing', async () => {
    const before = await snapshotOf('kept');
    const refused: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-key' }, { authorization: ADMIN_KEY }, { authorization: `Basic ${ADMIN_KEY}` }];
    for (const headers of refused) {
      for (const [method, path, body] of [
        ['POST', '', { sandbox_id: 'intruder', seed: null, clock: CLOCK }],
        ['GET', '/kept', undefined],
        ['DELETE', '/kept', undefined],
        ['POST', '/kept/reset', { clock: CLOCK }],
        ['PUT', '/kept/clock', { clock: { frozen_at: 0, offset_ms: 0 } }],
        ['PUT', '/kept/snapshots/s2', undefined],
        ['POST', '/kept/snapshots/s1/restore', { clock: CLOCK }],
        ['DELETE', '/kept/snapshots/s1', undefined],
      ] as const) {
        const res = await admin(method, path, body, headers);
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.body).toEqual(failure('Missing or invalid admin key'));
      }
    }
    expect(await snapshotOf('kept')).toEqual(before);
    expect((await admin('GET', '/intruder')).status).toBe(404);
    expect((await admin('POST', '/kept/snapshots/s2/restore', { clock: CLOCK })).body).toEqual(failure('Snapshot not found'));
  });

  it('bad input to every endpoint: a clear 4xx, and nothing changes', async () => {
    const before = await snapshotOf('kept');
    const cases: [string, string, unknown, number, string][] = [
      // create: bad id, duplicate, the root's id, bad seed, bad clock, bad from, unknown snapshot, not JSON
      ['POST', '', { sandbox_id: 'Bad_ID', seed: null, clock: CLOCK }, 400, "'sandbox_id' must match ^[a-z0-9][a-z0-9_-]{0,63}$"],
      ['POST', '', { sandbox_id: 'x'.repeat(65), seed: null, clock: CLOCK }, 400, "'sandbox_id' must match ^[a-z0-9][a-z0-9_-]{0,63}$"],
      ['POST', '', { seed: null, clock: CLOCK }, 400, "'sandbox_id' must match ^[a-z0-9][a-z0-9_-]{0,63}$"],
      ['POST', '', { sandbox_id: 'kept', seed: null, clock: CLOCK }, 409, 'Sandbox already exists'],
      ['POST', '', { sandbox_id: 'default', seed: null, clock: CLOCK }, 409, 'Sandbox already exists'],
      ['POST', '', { sandbox_id: 'fresh', seed: 1.5, clock: CLOCK }, 400, "'seed' must be an integer or null"],
      ['POST', '', { sandbox_id: 'fresh', seed: '7', clock: CLOCK }, 400, "'seed' must be an integer or null"],
      ['POST', '', { sandbox_id: 'fresh', seed: null, clock: 'now' }, 400, "'clock' must be an object {frozen_at, offset_ms}"],
      ['POST', '', { sandbox_id: 'fresh', seed: null, clock: { frozen_at: 'soon', offset_ms: 0 } }, 400, "'clock.frozen_at' must be null or an integer (epoch milliseconds)"],
      ['POST', '', { sandbox_id: 'fresh', seed: null, clock: { frozen_at: null, offset_ms: 0.5 } }, 400, "'clock.offset_ms' must be an integer (milliseconds)"],
      ['POST', '', { sandbox_id: 'fresh', seed: null, clock: CLOCK, from: 'kept' }, 400, "'from' must be an object {sandbox_id, snapshot}"],
      ['POST', '', { sandbox_id: 'fresh', seed: null, clock: CLOCK, from: { sandbox_id: 'kept', snapshot: '#created' } }, 400, "'from.snapshot' must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"],
      ['POST', '', { sandbox_id: 'fresh', seed: null, clock: CLOCK, from: { sandbox_id: 'kept', snapshot: 'nope' } }, 404, 'Snapshot not found'],
      ['POST', '', { sandbox_id: 'fresh', seed: null, clock: CLOCK, from: { sandbox_id: 'nobody', snapshot: 's1' } }, 404, 'Snapshot not found'],
      ['POST', '', '{not json', 400, 'Request body must be JSON'],
      // get, delete
      ['GET', '/nobody', undefined, 404, 'Sandbox not found'],
      ['GET', '/Bad!', undefined, 400, "'sandbox_id' must match ^[a-z0-9][a-z0-9_-]{0,63}$"],
      ['DELETE', '/default', undefined, 409, 'The default sandbox cannot be deleted'],
      ['DELETE', '/Bad!', undefined, 400, "'sandbox_id' must match ^[a-z0-9][a-z0-9_-]{0,63}$"],
      // reset, restore, snapshots
      ['POST', '/nobody/reset', { clock: CLOCK }, 404, 'Sandbox not found'],
      ['POST', '/kept/reset', { clock: { frozen_at: -1.5, offset_ms: 0 } }, 400, "'clock.frozen_at' must be null or an integer (epoch milliseconds)"],
      ['POST', '/kept/reset', '[1', 400, 'Request body must be JSON'],
      ['PUT', '/nobody/snapshots/s1', undefined, 404, 'Sandbox not found'],
      ['PUT', '/kept/snapshots/.hidden', undefined, 400, "'snapshot' must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"],
      ['PUT', `/kept/snapshots/${'n'.repeat(65)}`, undefined, 400, "'snapshot' must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"],
      ['POST', '/kept/snapshots/nope/restore', { clock: CLOCK }, 404, 'Snapshot not found'],
      ['POST', '/kept/snapshots/%23created/restore', { clock: CLOCK }, 400, "'snapshot' must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"],
      ['POST', '/nobody/snapshots/s1/restore', { clock: CLOCK }, 404, 'Sandbox not found'],
      ['DELETE', '/nobody/snapshots/s1', undefined, 404, 'Sandbox not found'],
      ['DELETE', '/kept/snapshots/bad name', undefined, 400, "'snapshot' must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"],
      // clock
      ['PUT', '/kept/clock', {}, 400, "'clock' is required"],
      ['PUT', '/kept/clock', { clock: { frozen_at: 1e300, offset_ms: 0 } }, 400, "'clock.frozen_at' must be null or an integer (epoch milliseconds)"],
      ['PUT', '/nobody/clock', { clock: CLOCK }, 404, 'Sandbox not found'],
      ['PUT', '/default/clock', { clock: { frozen_at: 0, offset_ms: 0 } }, 409, 'The default sandbox keeps real time'],
    ];
    for (const [method, path, body, status, message] of cases) {
      const res = await admin(method, path, body);
      expect([res.status, res.body], `${method} ${path} ${JSON.stringify(body)}`).toEqual([status, failure(message)]);
    }
    expect(await snapshotOf('kept')).toEqual(before);
    expect((await admin('GET', '/fresh')).status).toBe(404);
    // Deleting what does not exist is not an error (the store undoes half-done creates with it).
    expect((await admin('DELETE', '/nobody')).status).toBe(204);
    expect((await admin('DELETE', '/kept/snapshots/absent')).status).toBe(204);
    expect(await snapshotOf('kept')).toEqual(before);
  });

  it('the management endpoints are not in the OpenAPI document', async () => {
    const paths = Object.keys((await call('GET', `${gateway.url}/openapi.json`)).body.paths);
    expect(paths.filter((p) => p.includes('sandboxes'))).toEqual([]);
  });
});

describe('without ADMIN_API_KEY', () => {
  it('on a loopback address the endpoints answer without a key; on any other address they do not exist', async () => {
    const open = await startGateway({ storeUrl: 'http://127.0.0.1:9' });
    const local = await call('POST', `${open.url}/admin/sandboxes`, { sandbox_id: 'local', seed: null, clock: CLOCK });
    await open.stop();
    expect(local.status).toBe(201);

    const exposed = await startGateway({ storeUrl: 'http://127.0.0.1:9', env: { HOST: '0.0.0.0' } });
    const res = await call('POST', `${exposed.url}/admin/sandboxes`, { sandbox_id: 'remote', seed: null, clock: CLOCK });
    const output = exposed.output();
    await exposed.stop();
    expect(res.status).toBe(404);
    expect(output).toContain('sandbox management endpoints disabled');
  });
});

import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { StoreSchema } from '../db/schema.js';

/**
 * `Idempotency-Key` on the store's POSTs, as Stripe does it: the first request with a key does
 * the work and its status and body are stored; a repeat with the same key and the same request
 * within 24 h gets that answer again without doing the work; the same key with another request
 * is refused (422). A concurrent repeat waits for the first to finish and then replays it.
 * 5xx answers are not stored, so a retry after a server error does the work again.
 */
declare module 'fastify' {
  interface FastifyContextConfig {
    idempotent?: boolean;
  }
  interface FastifyRequest {
    idempotencyKey?: string;
  }
}

export const KEY_TTL_MS = 24 * 3600 * 1000;
/** A claim not completed within this time belongs to a process that died mid-request; it may be taken over. */
const ABANDONED_MS = 60 * 1000;
const WAIT_STEP_MS = 20;
const SCOPE = 'store';

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'Repeat the same request with the same key (within 24 h) to get the first answer again, without the work being done twice.',
    }),
  ),
});

const fingerprint = (req: FastifyRequest): string =>
  createHash('sha256').update(`${req.method} ${req.url.split('?')[0]}\n${JSON.stringify(req.body ?? null)}`).digest('hex');

const replay = (reply: FastifyReply, status: number, body: string) =>
  reply.code(status).header('content-type', 'application/json; charset=utf-8').header('idempotent-replayed', 'true').send(body);

export function registerIdempotency(app: FastifyInstance, db: Kysely<StoreSchema>): void {
  const keys = () => db.selectFrom('idempotency_keys');

  async function claim(key: string, hash: string, now: number): Promise<boolean> {
    // Expired or abandoned claims are cleared first, in the same conditional way on every instance.
    await db
      .deleteFrom('idempotency_keys')
      .where('scope', '=', SCOPE)
      .where('key', '=', key)
      .where((eb) =>
        eb.or([eb('created_at', '<', now - KEY_TTL_MS), eb.and([eb('status_code', 'is', null), eb('created_at', '<', now - ABANDONED_MS)])]),
      )
      .execute();
    const inserted = await db
      .insertInto('idempotency_keys')
      .values({ scope: SCOPE, key, request_hash: hash, status_code: null, response_body: null, created_at: now })
      .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  const preHandler = async (req: FastifyRequest, reply: FastifyReply) => {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string') return;
    const hash = fingerprint(req);
    const deadline = Date.now() + ABANDONED_MS;
    while (Date.now() < deadline) {
      if (await claim(key, hash, Date.now())) {
        req.idempotencyKey = key;
        return;
      }
      const row = await keys().select(['request_hash', 'status_code', 'response_body']).where('scope', '=', SCOPE).where('key', '=', key).executeTakeFirst();
      if (!row) continue; // released between our insert and our read: try to claim again
      if (row.request_hash !== hash) {
        return reply.code(422).send({ detail: 'Idempotency-Key was already used with a different request' });
      }
      if (row.status_code !== null && row.response_body !== null) return replay(reply, row.status_code, row.response_body);
      await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
    }
    return reply.code(409).send({ detail: 'A request with this Idempotency-Key is still in progress' });
  };

  const onSend = async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const key = req.idempotencyKey;
    if (key === undefined) return payload;
    if (reply.statusCode >= 500) {
      await db.deleteFrom('idempotency_keys').where('scope', '=', SCOPE).where('key', '=', key).execute();
    } else {
      await db
        .updateTable('idempotency_keys')
        .set({ status_code: reply.statusCode, response_body: String(payload) })
        .where('scope', '=', SCOPE)
        .where('key', '=', key)
        .execute();
    }
    return payload;
  };

  // Only the routes marked `config: { idempotent: true }` get the hooks: the others pay nothing.
  app.addHook('onRoute', (route) => {
    if (!route.config?.idempotent) return;
    route.preHandler = [...asArray(route.preHandler), preHandler];
    route.onSend = [...asArray(route.onSend), onSend];
  });
}

const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Deletes keys older than 24 h. */
export async function sweepIdempotencyKeys(db: Kysely<StoreSchema>, now = Date.now()): Promise<number> {
  const result = await db.deleteFrom('idempotency_keys').where('created_at', '<', now - KEY_TTL_MS).executeTakeFirst();
  return Number(result.numDeletedRows);
}

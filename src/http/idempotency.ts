import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { DoneFuncWithErrOrRes, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely, WhereInterface } from 'kysely';
import type { Database } from '../db/database.js';
import type { StoreSchema } from '../db/schema.js';
import type { ShopDb } from '../sandboxes/shop.js';
import { fail } from '../shared/result.js';

/**
 * `Idempotency-Key` on the store's POSTs, as Stripe does it: the first request with a key does
 * the work and its status and body are stored; a repeat with the same key and the same request
 * within 24 h gets that answer again without doing the work; the same key with another request
 * is refused (422). A concurrent repeat waits for the first to finish and then replays it.
 * 5xx answers are not stored, so a retry after a server error does the work again.
 *
 * Crashes. A claim is a row owned by a random token. The work's own transaction records the
 * answer in that row (`recordIdempotentAnswers`), on the condition that the row is still
 * unanswered and still owned by this request, so the work and its answer commit together or not
 * at all. Hence a claim without an answer means no work was committed, and a request finding
 * one older than ABANDONED_MS (its process died, or it is very slow) may take it over at once:
 * if the old owner is in fact alive, its transaction finds the row no longer its own and rolls
 * back. The exact bytes sent are stored again when the response goes out.
 *
 * Keys are per sandbox: the same key in two sandboxes is two keys.
 */
declare module 'fastify' {
  interface FastifyContextConfig {
    /** `true`: Idempotency-Key is honoured with the store's defaults; options change them (see IdempotencyOptions). */
    idempotent?: boolean | IdempotencyOptions;
  }
  interface FastifyRequest {
    /** The Idempotency-Key claim this request holds while it runs. */
    idempotencyClaim?: IdempotencyClaim;
  }
}

export const KEY_TTL_MS = 24 * 3600 * 1000;
/** An unanswered claim older than this may be taken over (safe at any age: see above); it bounds a retry's wait. */
const ABANDONED_MS = 5 * 1000;
const WAIT_STEP_MS = 20;
/** The key space every store endpoint shares (per sandbox); a per-path route's keys live in `path:<path>` instead. */
const SCOPE = 'store';
export const TAKEN_OVER = 'A request with this Idempotency-Key was taken over by a later one; repeat it to get that answer';

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'Repeat the same request with the same key (within 24 h) to get the first answer again, without the work being done twice.',
    }),
  ),
});

/** The refusals of the idempotency layer, in a route's own words (bodies; the statuses are fixed). */
export interface IdempotencyRefusals {
  /** 400: a route that requires the header got none. */
  missing(): unknown;
  /** 422: the key was used with another request. */
  conflict(): unknown;
  /** 409: the first request with this key is still running. */
  inProgress(): unknown;
}

/**
 * How a route honours Idempotency-Key beyond the defaults (`config: { idempotent: true }`: optional
 * header, one key space per sandbox, answers recorded as 200, refusals as `{"detail": ...}`).
 * The Agentic Commerce Protocol's checkout sessions use every option (its RFC, section 6).
 */
export interface IdempotencyOptions {
  /** A request without the header is refused with 400 (`refusals.missing`). */
  required?: boolean;
  /** Keys are scoped to the request's path: the same key on another path is another key. */
  perPath?: boolean;
  /** The status recorded with an answer that the work's transaction commits: the route's success status. */
  successStatus?: number;
  refusals?: IdempotencyRefusals;
}

const STORE_REFUSALS: IdempotencyRefusals = {
  missing: () => ({ detail: 'Idempotency-Key header is required' }),
  conflict: () => ({ detail: 'Idempotency-Key was already used with a different request' }),
  inProgress: () => ({ detail: 'A request with this Idempotency-Key is still in progress' }),
};

/** The claim a request holds while its handler runs. */
export interface IdempotencyClaim {
  /** The sandbox of the request. */
  sandbox: number;
  /** The key space: SCOPE, or `path:<path>` for a per-path route. */
  scope: string;
  key: string;
  owner: string;
  /** The status an answer recorded by the work's transaction gets. */
  successStatus: number;
  /** Set once a transaction of this request has recorded its answer. */
  recorded: boolean;
}

const claims = new AsyncLocalStorage<IdempotencyClaim>();

/** Narrows an update or delete of idempotency_keys to the row of this claim, while its owner still holds it. */
const claimRow = <Q extends WhereInterface<StoreSchema, 'idempotency_keys'>>(query: Q, claim: IdempotencyClaim): Q =>
  query.where('sandbox', '=', claim.sandbox).where('scope', '=', claim.scope).where('key', '=', claim.key).where('owner', '=', claim.owner) as Q;

/**
 * JSON with object keys sorted at every level: two bodies that differ only in key order are the
 * same request (ACP RFC section 6.2; `1.0` and `1` are already one number once parsed).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

const pathOf = (req: FastifyRequest): string => req.url.split('?')[0]!;

const fingerprint = (req: FastifyRequest): string => createHash('sha256').update(`${req.method} ${pathOf(req)}\n${canonicalJson(req.body)}`).digest('hex');

/**
 * Sends a stored answer again. It goes through the route's response serializer like the first:
 * the answer the work's transaction stored is its plain JSON, whose key order can differ from the
 * serialized first answer (a repeat that arrives before the first's reply is recorded gets that one).
 */
const replay = (reply: FastifyReply, status: number, body: string) =>
  reply.code(status).header('idempotent-replayed', 'true').send(JSON.parse(body) as unknown);

const keyRow = (db: ShopDb, scope: string, key: string) =>
  db.q.selectFrom('idempotency_keys').where('sandbox', '=', db.key).where('scope', '=', scope).where('key', '=', key);

/** The route's options, `true` and `false` included. */
const optionsOf = (req: FastifyRequest): IdempotencyOptions => {
  const config = req.routeOptions.config.idempotent;
  return typeof config === 'object' ? config : {};
};

/**
 * Runs fn outside the answer of the idempotent request it is part of: its transactions never
 * record that answer. For housekeeping a request does on the way (expiring due orders) and for the
 * steps of a request whose answer only its last transaction knows (completing a checkout session).
 */
export const outsideAnswer = <T>(fn: () => Promise<T>): Promise<T> => claims.exit(fn);

/**
 * The store's database, whose transactions also record the answer of the idempotent request they
 * run for (the first one that commits a success, as `200` with the value as JSON): see above.
 * Outside such a request it behaves as the database itself.
 */
export function recordIdempotentAnswers(database: Database<StoreSchema>): Database<StoreSchema> {
  return {
    ...database,
    transact: (fn) =>
      database.transact(async (trx) => {
        const result = await fn(trx);
        const claim = claims.getStore();
        if (!result.ok || !claim || claim.recorded) return result;
        const updated = await claimRow(trx.updateTable('idempotency_keys').set({ status_code: claim.successStatus, response_body: JSON.stringify(result.value) }), claim)
          .where('status_code', 'is', null)
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) !== 1) return fail('conflict', TAKEN_OVER);
        claim.recorded = true;
        return result;
      }),
  };
}

/** Installs the Idempotency-Key hooks; the keys live in the request's shop (`req.shop.db`). */
export function registerIdempotency(app: FastifyInstance): void {
  /** Inserts our claim, or takes over an expired or abandoned one; true if the key is now ours. */
  async function claim(db: ShopDb, scope: string, key: string, hash: string, owner: string, now: number): Promise<boolean> {
    await db.q
      .deleteFrom('idempotency_keys')
      .where('sandbox', '=', db.key)
      .where('scope', '=', scope)
      .where('key', '=', key)
      .where((eb) =>
        eb.or([eb('created_at', '<', now - KEY_TTL_MS), eb.and([eb('status_code', 'is', null), eb('created_at', '<', now - ABANDONED_MS)])]),
      )
      .execute();
    const inserted = await db.q
      .insertInto('idempotency_keys')
      .values({ sandbox: db.key, scope, key, request_hash: hash, status_code: null, response_body: null, created_at: now, owner })
      .onConflict((oc) => oc.columns(['sandbox', 'scope', 'key']).doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Claims the key (undefined: the reply was sent, a replay or a refusal). */
  async function claimOrAnswer(req: FastifyRequest, reply: FastifyReply, key: string): Promise<IdempotencyClaim | undefined> {
    const db = req.shop.db;
    const options = optionsOf(req);
    const refusals = options.refusals ?? STORE_REFUSALS;
    const scope = options.perPath ? `path:${pathOf(req)}` : SCOPE;
    const hash = fingerprint(req);
    const owner = randomBytes(12).toString('hex');
    const deadline = Date.now() + 2 * ABANDONED_MS;
    while (Date.now() < deadline) {
      if (await claim(db, scope, key, hash, owner, Date.now())) return { sandbox: db.key, scope, key, owner, successStatus: options.successStatus ?? 200, recorded: false };
      const row = await keyRow(db, scope, key).select(['request_hash', 'status_code', 'response_body']).executeTakeFirst();
      if (!row) continue; // released between our insert and our read: try to claim again
      if (row.request_hash !== hash) {
        reply.code(422).send(refusals.conflict());
        return undefined;
      }
      if (row.status_code !== null && row.response_body !== null) {
        replay(reply, row.status_code, row.response_body);
        return undefined;
      }
      await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
    }
    reply.code(409).header('retry-after', '1').send(refusals.inProgress());
    return undefined;
  }

  // Before the body is validated: a request without its required key is refused for that first.
  const requireKey = async (req: FastifyRequest, reply: FastifyReply) => {
    if (typeof req.headers['idempotency-key'] !== 'string') return reply.code(400).send((optionsOf(req).refusals ?? STORE_REFUSALS).missing());
  };

  // Callback style: `done` is called inside the claim's async context, so the handler and every
  // transaction it starts see the claim (recordIdempotentAnswers).
  const preHandler = (req: FastifyRequest, reply: FastifyReply, done: DoneFuncWithErrOrRes) => {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string') return done();
    claimOrAnswer(req, reply, key).then(
      (held) => {
        if (!held) return; // answered
        req.idempotencyClaim = held;
        claims.run(held, done);
      },
      (error: Error) => done(error),
    );
  };

  const onSend = async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const held = req.idempotencyClaim;
    if (!held) return payload;
    const db = req.shop.db.q;
    // Only while the claim is still ours: a request that was taken over leaves the row to its successor.
    if (reply.statusCode >= 500) {
      // Nothing was committed unless the work recorded its answer; then that answer stays.
      await claimRow(db.deleteFrom('idempotency_keys'), held).where('status_code', 'is', null).execute();
    } else {
      await claimRow(db.updateTable('idempotency_keys').set({ status_code: reply.statusCode, response_body: String(payload) }), held).execute();
    }
    return payload;
  };

  // Only the routes marked `config: { idempotent: true }` get the hooks: the others pay nothing.
  app.addHook('onRoute', (route) => {
    const config = route.config?.idempotent;
    if (!config) return;
    if (typeof config === 'object' && config.required) route.preValidation = [...asArray(route.preValidation), requireKey];
    route.preHandler = [...asArray(route.preHandler), preHandler];
    route.onSend = [...asArray(route.onSend), onSend];
  });
}

const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Deletes keys older than 24 h, in every sandbox. */
export async function sweepIdempotencyKeys(db: Kysely<StoreSchema>, now = Date.now()): Promise<number> {
  const result = await db.deleteFrom('idempotency_keys').where('created_at', '<', now - KEY_TTL_MS).executeTakeFirst();
  return Number(result.numDeletedRows);
}

import { DEFAULT_MAX_FAULT_RULES } from './faults/rules.js';
/**
 * Every setting of both processes is read here, once, from the environment.
 * A wrong value stops start-up with a message that names the variable.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function read(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? fallback : raw.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = read(env, name, String(fallback));
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got '${raw}'`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = read(env, name, fallback).toLowerCase() as T;
  if (!allowed.includes(raw)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got '${raw}'`);
  return raw;
}

function databaseUrl(env: Env, name: string, fallback: string): string {
  const url = read(env, name, fallback);
  if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(url)) {
    throw new ConfigError(`${name} must be sqlite:<path> or postgres://user@host:port/db, got '${url}'`);
  }
  return url;
}

function httpUrl(env: Env, name: string, fallback: string): string {
  const raw = read(env, name, fallback).replace(/\/+$/, '');
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got '${raw}'`);
  }
  return raw;
}

/** A database URL fit for logs and messages: the user info (`postgres://user:secret@`) is masked. */
export const redactUrl = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@');

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface LogConfig {
  level: LogLevel;
  pretty: boolean;
}

function logConfig(env: Env): LogConfig {
  return {
    level: oneOf(env, 'LOG_LEVEL', 'info', LOG_LEVELS),
    pretty: oneOf(env, 'LOG_FORMAT', 'json', ['json', 'pretty'] as const) === 'pretty',
  };
}

export interface SqliteOptions {
  synchronous: 'normal' | 'full';
}

function sqliteOptions(env: Env): SqliteOptions {
  return { synchronous: oneOf(env, 'SQLITE_SYNCHRONOUS', 'normal', ['normal', 'full'] as const) };
}

function port(env: Env, name: string, fallback: number): number {
  return integer(env, name, fallback, 0, 65535);
}

function webhookSecret(env: Env): string | undefined {
  const secret = env.PAYMENTS_WEBHOOK_SECRET?.trim();
  if (secret !== undefined && secret !== '' && secret.length < 16) {
    throw new ConfigError('PAYMENTS_WEBHOOK_SECRET must be at least 16 characters');
  }
  return secret === '' ? undefined : secret;
}

export interface StoreConfig {
  host: string;
  port: number;
  databaseUrl: string;
  dbPoolSize: number;
  sqlite: SqliteOptions;
  seedFile: string;
  cartTtlSeconds: number;
  orderTtlSeconds: number;
  sweepIntervalMs: number;
  /** Catalogs of at most this many products are served from memory (0: always from SQL). */
  catalogMemoryProducts: number;
  corsOrigins: string[] | '*' | false;
  webhookSecret: string | undefined;
  production: boolean;
  workers: number;
  log: LogConfig;
  /** Sandboxes (issue 9, spec/sandboxes.md sections 1 and 5). */
  sandboxes: SandboxConfig;
  /** The event timeline (issue 10, spec/sandboxes.md section 3). */
  events: EventsConfig;
  /** Webhooks (issue 10, spec/sandboxes.md section 3). */
  webhooks: WebhookConfig;
}

export interface EventsConfig {
  /** MAX_EVENTS_PER_SANDBOX: events kept per sandbox, oldest dropped first (spec section 5). */
  maxPerSandbox: number;
  /**
   * ROOT_EVENTS: what the root shop (`default`) records; sandboxes always record everything.
   * `off` (default): nothing, so the plain store API pays nothing for the timeline (on PostgreSQL a
   * gapless seq serialises the commits of one shop); `changes`: state changes; `all`: requests too.
   */
  root: RootEvents;
}

export type RootEvents = 'off' | 'changes' | 'all';
const ROOT_EVENTS: readonly RootEvents[] = ['off', 'changes', 'all'];

function eventsConfig(env: Env): EventsConfig {
  return {
    maxPerSandbox: integer(env, 'MAX_EVENTS_PER_SANDBOX', 10_000, 1, 10_000_000),
    root: oneOf(env, 'ROOT_EVENTS', 'off', ROOT_EVENTS),
  };
}

export interface WebhookConfig {
  /** WEBHOOK_ALLOWED_HOSTS: lower-case host names and IP addresses; `loopback` stands for 127.0.0.0/8, ::1 and localhost. */
  allowedHosts: string[];
  /** MAX_WEBHOOKS: subscriptions per sandbox (spec/sandboxes.md section 5). */
  maxPerSandbox: number;
  /** Attempts per delivery before it is given up (WEBHOOK_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** Backoff base: attempt n waits about base * 2^(n-1) ms before the next (WEBHOOK_RETRY_BASE_MS). */
  retryBaseMs: number;
  /** One attempt's limit, connect to answer (WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
  /** How often each store process looks for new events and due attempts (WEBHOOK_POLL_INTERVAL_MS). */
  pollIntervalMs: number;
}

export interface SandboxConfig {
  /** Where the store calls the gateway's management endpoints. */
  paymentsUrl: string;
  /** Base URLs clients are told (`store_url`, `payments_url`). */
  publicStoreUrl: string;
  publicPaymentsUrl: string;
  /** Bearer key for management and admin endpoints; undefined: open on a loopback address only. */
  adminApiKey: string | undefined;
  /** Whether the management and admin endpoints are served at all (see adminAccess). */
  adminOpen: boolean;
  ttlSeconds: number;
  maxSandboxes: number;
  maxCatalogProducts: number;
  /** Fault rules per sandbox at most (spec/sandboxes.md section 5). */
  maxFaultRules: number;
}

/** 127.0.0.0/8, ::1 and localhost: only this machine can reach a server listening there. */
export const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);

function sandboxConfig(env: Env, host: string, port: number, production: boolean): SandboxConfig {
  const paymentsPort = integer(env, 'PAYMENTS_PORT', 5000, 0, 65535);
  const paymentsUrl = httpUrl(env, 'PAYMENTS_URL', `http://127.0.0.1:${paymentsPort}`);
  const key = env.ADMIN_API_KEY?.trim() || undefined;
  if (key !== undefined && key.length < 16) throw new ConfigError('ADMIN_API_KEY must be at least 16 characters');
  const loopback = isLoopback(host);
  if (production && key === undefined && !loopback) {
    throw new ConfigError(`ADMIN_API_KEY must be set when NODE_ENV=production and HOST (${host}) is not a loopback address: sandbox management and catalog administration would be reachable by anyone`);
  }
  const localHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    paymentsUrl,
    publicStoreUrl: httpUrl(env, 'PUBLIC_STORE_URL', `http://${localHost}:${port}`),
    publicPaymentsUrl: httpUrl(env, 'PUBLIC_PAYMENTS_URL', paymentsUrl),
    adminApiKey: key,
    adminOpen: key !== undefined || loopback,
    ttlSeconds: integer(env, 'SANDBOX_TTL_SECONDS', 86400, 1),
    maxSandboxes: integer(env, 'MAX_SANDBOXES', 1000, 0, 1_000_000),
    maxCatalogProducts: integer(env, 'MAX_CATALOG_PRODUCTS', 100_000, 1, 10_000_000),
    maxFaultRules: integer(env, 'MAX_FAULT_RULES', DEFAULT_MAX_FAULT_RULES, 0, 10_000),
  };
}

function webhookConfig(env: Env): WebhookConfig {
  const allowedHosts = read(env, 'WEBHOOK_ALLOWED_HOSTS', 'loopback')
    .split(',')
    .map((h) => h.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1'))
    .filter(Boolean);
  for (const host of allowedHosts) {
    if (!/^[a-z0-9.:_-]+$/.test(host)) throw new ConfigError(`WEBHOOK_ALLOWED_HOSTS must be a comma-separated list of host names or IP addresses (or 'loopback'), got '${host}'`);
  }
  return {
    allowedHosts,
    maxPerSandbox: integer(env, 'MAX_WEBHOOKS', 10, 0, 10_000),
    maxAttempts: integer(env, 'WEBHOOK_MAX_ATTEMPTS', 8, 1, 100),
    retryBaseMs: integer(env, 'WEBHOOK_RETRY_BASE_MS', 1000, 10),
    timeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 5000, 100),
    pollIntervalMs: integer(env, 'WEBHOOK_POLL_INTERVAL_MS', 250, 10, 60_000),
  };
}

function corsOrigins(env: Env): StoreConfig['corsOrigins'] {
  const raw = read(env, 'CORS_ORIGINS', '*');
  if (raw === '*') return '*';
  if (raw.toLowerCase() === 'false' || raw.toLowerCase() === 'off') return false;
  const origins = raw.split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of origins) {
    if (!/^https?:\/\/[^/]+$/.test(origin)) {
      throw new ConfigError(`CORS_ORIGINS must be '*', 'off' or a comma-separated list of origins like https://shop.example, got '${origin}'`);
    }
  }
  return origins;
}

export function loadStoreConfig(env: Env = process.env): StoreConfig {
  const production = read(env, 'NODE_ENV', 'development') === 'production';
  const secret = webhookSecret(env);
  if (production && secret === undefined) {
    throw new ConfigError('PAYMENTS_WEBHOOK_SECRET must be set when NODE_ENV=production: the store refuses unsigned payment callbacks there');
  }
  const host = read(env, 'HOST', '127.0.0.1');
  const storePort = port(env, 'PORT', 8000);
  return {
    host,
    port: storePort,
    databaseUrl: databaseUrl(env, 'DATABASE_URL', 'sqlite:./data/store.db'),
    dbPoolSize: integer(env, 'DB_POOL_SIZE', 10, 1, 1000),
    sqlite: sqliteOptions(env),
    seedFile: read(env, 'SEED_FILE', new URL('../seed/catalog.json', import.meta.url).pathname),
    cartTtlSeconds: integer(env, 'CART_TTL_SECONDS', 7 * 24 * 3600, 1),
    orderTtlSeconds: integer(env, 'ORDER_TTL_SECONDS', 900, 1),
    sweepIntervalMs: integer(env, 'SWEEP_INTERVAL_MS', 5000, 50),
    catalogMemoryProducts: integer(env, 'CATALOG_MEMORY_PRODUCTS', 10_000, 0, 1_000_000),
    corsOrigins: corsOrigins(env),
    webhookSecret: secret,
    production,
    workers: integer(env, 'WORKERS', 1, 1, 256),
    log: logConfig(env),
    sandboxes: sandboxConfig(env, host, storePort, production),
    events: eventsConfig(env),
    webhooks: webhookConfig(env),
  };
}

export interface GatewayConfig {
  host: string;
  port: number;
  databaseUrl: string;
  sqlite: SqliteOptions;
  storeUrl: string;
  webhookSecret: string | undefined;
  callbackTimeoutMs: number;
  callbackMaxAttempts: number;
  callbackBaseDelayMs: number;
  /** How often the retry worker looks for due callback deliveries. */
  callbackPollIntervalMs: number;
  /** ADMIN_API_KEY: required as `Authorization: Bearer <key>` by the sandbox management endpoints when set. */
  adminApiKey: string | undefined;
  /** MAX_EVENTS_PER_SANDBOX: the gateway's own event log keeps at most this many per sandbox. */
  maxEventsPerSandbox: number;
  /** ROOT_EVENTS (see EventsConfig): whether the root's payments and callbacks are recorded. */
  rootEvents: boolean;
  log: LogConfig;
}

export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  const storePort = port(env, 'PORT', 8000);
  return {
    host: read(env, 'HOST', '127.0.0.1'),
    port: port(env, 'PAYMENTS_PORT', 5000),
    databaseUrl: databaseUrl(env, 'PAYMENTS_DATABASE_URL', 'sqlite:./data/payments.db'),
    sqlite: sqliteOptions(env),
    // 127.0.0.1, where the store listens by default: `localhost` may resolve to ::1 first and cost a failed connect.
    storeUrl: httpUrl(env, 'STORE_URL', `http://127.0.0.1:${storePort}`),
    webhookSecret: webhookSecret(env),
    callbackTimeoutMs: integer(env, 'CALLBACK_TIMEOUT_MS', 5000, 100),
    callbackMaxAttempts: integer(env, 'CALLBACK_MAX_ATTEMPTS', 6, 1, 100),
    callbackBaseDelayMs: integer(env, 'CALLBACK_BASE_DELAY_MS', 2000, 10),
    callbackPollIntervalMs: integer(env, 'CALLBACK_POLL_INTERVAL_MS', 200, 10, 60_000),
    adminApiKey: read(env, 'ADMIN_API_KEY', '') || undefined,
    maxEventsPerSandbox: eventsConfig(env).maxPerSandbox,
    rootEvents: eventsConfig(env).root !== 'off',
    log: logConfig(env),
  };
}

/** Loads a configuration for a process entry point; a wrong value ends the process with its message. */
export function loadOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Configuration error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

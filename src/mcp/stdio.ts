import { parseArgs } from 'node:util';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import pino from 'pino';
import { httpChannel } from './channels.js';
import { mcpServer, toolNames, type ToolSet } from './server.js';

/**
 * `npm run -s mcp -- --store URL` (and the `store-mcp` bin): the MCP tools over stdio for desktop
 * agent clients, calling a running store over HTTP. stdout carries only MCP messages; logs go to
 * stderr.
 *
 *   --store URL     the store's base URL, or a sandbox's store_url (http://127.0.0.1:8000/sandboxes/run-7)
 *   --payments URL  its gateway's base URL (a sandbox's payments_url); default: the store's URL with port 5000
 *   --tools SET     shop (default), read (only the tools that change nothing) or admin (ADMIN_API_KEY from the environment)
 */

const USAGE = 'usage: npm run -s mcp -- --store URL [--payments URL] [--tools shop|read|admin]';
const SETS: readonly ToolSet[] = ['shop', 'read', 'admin'];

/** The gateway that `npm start` runs beside a store: the same host and path on port 5000. */
export function defaultPaymentsUrl(store: string): string {
  const url = new URL(store);
  url.port = '5000';
  return url.toString().replace(/\/+$/, '');
}

function exitWith(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function httpUrlArgument(name: string, value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value.replace(/\/+$/, '');
  } catch {
    // answered below
  }
  return exitWith(`--${name} must be an http(s) URL, got '${value}'`);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({ options: { store: { type: 'string' }, payments: { type: 'string' }, tools: { type: 'string', default: 'shop' } }, strict: true }));
  } catch (error) {
    exitWith((error as Error).message);
  }
  if (!values.store) exitWith('--store is required');
  const store = httpUrlArgument('store', values.store);
  const payments = values.payments ? httpUrlArgument('payments', values.payments) : defaultPaymentsUrl(store);
  const set = values.tools as ToolSet;
  if (!SETS.includes(set)) exitWith(`--tools must be one of ${SETS.join(', ')}, got '${values.tools}'`);
  const key = process.env.ADMIN_API_KEY?.trim();

  const log = pino({ name: 'mcp', level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
  const server = mcpServer(set, httpChannel(store, payments, key ? `Bearer ${key}` : undefined), log);
  const transport = new StdioServerTransport();
  await server.connect(transport);
  log.info({ store, payments, tools: toolNames(set) }, `MCP stdio server for ${store}`);
  // The client closing our stdin ends the session, once the requests it sent are answered
  // (`printf '<request>' | npm run -s mcp -- …` closes stdin right after its one request).
  let pending = 0;
  let ended = false;
  const finish = () => void server.close().then(() => process.exit(0));
  const receive = transport.onmessage!;
  transport.onmessage = (message: JSONRPCMessage) => {
    if ('method' in message && 'id' in message) pending++;
    receive(message);
  };
  const send = transport.send.bind(transport);
  transport.send = async (message: JSONRPCMessage) => {
    await send(message);
    if (!('method' in message) && 'id' in message && --pending === 0 && ended) finish();
  };
  process.stdin.on('end', () => {
    ended = true;
    if (pending === 0) finish();
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`MCP stdio server failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

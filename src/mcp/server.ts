import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type Tool as ListedTool } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyBaseLogger as Logger } from 'fastify';
import { adminTools } from './admin-tools.js';
import { checkoutSessionTools } from './acp-tools.js';
import { shopTools } from './shop-tools.js';
import { argumentProblems, type Channel, type Tool } from './tools.js';

/**
 * One MCP server over a tool set and a channel. The HTTP endpoints make one per request
 * (stateless Streamable HTTP); the stdio entry makes one for its whole life.
 */

/** The tool sets an endpoint serves: `shop` at /mcp, `read` at /mcp?tools=read, `admin` at /mcp/admin. */
export type ToolSet = 'shop' | 'read' | 'admin';

const SHOP = [...shopTools, ...checkoutSessionTools];
const SETS: Record<ToolSet, Tool[]> = {
  shop: SHOP,
  read: SHOP.filter((tool) => tool.access === 'read'),
  admin: adminTools,
};

/** The listing of a tool: its JSON Schema without TypeBox's symbol keys, and hints for the client. */
const listed = (tool: Tool): ListedTool => ({
  name: tool.name,
  title: tool.title,
  description: tool.description,
  inputSchema: JSON.parse(JSON.stringify(tool.input)) as ListedTool['inputSchema'],
  annotations: { title: tool.title, readOnlyHint: tool.access === 'read', destructiveHint: false, openWorldHint: false },
});

const LISTINGS = Object.fromEntries(Object.entries(SETS).map(([set, tools]) => [set, tools.map(listed)])) as Record<ToolSet, ListedTool[]>;

/** The tools of a set, by name (for tests and the stdio entry's log line). */
export const toolNames = (set: ToolSet): string[] => SETS[set].map((tool) => tool.name);

/** What the server says about itself in `initialize`. */
const INFO = { name: 'store-api', version: '1.0.0' };
const SHOP_INSTRUCTIONS =
  'A shop: find products (search_products), create_cart, add_to_cart, checkout, then pay_order; get_order shows the status. ' +
  'Prices are dollars with 2 decimals. Errors are tool errors carrying the store\'s own message.';
const INSTRUCTIONS: Record<ToolSet, string> = {
  shop: SHOP_INSTRUCTIONS,
  read: `${SHOP_INSTRUCTIONS} Only the tools that change nothing are served here.`,
  admin: 'Sandbox administration: create_sandbox answers a store_url; shop in that sandbox through the MCP endpoint <store_url>/mcp. ' +
    'reset_sandbox, snapshot and restore, advance_clock, get_events and get_state work on one sandbox by its sandbox_id.',
};

/** Runs one tool call: arguments checked against the tool's schema, then the HTTP contract through the channel. */
async function call(tools: Tool[], name: string, args: Record<string, unknown>, channel: Channel, log: Logger): Promise<CallToolResult> {
  const tool = tools.find((t) => t.name === name);
  if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
  const problems = argumentProblems(tool, args);
  if (problems) return { isError: true, content: [{ type: 'text', text: problems }] };
  const outcome = await tool.run(args, channel);
  log.debug({ tool: name, ok: outcome.ok }, 'mcp tool call');
  if (!outcome.ok) {
    return { isError: true, content: [{ type: 'text', text: outcome.message }], ...(outcome.value ? { structuredContent: outcome.value } : {}) };
  }
  // The JSON again as text: clients that show the model only text content still see the answer.
  return { content: [{ type: 'text', text: `${outcome.text}\n${JSON.stringify(outcome.value)}` }], structuredContent: outcome.value };
}

/** A new MCP server serving `set` through `channel`. */
export function mcpServer(set: ToolSet, channel: Channel, log: Logger): Server {
  const server = new Server(INFO, { capabilities: { tools: {} }, instructions: INSTRUCTIONS[set] });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: LISTINGS[set] }));
  server.setRequestHandler(CallToolRequestSchema, (request) => call(SETS[set], request.params.name, request.params.arguments ?? {}, channel, log));
  return server;
}

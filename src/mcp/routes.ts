import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StringEnum, documented } from '../http/schemas.js';
import { injectChannel } from './channels.js';
import { mcpServer, toolNames, type ToolSet } from './server.js';

/**
 * The MCP endpoints (spec/sandboxes.md section 4): Streamable HTTP in stateless mode, a server and
 * a transport per request, answering JSON (no SSE stream: every tool answers in one response).
 * GET and DELETE, which only sessions use, answer 405 with `Allow: POST`.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route is a transport to the shop's operations (POST /mcp): a sandbox's fault rules fire
     * on those operations, each once, not on the transport (an X-Fault header still applies).
     */
    shopTransport?: boolean;
  }
}

export interface McpRouteOptions {
  /** The root instance, whose routes the tools call through inject(). */
  app: FastifyInstance;
  /** Base URL of the gateway (the store's PAYMENTS_URL); a sandbox's is this plus its prefix. */
  paymentsUrl: string;
}

/** Headers of the HTTP exchange itself, which the web Request built below must not carry without its body. */
const HOP_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade']);

/** Serves one MCP POST with a fresh server over `set`, whose tools run against the shop at `base`. */
async function serve(req: FastifyRequest, reply: FastifyReply, set: ToolSet, base: string, options: McpRouteOptions) {
  const channel = injectChannel(options.app, base, `${options.paymentsUrl}${base}`, req.headers.authorization);
  const server = mcpServer(set, channel, req.log);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  try {
    await server.connect(transport);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name)) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await transport.handleRequest(new Request(`http://${req.headers.host ?? 'localhost'}${req.url}`, { method: req.method, headers }), {
      parsedBody: req.body,
    });
    reply.code(response.status);
    response.headers.forEach((value, name) => void reply.header(name, value));
    return reply.send(await response.text());
  } finally {
    await transport.close();
    await server.close();
  }
}

const JSONRPC_REQUEST = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_products', arguments: { search: 'keyboard' } } };
const JSONRPC_RESULT = {
  jsonrpc: '2.0', id: 1,
  result: { content: [{ type: 'text', text: '1 matching products, page 1. ...' }], structuredContent: { total: 1, page: 1, page_size: 10, products: [] } },
};

/** The OpenAPI description of an MCP endpoint. */
const mcpSchema = (operationId: string, summary: string, description: string, admin = false) => ({
  operationId,
  tags: ['agents'],
  summary,
  description:
    `${description} MCP Streamable HTTP (stateless, JSON answers): send JSON-RPC messages with Accept: application/json, text/event-stream. ` +
    'Use an MCP client (e.g. the official SDK\'s StreamableHTTPClientTransport) rather than raw requests.',
  body: Type.Unknown({ description: 'A JSON-RPC 2.0 message of the Model Context Protocol', examples: [JSONRPC_REQUEST] }),
  response: {
    200: documented(Type.Object({ jsonrpc: Type.Literal('2.0') }, { additionalProperties: true }), 'The JSON-RPC response', [JSONRPC_RESULT]),
    202: Type.Null({ description: 'A notification was accepted; no content' }),
    ...(admin ? { 401: documented(Type.Ref('ErrorDetail'), 'Missing or invalid admin key', [{ detail: 'Missing or invalid admin key' }]) } : {}),
    406: documented(Type.Object({ jsonrpc: Type.Literal('2.0') }, { additionalProperties: true }), 'The Accept header lacks application/json or text/event-stream', [
      { jsonrpc: '2.0', error: { code: -32000, message: 'Not Acceptable: Client must accept both application/json and text/event-stream' }, id: null },
    ]),
  },
});

/**
 * POST /mcp of a shop: the shop tools, or only the read tools with `?tools=read`. Registered with
 * the shop routes, so it is also `/sandboxes/{sandbox_id}/mcp` (an unknown sandbox is 404 there).
 */
export const mcpRoutes: FastifyPluginAsyncTypebox<McpRouteOptions> = async (scope, options) => {
  scope.post('/mcp', {
    config: { shopTransport: true },
    schema: {
      ...mcpSchema(
        'mcp',
        'MCP server of the shop (also /sandboxes/{sandbox_id}/mcp for a sandbox)',
        `Tools: ${toolNames('shop').join(', ')}. \`?tools=read\` serves only the tools that change nothing (${toolNames('read').join(', ')}).`,
      ),
      querystring: Type.Object({ tools: Type.Optional(StringEnum(['read'], { description: 'read: only the tools that change nothing' })) }),
    },
  }, (req, reply) => {
    const sandbox = (req.params as { sandbox_id?: string }).sandbox_id;
    return serve(req, reply, req.query.tools === 'read' ? 'read' : 'shop', sandbox === undefined ? '' : `/sandboxes/${encodeURIComponent(sandbox)}`, options);
  });
};

/** POST /mcp/admin: the admin tools, at the root only; the caller registers it behind the admin access rule. */
export const mcpAdminRoutes: FastifyPluginAsyncTypebox<McpRouteOptions> = async (scope, options) => {
  scope.post('/mcp/admin', {
    schema: mcpSchema(
      'mcpAdmin',
      'MCP server of sandbox administration',
      `Tools: ${toolNames('admin').join(', ')}. Needs Authorization: Bearer ADMIN_API_KEY when that is set.`,
      true,
    ),
  }, (req, reply) => serve(req, reply, 'admin', '', options));
};

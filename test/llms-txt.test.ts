import { describe, expect, it } from 'vitest';
import { call, useStore } from './helpers/processes.js';

/**
 * GET /llms.txt is generated from the OpenAPI document: every public operation of /openapi.json
 * is on its path's line, and every path line names a path the document has (nothing stale).
 */
describe('GET /llms.txt', () => {
  const store = useStore();
  const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

  /** `- \`/path\` GET: summary; POST: summary` lines, by path: the methods they name. */
  const pathLines = (text: string): Map<string, string[]> =>
    new Map(
      [...text.matchAll(/^- `(\/[^`]*)` (.*)$/gm)].map(([, path, rest]) => [path!, [...rest!.matchAll(/(?:^|; )(GET|POST|PUT|PATCH|DELETE): /g)].map((m) => m[1]!)]),
    );

  it('is Markdown for agents: what the store is, the purchase flow, the MCP endpoints, the errors', async () => {
    const res = await store.req('GET', '/llms.txt');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(res.text).toMatch(/^# Store API\n\n> An e-commerce store API/);
    expect(res.text).toContain('## Purchase flow\n\n1. `GET /products`');
    expect(res.text).toContain('5. `POST /cart/{cart_id}/checkout`');
    expect(res.text).toContain('`POST /sandboxes/{sandbox_id}/mcp`');
    expect(res.text).toContain('- 404: ');
    expect(res.text).toContain('"Cart not found" (5 endpoints): the cart id is wrong or the cart expired: create a new cart (POST /cart)');
  });

  it('lists every operation of /openapi.json on its path\'s line, and no path the document lacks', async () => {
    const [text, document] = await Promise.all([store.req('GET', '/llms.txt').then((r) => r.text), call('GET', `${store.url()}/openapi.json`).then((r) => r.body)]);
    const listed = pathLines(text);
    const documented = new Map(
      Object.entries<Record<string, unknown>>(document.paths).map(([path, item]) => [path, METHODS.filter((m) => item[m]).map((m) => m.toUpperCase())]),
    );
    expect(documented.size).toBeGreaterThan(25);
    expect(Object.fromEntries(listed)).toEqual(Object.fromEntries(documented));
  });
});

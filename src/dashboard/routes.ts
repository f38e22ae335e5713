import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import { renderShell } from './page.js';

/**
 * The page's script and stylesheet: hand-written files in web/ at the project root (like seed/,
 * found from here in src/, in the compiled dist/ and in the test build alike), read once at start.
 */
const ASSETS = {
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
} as const;
type AssetName = keyof typeof ASSETS;

/**
 * The shell loads only what the store serves (no CDN, no inline script): the browser enforces it,
 * so inserted data can never run as code even if a text slipped past the script's escaping.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

export interface DashboardOptions {
  /** ADMIN_API_KEY is set: the page asks for it and sends it on every API call. */
  keyRequired: boolean;
}

/**
 * `GET /dashboard` and its two assets (spec/sandboxes.md section 3). Registered only where the
 * admin endpoints are served (section 5): where they are disabled, /dashboard is a 404 like them.
 * The shell itself needs no key (a browser's plain GET cannot send a bearer and the page holds no
 * data); every API call the page makes carries `Authorization: Bearer <key>` when one is set.
 */
export const dashboardRoutes: FastifyPluginAsync<DashboardOptions> = async (app, { keyRequired }) => {
  const assets = new Map<AssetName, { body: Buffer; url: string }>();
  for (const name of Object.keys(ASSETS) as AssetName[]) {
    const body = readFileSync(new URL(`../../web/${name}`, import.meta.url));
    // The content hash in the URL lets a browser keep an asset for good and still see a new one.
    const version = createHash('sha256').update(body).digest('hex').slice(0, 12);
    assets.set(name, { body, url: `/dashboard/${name}?v=${version}` });
  }
  const shell = renderShell({ keyRequired, scriptUrl: assets.get('dashboard.js')!.url, styleUrl: assets.get('dashboard.css')!.url });
  const hidden = { schema: { hide: true } };

  app.get('/dashboard', hidden, (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(shell));

  for (const [name, asset] of assets) {
    app.get(`/dashboard/${name}`, hidden, (_req, reply) =>
      reply.type(ASSETS[name]).header('cache-control', 'public, max-age=31536000, immutable').header('x-content-type-options', 'nosniff').send(asset.body));
  }
};

import Fastify from 'fastify';
import { readFileSync } from 'node:fs';

/**
 * The benchmark's yardstick: a bare Fastify route answering the categories JSON from memory, with
 * no database, validation or logging. Store figures are reported as ratios to this one.
 */
const categories = JSON.parse(readFileSync(new URL('../seed/catalog.json', import.meta.url), 'utf8')).categories;
const app = Fastify({ logger: false });
app.get('/categories', () => categories);
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 8090) });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));

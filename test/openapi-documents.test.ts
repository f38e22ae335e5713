import SwaggerParser from '@apidevtools/swagger-parser';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import type { OpenAPI } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startGateway, startStore, type ServerProcess } from './helpers/processes.js';
import { shutdown, startAll } from './helpers/shop.js';

/**
 * Both OpenAPI documents pass a strict validator (swagger-parser) and Redocly's `recommended`
 * ruleset with zero errors, as code generators and agent tool loaders expect. The documents do
 * not depend on the database, so this runs once (vitest.config.ts).
 */
describe('the OpenAPI documents', () => {
  let store: ServerProcess | undefined;
  let gateway: ServerProcess | undefined;

  beforeAll(async () => {
    [store, gateway] = await startAll([() => startStore(), () => startGateway({ storeUrl: 'http://127.0.0.1:9' })]);
  });
  afterAll(() => shutdown(store, gateway));

  const documentOf = async (server: () => ServerProcess | undefined): Promise<Record<string, any>> => {
    const res = await call('GET', `${server()!.url}/openapi.json`);
    expect(res.status).toBe(200);
    return res.body;
  };

  for (const [name, server] of [['store', () => store], ['gateway', () => gateway]] as const) {
    it(`the ${name}'s document passes swagger-parser validate`, async () => {
      const document = await documentOf(server);
      await expect(SwaggerParser.validate(structuredClone(document) as OpenAPI.Document)).resolves.toBeTruthy();
    });

    it(`the ${name}'s document has no error under Redocly's recommended rules`, async () => {
      const document = await documentOf(server);
      const config = await createConfig({ extends: ['recommended'] });
      const problems = await lintFromString({ source: JSON.stringify(document), absoluteRef: `${name}.json`, config });
      const errors = problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
      expect(errors).toEqual([]);
    });

    it(`every operation of the ${name} has an operationId, and every response an example`, async () => {
      const document = await documentOf(server);
      const missing: string[] = [];
      for (const [path, item] of Object.entries<Record<string, any>>(document.paths)) {
        for (const [method, operation] of Object.entries<any>(item)) {
          if (!operation.operationId) missing.push(`${method} ${path}: operationId`);
          for (const [status, response] of Object.entries<any>(operation.responses)) {
            const media = response.content?.['application/json'];
            if (media && media.example === undefined && media.examples === undefined) missing.push(`${method} ${path} ${status}: example`);
          }
        }
      }
      expect(missing).toEqual([]);
    });
  }
});

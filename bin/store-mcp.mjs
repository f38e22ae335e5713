#!/usr/bin/env node
// The `store-mcp` command: the MCP stdio server (src/mcp/stdio.ts). In a checkout it runs the
// TypeScript source through tsx, as the npm scripts do; where tsx is absent (the Docker image,
// whose dev dependencies are pruned) it runs the compiled dist/.
import { URL } from 'node:url';

let register;
try {
  ({ register } = await import('tsx/esm/api'));
} catch {
  register = undefined;
}
if (register) {
  register();
  await import(new URL('../src/mcp/stdio.ts', import.meta.url).href);
} else {
  await import(new URL('../dist/mcp/stdio.js', import.meta.url).href);
}

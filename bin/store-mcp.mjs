#!/usr/bin/env node
// The `store-mcp` command: the MCP stdio server (src/mcp/stdio.ts). From the compiled build when
// there is one (the Docker image's dist/), else from the TypeScript source through tsx, as the
// npm scripts run it.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const built = new URL('../dist/mcp/stdio.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/mcp/stdio.ts', import.meta.url).href);
}
